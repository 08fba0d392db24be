"""Models: the LatentModel protocol, built-in nets, the PCA baseline, checkpoints and adapters."""

from .adapters import from_factory, from_torchscript, load_model, validate_model
from .checkpoint import load_checkpoint, save_checkpoint
from .nets import ARCHITECTURES, build_net
from .pca import PCAModel
from .protocol import LatentModel, TorchLatentModel

__all__ = [
    "LatentModel",
    "TorchLatentModel",
    "PCAModel",
    "ARCHITECTURES",
    "build_net",
    "load_checkpoint",
    "save_checkpoint",
    "load_model",
    "validate_model",
    "from_factory",
    "from_torchscript",
]
