"""reconstruct_stack: the Dask result is the serial loop's, threaded and on a local distributed cluster."""
import sys

import numpy as np
import pytest

from recon import ct, data


@pytest.fixture(scope="module")
def stack():
    angles = ct.uniform_angles(40)
    u = np.asarray(data.shepp_logan(32))
    slices = [ct.sinogram(u * (1.0 + 0.1 * k), angles, noise=0.01, seed=k) for k in range(3)]
    return np.stack(slices), angles


CASES = [("fbp", {}), ("cgls", dict(iters=5)), ("tv", dict(weight=0.5, iters=20))]


@pytest.mark.parametrize("method, kwargs", CASES)
def test_threads_match_the_serial_loop(stack, method, kwargs):
    pytest.importorskip("dask")
    sinos, angles = stack
    got = ct.reconstruct_stack(sinos, angles, method, **kwargs)
    want = np.stack([ct.reconstruct(s, angles, method, **kwargs) for s in sinos])
    assert got.shape == (3, 32, 32) and got.dtype == sinos.dtype
    assert np.array_equal(got, want)
    assert not np.array_equal(got[0], got[1])  # slices are not mixed up or repeated


def test_distributed_client_matches_the_serial_loop(stack):
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    sinos, angles = stack
    want = np.stack([ct.reconstruct(s, angles, "cgls", iters=5) for s in sinos])
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        got = ct.reconstruct_stack(sinos, angles, "cgls", client=client, iters=5)
    assert np.array_equal(got, want)


def test_float32_and_one_thread(stack):
    pytest.importorskip("dask")
    sinos, angles = stack
    got = ct.reconstruct_stack(sinos.astype(np.float32), angles, num_workers=1, filter="hann")
    assert got.dtype == np.float32
    assert np.array_equal(got[2], ct.fbp(sinos[2].astype(np.float32), angles, filter="hann"))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(sinograms=np.zeros((40, 46))), ValueError, "sinograms must be 3-D"),
    (dict(sinograms=[[[0.0]]]), TypeError, "sinograms must be an array"),
    (dict(method="art"), ValueError, "method must be one of"),
    (dict(return_result=True), ValueError, "return_result is not supported"),
    (dict(num_workers=0), ValueError, "num_workers"),
    (dict(client="tcp://nowhere"), TypeError, "client must be a dask.distributed.Client"),
])
def test_bad_arguments(stack, kwargs, error, match):
    pytest.importorskip("dask")
    sinos, angles = stack
    args = dict(sinograms=sinos, angles=angles) | kwargs
    with pytest.raises(error, match=match):
        ct.reconstruct_stack(**args)


def test_errors_of_a_slice_surface(stack):
    pytest.importorskip("dask")
    sinos, angles = stack
    with pytest.raises(ValueError, match="weight"):
        ct.reconstruct_stack(sinos, angles, "tv")  # tv needs weight


def test_without_dask_the_error_names_the_extra(stack, monkeypatch):
    sinos, angles = stack
    monkeypatch.setitem(sys.modules, "dask", None)  # import dask now raises ImportError
    with pytest.raises(ImportError, match=r"recon\[dask\]"):
        ct.reconstruct_stack(sinos, angles)
