"""Datasets: a registry of ids and loaders, and the bundled Fashion-MNIST test split."""

from .dataset import ImageDataset
from .registry import BUILTIN_IDS, FASHION_CLASSES, load_dataset

__all__ = ["ImageDataset", "load_dataset", "BUILTIN_IDS", "FASHION_CLASSES"]
