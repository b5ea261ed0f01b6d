"""MultiConvolution: adjoint, layerwise zero-padded correlation (scipy, torch), block splitting, errors."""
import numpy as np
import pytest
import scipy.signal as signal

from recon.backend import to_numpy
from recon.operators import MultiConvolution, dottest
from recon.operators import multiconv as multiconv_module
from tests.conftest import tolerance

CHANNELS = [(1, 4, 8, 6), (1, 3), (2, 3, 2)]


def _kernels(channels, size=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((c_out, c_in, size, size)) for c_in, c_out in zip(channels[:-1], channels[1:])]


def _brute(u, kernels):
    """Layer by layer: out_o = sum_i correlate(u_i, k_oi, 'same'), zero outside the image."""
    u = u[None] if u.ndim == 2 else u
    for k in kernels:
        u = np.stack([sum(signal.correlate(u[i], k[o, i], mode="same") for i in range(k.shape[1]))
                      for o in range(k.shape[0])])
    return u


@pytest.mark.parametrize("channels", CHANNELS)
@pytest.mark.parametrize("shape", [(9, 11), (4, 3)])
def test_adjoint(channels, shape, xp, dtype, make):
    W = MultiConvolution([make(k, xp.float64) for k in _kernels(channels)], shape)
    assert dottest(W, xp=xp, dtype=dtype) <= tolerance(dtype, xp)
    assert dottest(W.T, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


@pytest.mark.parametrize("channels", CHANNELS)
def test_matches_layerwise_scipy_correlation(channels, xp, dtype, make):
    ks = _kernels(channels, size=3 if len(channels) == 2 else 5)
    shape = (10, 7)
    u = np.random.default_rng(2).standard_normal(shape if channels[0] == 1 else (channels[0], *shape))
    got = to_numpy(MultiConvolution([make(k) for k in ks], shape)(make(u)))
    assert got.shape == (channels[-1], *shape)

    scale = np.abs(_brute(u, ks)).max()
    assert np.allclose(got, _brute(u, ks), atol=tolerance(dtype, xp, f64=1e-12, f32=1e-5) * scale)


def test_not_one_big_convolution_at_the_border():
    """Intermediate crops matter: the chain differs from the single composed 9x9 kernel near the edge."""
    ks = _kernels((1, 2, 1))
    u = np.random.default_rng(3).standard_normal((12, 12))
    got = MultiConvolution(ks, u.shape)(u)[0]
    composed = signal.convolve(ks[0][0, 0], ks[1][0, 0]) + signal.convolve(ks[0][1, 0], ks[1][0, 1])
    single = signal.correlate(u, composed, mode="same")
    assert np.allclose(got[4:-4, 4:-4], single[4:-4, 4:-4])
    assert not np.allclose(got, single)


def test_row_blocks_give_the_same_result(monkeypatch):
    ks = _kernels((1, 4, 8, 6))
    u = np.random.default_rng(4).standard_normal((13, 9))
    y = np.random.default_rng(5).standard_normal((6, 13, 9))
    W = MultiConvolution(ks, u.shape)
    fwd, adj = W(u), W.adjoint(y)
    monkeypatch.setattr(multiconv_module, "_BLOCK_ELEMENTS", 1)  # one row at a time
    W1 = MultiConvolution(ks, u.shape)
    assert np.allclose(W1(u), fwd, atol=1e-12)
    assert np.allclose(W1.adjoint(y), adj, atol=1e-12)


def test_matches_torch_conv2d_chain():
    torch = pytest.importorskip("torch")
    ks = _kernels((1, 4, 8, 6))
    u = np.random.default_rng(6).standard_normal((16, 15))
    y = np.random.default_rng(7).standard_normal((6, 16, 15))
    t = torch.from_numpy(u)[None, None]
    s = torch.from_numpy(y)[None]
    for k in ks:
        t = torch.nn.functional.conv2d(t, torch.from_numpy(k), padding=2)
    for k in reversed(ks):
        s = torch.nn.functional.conv_transpose2d(s, torch.from_numpy(k), padding=2)
    W = MultiConvolution(ks, u.shape)
    assert np.allclose(W(u), t[0].numpy(), atol=1e-11)
    assert np.allclose(W.adjoint(y), s[0, 0].numpy(), atol=1e-11)


def test_float32_stays_float32():
    ks = [k.astype(np.float32) for k in _kernels((1, 4, 8, 6))]
    W = MultiConvolution(ks, (8, 8))
    assert W(np.ones((8, 8), np.float32)).dtype == np.float32
    assert W.adjoint(np.ones((6, 8, 8), np.float32)).dtype == np.float32


@pytest.mark.parametrize(
    "kernels, shape, match",
    [
        ([], (4, 4), "kernels"),
        ([np.ones((2, 1, 4, 4))], (4, 4), r"kernels\[0\]"),
        ([np.ones((2, 1, 3, 3)), np.ones((2, 3, 3, 3))], (4, 4), r"kernels\[1\] takes 3"),
        ([np.full((2, 1, 3, 3), np.nan)], (4, 4), "NaN"),
        ([np.ones((2, 1, 3, 3))], (4,), "shape"),
    ],
)
def test_errors(kernels, shape, match):
    with pytest.raises(ValueError, match=match):
        MultiConvolution(kernels, shape)


def test_wrong_input_shape_names_argument():
    W = MultiConvolution(_kernels((1, 2)), (5, 5))
    with pytest.raises(ValueError, match="x has shape"):
        W(np.ones((4, 5)))
