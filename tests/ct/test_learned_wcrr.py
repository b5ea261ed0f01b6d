"""``recon.ct.reconstruct(..., method="wcrr")`` (monotone APG on a non-convex problem) and the start
``x0`` of the iterative methods.  A small random WCRR stands in for the published weights."""
import numpy as np
import pytest

from recon import ct, data, metrics
from recon.learned import weights
from tests.helpers.ridge import make_reg


@pytest.fixture(scope="module")
def sparse_view():
    u = data.shepp_logan(32)
    theta = ct.uniform_angles(12)
    return u, theta, ct.sinogram(u, theta, noise=0.01, seed=0)


@pytest.fixture
def small_wcrr(monkeypatch):
    monkeypatch.setitem(weights._loaded, "wcrr", make_reg("wcrr"))


def test_wcrr_reaches_a_critical_point_from_the_fbp(small_wcrr, sparse_view):
    u, theta, p = sparse_view
    first = ct.reconstruct(p, theta, "wcrr", weight=0.5, shape=u.shape, iters=1, return_result=True)
    # tol 3e-5: the stationarity rule fires after ~150 iterations (the default 1e-6 after ~930, 6x the time)
    res = ct.reconstruct(p, theta, "wcrr", weight=0.5, shape=u.shape, tol=3e-5, return_result=True)
    assert "WCRR-NN" in res.message and "monotone APG" in res.message
    assert res.converged and res.iterations < 3000  # a stopping rule fires before the default iters
    assert float(res.x.min()) >= 0
    F = np.array(res.history["objective"])
    assert np.all(np.diff(F) <= 1e-12 * abs(F[0]))
    assert res.extras["stationarity"] < first.extras["stationarity"] / 100
    fbp = ct.fbp(p, theta, shape=u.shape)
    assert metrics.psnr(res.x, u, data_range=1) > metrics.psnr(fbp, u, data_range=1) + 3


def test_learned_methods_start_from_the_projected_fbp(small_wcrr, sparse_view):
    u, theta, p = sparse_view
    start = np.maximum(ct.fbp(p, theta, shape=u.shape), 0)
    kw = dict(weight=0.5, shape=u.shape, iters=5, tol=0)
    default = ct.reconstruct(p, theta, "wcrr", **kw)
    assert np.array_equal(default, ct.reconstruct(p, theta, "wcrr", x0="fbp", **kw))
    assert np.array_equal(default, ct.reconstruct(p, theta, "wcrr", x0=start - 1.0 * (start == 0), **kw))
    assert not np.allclose(default, ct.reconstruct(p, theta, "wcrr", x0="zeros", **kw))


def test_x0_is_used_by_tv_and_projected(sparse_view):
    u, theta, p = sparse_view
    kw = dict(weight=0.05, shape=u.shape, iters=1, tol=0)
    zero = ct.reconstruct(p, theta, "tv", **kw)
    assert np.array_equal(zero, ct.reconstruct(p, theta, "tv", x0=np.zeros(u.shape), **kw))
    assert not np.allclose(zero, ct.reconstruct(p, theta, "tv", x0=u, **kw))
    landweber = ct.reconstruct(p, theta, "landweber", shape=u.shape, iters=1)
    assert np.array_equal(landweber, ct.reconstruct(p, theta, "landweber", x0=-np.ones(u.shape), shape=u.shape,
                                                    iters=1))  # projected on x >= 0: zeros


@pytest.mark.parametrize(("x0", "error", "match"), [("ones", ValueError, "x0"),
                                                    (np.zeros((5, 5)), ValueError, "x0 must have the image shape"),
                                                    (np.full((32, 32), np.nan), ValueError, "x0"),
                                                    ([[0.0]], TypeError, "x0")])
def test_bad_x0_is_named(sparse_view, x0, error, match):
    u, theta, p = sparse_view
    with pytest.raises(error, match=match):
        ct.reconstruct(p, theta, "tv", weight=0.1, shape=u.shape, iters=2, x0=x0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_wcrr_keeps_the_dtype(small_wcrr, sparse_view, dtype):
    u, theta, p = sparse_view
    x = ct.reconstruct(p.astype(dtype), theta, "wcrr", weight=0.5, shape=u.shape, iters=20,
                       x0=np.zeros(u.shape, dtype=np.float64))
    assert x.dtype == dtype and x.shape == u.shape


def test_wcrr_without_weights_names_the_missing_folder(monkeypatch, tmp_path, sparse_view):
    monkeypatch.delitem(weights._loaded, "wcrr", raising=False)
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path))
    monkeypatch.setitem(weights.SHIPPED, "wcrr", "absent.npz")  # as in an install without data/
    u, theta, p = sparse_view
    with pytest.raises(FileNotFoundError, match=r"wcrr-nn.*absent\.npz"):
        ct.reconstruct(p, theta, "wcrr", weight=0.5, shape=u.shape, iters=2)


def test_cli_noise_sigma_reaches_the_regularizer(small_wcrr, sparse_view, tmp_path, monkeypatch, capsys):
    from recon import cli, io

    u, theta, p = sparse_view
    monkeypatch.chdir(tmp_path)
    io.write_image("sino.npy", p)
    angles = f"0:180:{180 / theta.size}"
    seen = []
    real = weights._loaded["wcrr"]
    monkeypatch.setattr(type(real), "at_noise_level", lambda self, s: seen.append(s) or self, raising=False)
    real.noise_scaling = lambda s: real.scale  # a noise-level-aware stand-in
    assert cli.main(["ct", "-i", "sino.npy", "--angles", angles, "--method", "wcrr", "--weight", "0.5",
                     "--noise-sigma", "0.05", "--iters", "3", "-o", "rec.npy"]) == 0
    assert seen == [0.05] and np.load("rec.npy").shape == u.shape
    assert cli.main(["ct", "-i", "sino.npy", "--angles", angles, "--method", "tv", "--weight", "0.5",
                     "--noise-sigma", "0.05", "-o", "tv.npy"]) == 2
    assert "--noise-sigma" in capsys.readouterr().err
