"""One backend/dtype fixture for the whole suite.

``xp`` runs a test on NumPy, on ``array_api_strict`` (which rejects anything outside the array
API standard) and on CuPy when a GPU is present (skipped cleanly otherwise); ``dtype`` on float32
and float64.  ``make`` turns a NumPy array into one of the namespace and dtype under test.
"""
import numpy as np
import pytest

BACKENDS = ["numpy", "array_api_strict", "cupy"]


def _namespace(name):
    if name == "numpy":
        import array_api_compat.numpy as xp

        return xp
    if name == "array_api_strict":
        xp = pytest.importorskip("array_api_strict")
        return xp
    pytest.importorskip("cupy")
    import cupy

    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no GPU")
    except Exception:
        pytest.skip("no GPU")
    import array_api_compat.cupy as xp

    return xp


@pytest.fixture(params=BACKENDS)
def xp(request):
    return _namespace(request.param)


@pytest.fixture(params=["float32", "float64"])
def dtype(request, xp):
    return getattr(xp, request.param)


@pytest.fixture
def make(xp, dtype):
    """``make(np_array)`` -> array of the namespace and dtype under test."""
    from recon.backend import asarray

    def _make(a, dt=None):
        return asarray(np.asarray(a), xp=xp, dtype=dtype if dt is None else dt)

    return _make
