"""Serving: ServeConfig, create_app(config) and the `latentdash serve` command."""
