"""latentdash: explore the latent space of trained generative models in the browser."""

__version__ = "0.1.0"
