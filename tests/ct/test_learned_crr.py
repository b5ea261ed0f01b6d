"""``recon.ct.reconstruct(..., method="crr")``: the learned convex regularizer in sparse-view CT.

Uses the CRR-NN that recon ships (``data/``, read without torch), so the test does not depend on
the shared folder.
"""
import numpy as np
import pytest

from recon import ct, data, metrics
from recon.learned import load_npz, weights


@pytest.fixture
def shipped_crr(monkeypatch):
    monkeypatch.setitem(weights._loaded, "crr", load_npz(weights.shipped_path("crr")))


@pytest.fixture(scope="module")
def sparse_view():
    # 48², 16 angles: CRR beats FBP by 9.6 dB after 60 iterations (64², 20 angles, 150 iterations: 13.7 dB, 5x the time)
    u = data.shepp_logan(48)
    theta = ct.uniform_angles(16)
    return u, theta, ct.sinogram(u, theta, noise=0.01, seed=0)


def test_crr_beats_fbp_on_sparse_view(shipped_crr, sparse_view):
    u, theta, p = sparse_view
    fbp = ct.fbp(p, theta, shape=u.shape)
    result = ct.reconstruct(p, theta, "crr", weight=0.3, shape=u.shape, iters=60, return_result=True)
    assert result.x.shape == u.shape and float(result.x.min()) >= 0  # nonneg by default
    assert "CRR-NN" in result.message
    assert metrics.psnr(result.x, u, data_range=1.0) > metrics.psnr(fbp, u, data_range=1.0) + 5


def test_crr_regularizes(shipped_crr, sparse_view):
    # a larger weight must smooth more: lower total variation of the reconstruction
    u, theta, p = sparse_view
    tv = [float(np.abs(np.diff(ct.reconstruct(p, theta, "crr", weight=w, shape=u.shape, iters=20), axis=0)).sum())
          for w in (0.03, 3.0)]
    assert tv[1] < tv[0]


@pytest.mark.parametrize(("kwargs", "name"), [({}, "weight"), ({"weight": -1.0}, "weight"),
                                              ({"weight": 0.3, "sigma": 0.0}, "sigma"),
                                              ({"weight": 0.3, "sigma": float("nan")}, "sigma")])
def test_crr_bad_arguments_name_them(shipped_crr, sparse_view, kwargs, name):
    u, theta, p = sparse_view
    with pytest.raises(ValueError, match=name):
        ct.reconstruct(p, theta, "crr", shape=u.shape, iters=2, **kwargs)


def test_published_name_reads_the_published_slot(monkeypatch, sparse_view):
    # "crr-published" resolves to weights' published slot only (here a stand-in), never to the shipped file
    stand_in = load_npz(weights.shipped_path("crr"))
    monkeypatch.setitem(weights._loaded, "crr-published", stand_in)
    u, theta, p = sparse_view
    result = ct.reconstruct(p, theta, "crr-published", weight=0.3, shape=u.shape, iters=5, return_result=True)
    assert result.message.startswith("published CRR-NN") and result.x.shape == u.shape
