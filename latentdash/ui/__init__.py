"""The Explorer page: layout, figures, pure handlers and thin callback wiring (no data loading)."""
