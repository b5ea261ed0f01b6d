"""MultiConvolution: adjoint, layerwise zero-padded correlation (scipy, torch), block splitting, errors;
the NumPy planes path (_multiconv_planes) and its compiled im2col/col2im against the standard-only path; sandwich."""
import itertools
import threading

import numpy as np
import pytest
import scipy.signal as signal

from recon._compiled import disabled, enabled
from recon.backend import to_numpy
from recon.operators import MultiConvolution, _multiconv_planes, dottest
from recon.operators import multiconv as multiconv_module
from tests.helpers import tolerance
from tests.helpers.multiconv import _channel_fn, _mixed_kernels, _standard

CHANNELS = [(1, 4, 8, 6), (1, 3), (2, 3, 2)]


def _kernels(channels, size=5, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((c_out, c_in, size, size)) for c_in, c_out in itertools.pairwise(channels)]


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
    monkeypatch.setattr(multiconv_module, "_BLOCK_ELEMENTS", 1)  # one row at a time, both paths
    monkeypatch.setattr(_multiconv_planes, "_BLOCK_ELEMENTS", 1)
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


# -- the NumPy planes path against the standard-only path ------------------------------------------
needs_numba = pytest.mark.skipif(not enabled(), reason="numba not installed or RECON_NUMBA=0")

# (channels, kernel sizes): mixed sizes put the 3x3 layers' taps inside a radius-2 padding
LAYOUTS = [((1, 4, 8, 6), (5, 5, 5)), ((1, 3, 2), (3, 5)), ((2, 3, 4), (5, 3)), ((1, 2), (1,)), ((3, 1), (7,))]
SHAPES = [(1, 1), (2, 3), (7, 4), (13, 9), (4, 17)]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("blocks", ["default", "one row"])
def test_planes_path_equals_standard_path(layout, shape, dtype, blocks, monkeypatch):
    if blocks == "one row":
        monkeypatch.setattr(_multiconv_planes, "_BLOCK_ELEMENTS", 1)
    channels, sizes = layout
    ks = [k.astype(dtype) for k in _mixed_kernels(channels, sizes)]
    W = MultiConvolution(ks, shape)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(W.shape_in).astype(dtype)
    y = rng.standard_normal(W.shape_out).astype(dtype)
    assert _multiconv_planes.usable(x, ks)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    # twice each, interleaved: the planes are reused, so stale padding would show on the second round
    for _ in range(2):
        for got, want in ((W(x), _standard(W, "__call__", x)), (W.adjoint(y), _standard(W, "adjoint", y)),
                          (W.sandwich(x, _channel_fn), _standard(W, "sandwich", x, _channel_fn))):
            assert got.dtype == dtype and got.shape == want.shape
            assert np.max(np.abs(got - want)) <= tol * max(1.0, np.max(np.abs(want)))
    assert dottest(W, dtype=dtype) <= (1e-5 if dtype == np.float32 else 1e-13)


@needs_numba
@pytest.mark.parametrize("layout", LAYOUTS[:3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_im2col_col2im_equal_numpy_fallback(layout, dtype, monkeypatch):
    channels, sizes = layout
    ks = [k.astype(dtype) for k in _mixed_kernels(channels, sizes, seed=3)]
    W = MultiConvolution(ks, (11, 6))
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal(W.shape_in).astype(dtype), rng.standard_normal(W.shape_out).astype(dtype)
    compiled = W(x), W.adjoint(y), W.sandwich(x, _channel_fn)
    with disabled():
        W0 = MultiConvolution(ks, (11, 6))
        fallback = W0(x), W0.adjoint(y), W0.sandwich(x, _channel_fn)
    for a, b in zip(compiled, fallback):
        assert a.dtype == dtype
        assert np.max(np.abs(a - b)) <= (1e-5 if dtype == np.float32 else 1e-13) * max(1.0, np.max(np.abs(b)))
    assert dottest(W0, dtype=dtype) <= (1e-5 if dtype == np.float32 else 1e-13)


def test_sandwich_is_adjoint_of_fn_of_forward_and_accepts_new_arrays():
    ks = _kernels((1, 4, 8, 6))
    W = MultiConvolution(ks, (10, 12))
    x = np.random.default_rng(5).standard_normal((10, 12))
    want = W.adjoint(_channel_fn(W(x)))

    def in_place(z):
        z[...] = _channel_fn(z)
        return z

    assert np.allclose(W.sandwich(x, _channel_fn), want, atol=1e-12)
    assert np.allclose(W.sandwich(x, in_place), want, atol=1e-12)
    with pytest.raises(ValueError, match="x has shape"):
        W.sandwich(np.ones((10, 11)), _channel_fn)


def test_sandwich_on_the_standard_path(xp, dtype, make):
    ks = _kernels((1, 3, 4))
    W = MultiConvolution([make(k) for k in ks], (6, 5))
    x = np.random.default_rng(6).standard_normal((6, 5))
    got = W.sandwich(make(x), lambda z: z * z)
    assert got.dtype == dtype
    ref = MultiConvolution(ks, (6, 5))
    want = ref.adjoint(ref(x) ** 2)
    assert np.max(np.abs(to_numpy(got) - want)) <= tolerance(dtype, xp, f64=1e-12, f32=1e-5) * np.max(np.abs(want))


def test_non_contiguous_input():
    ks = _kernels((1, 2, 3))
    W = MultiConvolution(ks, (6, 5))
    x = np.random.default_rng(7).standard_normal((6, 10))[:, ::2]
    y = np.asfortranarray(np.random.default_rng(8).standard_normal((3, 6, 5)))
    assert np.allclose(W(x), _standard(W, "__call__", x), atol=1e-12)
    assert np.allclose(W.adjoint(y), _standard(W, "adjoint", y), atol=1e-12)


def test_concurrent_calls_from_threads():
    """Each concurrent call takes its own planes from the pool."""
    ks = _kernels((1, 4, 8, 6))
    W = MultiConvolution(ks, (40, 33))
    xs = [np.random.default_rng(10 + i).standard_normal((40, 33)) for i in range(6)]
    want = [W.sandwich(x, _channel_fn) for x in xs]
    got = [None] * len(xs)
    start = threading.Barrier(len(xs))

    def work(i):
        start.wait()
        for _ in range(3):
            got[i] = W.sandwich(xs[i], _channel_fn)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(xs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(got, want):
        assert np.array_equal(a, b)
