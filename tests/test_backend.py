"""Backend: namespaces follow the data, the default backend only decides created arrays."""
import numpy as np
import pytest

from recon import backend
from recon.operators import Gradient, random_like


def test_namespace_follows_input(xp, dtype, make):
    x = make(np.ones((3, 4)))
    assert backend.array_namespace(x) is xp or backend.array_namespace(x).__name__ == xp.__name__
    y = Gradient((3, 4))(x)
    assert y.dtype == dtype
    assert type(y) is type(x)


def test_default_backend_and_context():
    assert backend.get_default() == "numpy"
    with backend.use("numpy") as xp:
        assert backend.is_numpy(xp)
    with pytest.raises(ValueError, match="backend must be one of"):
        backend.set_default("torch")
    assert backend.get_default() == "numpy"


def test_use_restores_on_error():
    with pytest.raises(RuntimeError):
        with backend.use("numpy"):
            raise RuntimeError("boom")
    assert backend.get_default() == "numpy"


def test_mixing_libraries_names_them():
    xs = pytest.importorskip("array_api_strict")
    with pytest.raises(TypeError, match=r"array_api_strict.*numpy|numpy.*array_api_strict"):
        backend.array_namespace(np.zeros(3), xs.zeros(3))


def test_check_finite_names_argument():
    with pytest.raises(ValueError, match="image contains NaN"):
        backend.check_finite(np.array([1.0, np.nan]), "image")
    backend.check_finite(np.array([1.0, 2.0]), "image")


@pytest.mark.parametrize("mode", ["zero", "symmetric"])
def test_pad_edge_matches_numpy(xp, make, mode):
    a = np.arange(20.0).reshape(4, 5)
    widths = [(2, 1), (0, 3)]
    got = backend.to_numpy(backend.pad_edge(make(a), widths, mode=mode))
    ref = np.pad(a, widths, mode="constant" if mode == "zero" else "symmetric")
    assert np.array_equal(got, ref)


def test_apply_into_writes_view(xp, make):
    out = make(np.zeros((3, 4)))
    a, b = make(np.ones((3, 4))), make(np.full((3, 4), 3.0))
    backend.apply_into("subtract", out, a[1:, ...], b[1:, ...], index=(slice(1, None), ...))
    res = backend.to_numpy(out)
    assert np.all(res[0] == 0) and np.all(res[1:] == -2)


def test_random_like_dtype_and_seed(xp, dtype):
    a = random_like((3, 2), xp=xp, dtype=dtype, seed=4)
    b = random_like((3, 2), xp=xp, dtype=dtype, seed=4)
    assert a.dtype == dtype
    assert np.array_equal(backend.to_numpy(a), backend.to_numpy(b))


def test_asarray_roundtrip():
    a = np.arange(6.0).reshape(2, 3)
    b = backend.asarray(a, backend="numpy", dtype=np.float32)
    assert b.dtype == np.float32 and np.array_equal(backend.to_numpy(b), a)

