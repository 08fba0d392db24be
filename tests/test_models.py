import numpy as np
import pytest
import torch

from latentdash.errors import LatentdashError
from latentdash.models import ARCHITECTURES, PCAModel, TorchLatentModel, build_net


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 8, 8)])
def test_nets_round_trip_shapes_and_range(arch, shape):
    net, kind = build_net(arch, {"image_shape": shape, "latent_dim": 3})
    m = TorchLatentModel(net, latent_dim=3, image_shape=shape, kind=kind)
    x = np.random.default_rng(0).random((5,) + shape, dtype=np.float32)
    z = m.encode(x)
    assert z.shape == (5, 3) and z.dtype == np.float32
    r = m.decode(z)
    assert r.shape == (5,) + shape
    assert r.min() >= 0 and r.max() <= 1
    assert kind == ("vae" if "vae" in arch else "ae")


def test_vae_encode_is_deterministic_mean():
    net, _ = build_net("conv-vae", {"image_shape": (1, 28, 28), "latent_dim": 4})
    m = TorchLatentModel(net, latent_dim=4, image_shape=(1, 28, 28), kind="vae")
    x = np.random.default_rng(1).random((3, 1, 28, 28), dtype=np.float32)
    assert np.array_equal(m.encode(x), m.encode(x))


def test_conv_needs_divisible_size():
    with pytest.raises(LatentdashError, match="divisible by 4"):
        build_net("conv-vae", {"image_shape": (1, 30, 30), "latent_dim": 4})


def test_unknown_architecture():
    with pytest.raises(LatentdashError, match="unknown architecture 'resnet'"):
        build_net("resnet", {"image_shape": (1, 28, 28), "latent_dim": 4})


def test_pca_model_reconstructs_better_with_more_components(fashion_test):
    x = fashion_test.float_images(np.arange(2000))
    errs = []
    for k in (2, 16):
        p = PCAModel.fit(x, k)
        r = p.decode(p.encode(x))
        assert r.min() >= 0 and r.max() <= 1
        errs.append(float(((r - x) ** 2).mean()))
    assert errs[1] < errs[0] * 0.7
    assert p.sample_prior(7, seed=1).shape == (7, 16)


def test_batches_larger_than_batch_size():
    net, kind = build_net("mlp-ae", {"image_shape": (1, 8, 8), "latent_dim": 2})
    m = TorchLatentModel(net, latent_dim=2, image_shape=(1, 8, 8), kind=kind, batch_size=7)
    x = np.random.default_rng(0).random((20, 1, 8, 8), dtype=np.float32)
    with torch.inference_mode():
        ref = net.encode_tensor(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(m.encode(x), ref, atol=1e-5)
