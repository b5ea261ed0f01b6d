"""Fixtures of the CLI tests: a working directory with a small noisy image, small learned priors."""
import numpy as np
import pytest

from recon import data, io
from recon.learned import weights
from tests.helpers.ridge import make_reg


@pytest.fixture
def image_dir(tmp_path, monkeypatch):
    """``tmp_path`` as the working directory, with a 64 x 64 crop of the camera image: ``clean.npy``,
    ``noisy.npy`` and ``noisy.png`` (Gaussian noise 0.1)."""
    monkeypatch.chdir(tmp_path)
    clean = data.camera()[96:160, 200:264]
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    io.write_image("noisy.npy", noisy)
    io.write_image("clean.npy", clean)
    io.write_image("noisy.png", noisy)
    return tmp_path


@pytest.fixture
def fake_weights(monkeypatch):
    """``reg="crr"`` / ``"wcrr"`` load small synthetic ridge regularizers: no torch, no shared data."""
    monkeypatch.setitem(weights._loaded, "crr", make_reg("crr"))
    monkeypatch.setitem(weights._loaded, "wcrr", make_reg("wcrr"))
