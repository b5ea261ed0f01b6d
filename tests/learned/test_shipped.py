"""The CRR-NN recon ships in ``data/``: read without torch, used by ``reg="crr"`` as the fallback."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recon import data, denoise, metrics
from recon.learned import load_npz, save_npz, weights
from tests.functionals.test_ridge import make_reg

SHIPPED = weights.shipped_path("crr")


def _crop():
    clean = np.asarray(data.camera()[100:164, 180:244], dtype=np.float32)
    noisy = (clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)
    return clean, noisy


def test_shipped_file_is_small_and_documented():
    assert SHIPPED.is_file() and SHIPPED.stat().st_size < 100_000
    card = SHIPPED.with_suffix(".md").read_text()
    assert "Set12" in card and "examples/train_crr_prox_sigma25.py" in card
    reg = load_npz(SHIPPED)
    assert reg.noise_scaling is None and reg.weak_convexity == 0  # convex: non-decreasing activation
    assert sum(int(np.prod(k.shape)) for k in reg.kernels) > 10_000


def test_denoise_without_torch_or_shared_folder(tmp_path):
    # a fresh process where torch cannot be imported and the shared folder does not exist
    code = (
        "import sys, json, numpy as np; sys.modules['torch'] = None\n"
        "from recon import data, denoise, metrics\n"
        "clean = np.asarray(data.camera()[100:164, 180:244], dtype=np.float32)\n"
        "noisy = (clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)\n"
        "x = denoise(noisy, reg='crr', sigma=25 / 255)\n"
        "print(json.dumps([metrics.psnr(noisy, clean, data_range=1.0), metrics.psnr(x, clean, data_range=1.0),"
        " 'torch' in sys.modules and sys.modules['torch'] is not None]))\n"
    )
    env = {"RECON_SHARED_DATA": str(tmp_path / "absent"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).resolve().parents[2], timeout=600)
    assert run.returncode == 0, run.stderr
    before, after, torch_loaded = json.loads(run.stdout.strip().splitlines()[-1])
    assert not torch_loaded
    assert after > before + 5  # about 20 dB noisy crop; a working denoiser gains well over 5 dB


def test_reg_crr_falls_back_to_shipped(monkeypatch, tmp_path):
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "absent"))
    monkeypatch.setattr(weights, "_loaded", {})  # forget what other tests loaded; restored afterwards
    reg = weights.ridge_regularizer("crr")
    assert reg.extras["meta"]["sigma"] == pytest.approx(25 / 255)
    clean, noisy = _crop()
    assert np.array_equal(denoise(noisy, reg="crr", sigma=25 / 255), denoise(noisy, reg=reg))


def test_wcrr_has_no_fallback(monkeypatch, tmp_path):
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "absent"))
    monkeypatch.setattr(weights, "_loaded", {})
    with pytest.raises(FileNotFoundError, match="wcrr"):
        weights.ridge_regularizer("wcrr")
    with pytest.raises(ValueError, match="name"):
        weights.ridge_regularizer("tv")


def test_npz_round_trip_and_errors(tmp_path):
    reg = make_reg("crr")
    path = save_npz(tmp_path / "r.npz", reg, {"note": "test"})
    back = load_npz(path, dtype="float64")
    x = np.random.default_rng(0).standard_normal((16, 16)) * 0.1
    assert np.allclose(back.grad(x), reg.grad(x), atol=1e-6) and back.w_norm == reg.w_norm
    assert back.extras["meta"]["note"] == "test"
    with pytest.raises(FileNotFoundError, match="path"):
        load_npz(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="dtype"):
        load_npz(path, dtype="int8")
    with pytest.raises(TypeError, match="reg"):
        save_npz(tmp_path / "x.npz", "crr")
    scaled = make_reg("crr")
    scaled.noise_scaling = lambda sigma: np.ones(scaled.channels)
    with pytest.raises(ValueError, match="noise_scaling"):
        save_npz(tmp_path / "x.npz", scaled)
    np.savez(tmp_path / "bad.npz", meta=np.array(json.dumps({"format": 99})))
    with pytest.raises(ValueError, match="format"):
        load_npz(tmp_path / "bad.npz")
