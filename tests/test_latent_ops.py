"""latent_ops: interpolation, pixel blends and slider bases (pure numpy)."""

import numpy as np
import pytest

from latentdash import latent_ops as lo
from latentdash.errors import LatentdashError

RNG = np.random.default_rng(0)


def test_lerp_endpoints_and_midpoint():
    a, b = RNG.standard_normal(5), RNG.standard_normal(5)
    p = lo.lerp(a, b, 5)
    assert p.shape == (5, 5) and p.dtype == np.float32
    np.testing.assert_allclose(p[0], a, atol=1e-6)
    np.testing.assert_allclose(p[-1], b, atol=1e-6)
    np.testing.assert_allclose(p[2], (a + b) / 2, atol=1e-6)


def test_slerp_endpoints_norms_and_great_circle():
    a, b = RNG.standard_normal(16), RNG.standard_normal(16) * 2
    p = lo.slerp(a, b, 9)
    np.testing.assert_allclose(p[0], a, atol=1e-5)
    np.testing.assert_allclose(p[-1], b, atol=1e-5)
    norms = np.linalg.norm(p, axis=1)
    np.testing.assert_allclose(norms, np.linspace(np.linalg.norm(a), np.linalg.norm(b), 9), rtol=1e-5)
    # all steps lie in the plane spanned by a and b
    basis, _ = np.linalg.qr(np.stack([a, b], 1))
    resid = p - (p @ basis) @ basis.T
    assert np.abs(resid).max() < 1e-4
    # equal angular steps
    u = p / norms[:, None]
    ang = np.arccos(np.clip((u[:-1] * u[1:]).sum(1), -1, 1))
    np.testing.assert_allclose(ang, ang[0], rtol=1e-3)


def test_slerp_orthogonal_unit_vectors_stays_on_sphere():
    a, b = np.eye(3)[0], np.eye(3)[1]
    p = lo.slerp(a, b, 3)
    np.testing.assert_allclose(p[1], [np.sqrt(0.5), np.sqrt(0.5), 0], atol=1e-6)


@pytest.mark.parametrize("a,b", [(np.zeros(4), np.ones(4)), (np.ones(4), 2 * np.ones(4)), (np.ones(4), -np.ones(4))])
def test_slerp_degenerate_falls_back_to_lerp(a, b):
    np.testing.assert_allclose(lo.slerp(a, b, 5), lo.lerp(a, b, 5), atol=1e-6)


def test_interpolate_validates():
    with pytest.raises(LatentdashError):
        lo.interpolate(np.zeros(2), np.ones(2), 1)
    with pytest.raises(LatentdashError):
        lo.interpolate(np.zeros(2), np.ones(2), 4, "cubic")


def test_pixel_blend():
    xa, xb = np.zeros((1, 2, 2), np.float32), np.ones((1, 2, 2), np.float32)
    p = lo.pixel_blend(xa, xb, 3)
    assert p.shape == (3, 1, 2, 2)
    np.testing.assert_allclose(p[:, 0, 0, 0], [0, 0.5, 1])
    with pytest.raises(LatentdashError):
        lo.pixel_blend(xa, np.ones((1, 3, 3)), 3)


@pytest.mark.parametrize("bad", [[1, 2], [1, 2, float("nan")], [1, 2, float("inf")], "abc", [[1, 2, 3]], [1, 2, 1e9]])
def test_as_vector_rejects(bad):
    with pytest.raises(LatentdashError) as e:
        lo.as_vector(bad, 3)
    assert "\n" not in str(e.value)


def test_as_vector_accepts():
    v = lo.as_vector([1, 2.5, -3], 3)
    assert v.dtype == np.float32 and v.tolist() == [1, 2.5, -3]


def test_top_variance_dims():
    x = RNG.standard_normal((500, 6)) * np.array([1, 5, 0.1, 3, 0.2, 4])
    assert lo.top_variance_dims(x, 3).tolist() == [1, 3, 5]
    assert lo.top_variance_dims(x, 99).tolist() == list(range(6))


def test_basis_roundtrip_and_partial_basis_keeps_the_rest():
    d = 6
    q, _ = np.linalg.qr(RNG.standard_normal((d, d)))
    basis, origin = q.T[:3], RNG.standard_normal(d)
    z = RNG.standard_normal(d)
    coords = lo.to_basis(z, basis, origin)
    np.testing.assert_allclose(lo.from_basis(z, coords, basis, origin), z, atol=1e-5)
    moved = lo.from_basis(z, coords + np.array([1.0, 0, 0]), basis, origin)
    np.testing.assert_allclose(moved - z, basis[0], atol=1e-5)


def test_set_dims():
    z = lo.set_dims(np.zeros(4), [7, 8], [1, 3])
    assert z.tolist() == [0, 7, 0, 8]
