"""recon.fusion.bands, recon.fuse on a (bands, h, w) stack.

Dask (threads, a distributed Client) equals the serial loop; shared kernel and warp.
"""
import numpy as np
import pytest
from scipy import signal

import recon
from recon.fusion import bands
from tests.helpers.fusion import scene


def _stack(bands=3, n=32, shift=(0, 0), seed=0):
    """Bands of different scenes' contrasts sharing one photo's edges, blurred by a shifted delta, block mean 4."""
    truth, photo = scene(n, seed=seed)
    rng = np.random.default_rng(seed)
    m = 2
    k = np.zeros((5, 5))
    k[m + shift[0], m + shift[1]] = 1.0
    out = []
    for _ in range(bands):
        band = truth * rng.uniform(0.5, 1.5) + rng.uniform(0, 0.2)
        blurred = signal.convolve(np.pad(band, m, mode="symmetric"), k, mode="same")[m:-m, m:-m]
        out.append(blurred.reshape(n // 4, 4, n // 4, 4).mean(axis=(1, 3)))
    return np.stack(out), photo


def _serial(stack, photo, **kwargs):
    return [recon.fuse(stack[b], photo, 4, **kwargs) for b in range(stack.shape[0])]


def _assert_equal_to(res, serial):
    for b, s in enumerate(serial):
        assert np.array_equal(res.x[b], s.x)
        assert np.array_equal(res.kernel[b], s.kernel)
        assert np.array_equal(res.warp[b].matrix, s.warp.matrix)
        assert res.history["bands"][b]["objective"] == s.history["objective"]


def test_threads_equal_the_serial_loop():
    pytest.importorskip("dask")
    stack, photo = _stack()
    kwargs = {"kernel_size": 5, "iters": 8, "registration": "rigid"}
    res = recon.fuse(stack, photo, 4, num_workers=2, **kwargs)
    assert res.x.shape == (3, 32, 32) and res.kernel.shape == (3, 5, 5) and len(res.warp) == 3
    _assert_equal_to(res, _serial(stack, photo, **kwargs))


def test_without_dask_the_loop_runs(monkeypatch):
    monkeypatch.setattr(bands, "_dask", lambda: None)
    stack, photo = _stack(bands=2)
    res = recon.fuse(stack, photo, 4, kernel_size=5, iters=5)
    _assert_equal_to(res, _serial(stack, photo, kernel_size=5, iters=5))


def test_distributed_client_equals_the_serial_loop():
    distributed = pytest.importorskip("dask.distributed")
    stack, photo = _stack(bands=2)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        res = recon.fuse(stack, photo, 4, kernel_size=5, iters=5, client=client)
    _assert_equal_to(res, _serial(stack, photo, kernel_size=5, iters=5))


def test_shared_kernel_and_warp_from_the_band_mean():
    """All bands blurred by the same shifted delta: one kernel, its mass at the shift.

    Each band is then fused with it fixed.
    """
    stack, photo = _stack(bands=3, n=48, shift=(1, -1), seed=1)
    res = recon.fuse(stack, photo, 4, kernel_size=5, iters=60, kernel_weight=0.0, weight=1e-3, shared=True)
    k = res.kernel
    assert k.shape == (5, 5) and not isinstance(res.warp, list)
    r, c = np.mgrid[:5, :5]
    assert abs(float((k * r).sum()) - 3) < 0.5 and abs(float((k * c).sum()) - 1) < 0.5, k
    assert np.allclose(res.extras["shared"].kernel, k)
    ref = recon.fuse(stack[2], photo, 4, kernel=k, blind=False, warp=res.warp, iters=60, weight=1e-3)
    assert np.array_equal(res.x[2], ref.x)


def test_stack_errors_name_the_argument():
    stack, photo = _stack(bands=2)
    with pytest.raises(ValueError, match="callback is not supported for a stack"):
        recon.fuse(stack, photo, 4, kernel_size=5, callback=lambda k, x: False)
    with pytest.raises(TypeError, match=r"client must be a dask\.distributed\.Client, got str"):
        recon.fuse(stack, photo, 4, kernel_size=5, client="tcp://nowhere")
    with pytest.raises(ValueError, match="num_workers must be a positive int, got 0"):
        recon.fuse(stack, photo, 4, kernel_size=5, num_workers=0)
    with pytest.raises(ValueError, match=r"data must be a band \(h, w\) or a stack"):
        recon.fuse(stack[None], photo, 4)
    with pytest.raises(ValueError, match="warp must be a Warp or a finite 2x3 matrix"):
        recon.fuse(stack[0], photo, 4, kernel_size=5, warp=np.eye(2))
    with pytest.raises(ValueError, match="warp must have A a rotation for registration='rigid'"):
        recon.fuse(stack[0], photo, 4, kernel_size=5, registration="rigid", warp=[[1.1, 0, 0], [0, 1, 0]])
