import sys
import textwrap

import numpy as np
import pytest
import torch

from latentdash.errors import LatentdashError
from latentdash.models import load_model


@pytest.fixture
def factory_module(tmp_path, monkeypatch):
    (tmp_path / "mymodels.py").write_text(
        textwrap.dedent("""
        import torch
        from torch import nn

        class Tiny(nn.Module):
            latent_dim = 3
            image_shape = (1, 8, 8)
            def __init__(self, scale=1.0):
                super().__init__()
                self.e = nn.Linear(64, 3); self.d = nn.Linear(3, 64); self.scale = scale
            def encode(self, x):
                return self.e(x.flatten(1))
            def decode(self, z):
                return (torch.sigmoid(self.d(z)) * self.scale).view(-1, 1, 8, 8)

        class Gen(Tiny):
            encode = None

        def good():
            torch.manual_seed(0); return Tiny()
        def out_of_range():
            return Tiny(scale=4.0)
        def wrong_shape():
            m = Tiny(); m.image_shape = (1, 9, 9); return m
        def generator():
            return Gen()
        def missing_attr():
            return object()
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("mymodels", None)


def test_factory_model(factory_module, digits):
    m = load_model("mymodels:good")
    x = digits.float_images(np.arange(5))
    z = m.encode(x)
    assert z.shape == (5, 3) and m.kind == "ae" and m.has_encoder
    assert m.decode(z).shape == (5, 1, 8, 8)


def test_factory_generator_without_encoder(factory_module):
    m = load_model("mymodels:generator")
    assert m.kind == "generator" and not m.has_encoder
    assert m.decode(m.sample_prior(4, seed=0)).shape == (4, 1, 8, 8)
    with pytest.raises(LatentdashError, match="no encode"):
        m.encode(np.zeros((1, 1, 8, 8), np.float32))


@pytest.mark.parametrize(
    "name, msg",
    [
        ("out_of_range", r"expected images in \[0, 1\]"),
        ("wrong_shape", "decode returned shape"),
        ("missing_attr", "without 'decode'"),
        ("nonexistent", "cannot import factory"),
    ],
)
def test_factory_validation_errors(factory_module, name, msg):
    with pytest.raises(LatentdashError, match=msg):
        load_model(f"mymodels:{name}")


def test_torchscript_model(tmp_path, digits):
    class TS(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.latent_dim = 2
            self.image_shape = [1, 8, 8]
            self.e = torch.nn.Linear(64, 2)
            self.d = torch.nn.Linear(2, 64)

        @torch.jit.export
        def encode(self, x):
            return self.e(x.flatten(1))

        @torch.jit.export
        def decode(self, z):
            return torch.sigmoid(self.d(z)).view(-1, 1, 8, 8)

        def forward(self, x):
            return self.decode(self.encode(x))

    p = tmp_path / "model.ts"
    torch.jit.save(torch.jit.script(TS()), str(p))
    m = load_model(str(p))
    assert m.latent_dim == 2 and m.image_shape == (1, 8, 8)
    z = m.encode(digits.float_images(np.arange(3)))
    assert z.shape == (3, 2)


def test_torchscript_without_decode(tmp_path):
    class NoDecode(torch.nn.Module):
        def forward(self, x):
            return x

    p = tmp_path / "nodecode.ts"
    torch.jit.save(torch.jit.script(NoDecode()), str(p))
    with pytest.raises(LatentdashError, match="no decode method"):
        load_model(str(p))
