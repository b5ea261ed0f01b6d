"""The CRR-NN and WCRR-NN recon ships (package data): read without torch, always what ``reg="crr"``/``"wcrr"`` mean."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recon import data, denoise
from recon.learned import load_npz, load_shipped, save_npz, unit_norm, weights
from tests.helpers.ridge import make_reg

TRAINER = {"crr": "examples/train_wcrr.py", "wcrr": "examples/train_wcrr.py"}


def _crop():
    clean = np.asarray(data.camera()[100:164, 180:244], dtype=np.float32)
    noisy = (clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)
    return clean, noisy


@pytest.mark.parametrize("name", ["crr", "wcrr"])
def test_shipped_file_is_small_and_documented(name):
    path = weights.shipped_path(name)
    assert path.is_file() and path.stat().st_size < 100_000
    card = path.with_suffix(".md").read_text()  # the model card beside it, package data too
    assert "Set12" in card and TRAINER[name] in card
    reg = load_npz(path)
    assert sum(int(np.prod(k.shape)) for k in reg.kernels) > 10_000
    assert reg.noise_scaling is not None and reg.w_norm == pytest.approx(1.0, abs=1e-6)  # unit_norm on 256x256
    for sigma in (5 / 255, 15 / 255, 25 / 255):
        if name == "crr":  # convex: non-decreasing activation at every noise level
            assert reg.extras["meta"]["rho"] == 0.0 and reg.at_noise_level(sigma).weak_convexity == 0
        else:  # 1-weakly convex at every noise level
            assert reg.extras["meta"]["rho"] == 1.0 and 0 < reg.at_noise_level(sigma).weak_convexity <= 1 + 1e-6


_DENOISE = (
    "import sys, json, hashlib, numpy as np\n"
    "{hide}"
    "from recon import data, denoise, metrics\n"
    "clean = np.asarray(data.camera()[100:164, 180:244], dtype=np.float32)\n"
    "noisy = (clean + 25 / 255 * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)\n"
    "out = {{}}\n"
    "for name in ('crr', 'wcrr'):\n"
    "    x = denoise(noisy, reg=name, sigma=25 / 255)\n"
    "    out[name] = [metrics.psnr(noisy, clean, data_range=1.0), metrics.psnr(x, clean, data_range=1.0),"
    " hashlib.sha256(x.tobytes()).hexdigest()]\n"
    "out['torch'] = 'torch' in sys.modules and sys.modules['torch'] is not None\n"
    "print(json.dumps(out))\n"
)


def _run(hide_torch, env):
    code = _DENOISE.format(hide="sys.modules['torch'] = None\n" if hide_torch else "")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         cwd=Path(__file__).resolve().parents[2], timeout=600)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_reg_names_give_the_same_image_whatever_is_installed(tmp_path):
    # a process where torch cannot be imported and the shared folder does not exist, and one with this
    # environment as it is (torch and ../shared/data where the checkout has them): the same bytes
    bare = _run(True, {"RECON_SHARED_DATA": str(tmp_path / "absent"), "PATH": "/usr/bin:/bin",
                       "RECON_NUMBA": os.environ.get("RECON_NUMBA", "1")})
    full = _run(False, dict(os.environ))
    assert not bare["torch"]
    for name in ("crr", "wcrr"):
        before, after, digest = bare[name]
        assert full[name][2] == digest, name
        assert after > before + 5  # about 20 dB noisy crop; a working denoiser gains well over 5 dB


@pytest.mark.parametrize("name", ["crr", "wcrr"])
def test_reg_name_is_the_shipped_model_and_follows_sigma(monkeypatch, name):
    monkeypatch.setattr(weights, "_loaded", {})  # forget what other tests loaded; restored afterwards
    reg = weights.ridge_regularizer(name)
    assert reg.noise_scaling is not None and reg.extras["meta"]["rho"] == (1.0 if name == "wcrr" else 0.0)
    shipped = load_shipped(name)
    assert all(np.array_equal(a, b) for a, b in zip(reg.kernels, shipped.kernels))
    clean, noisy = (a[8:56, 8:56] for a in _crop())  # 48x48: four solves stay quick
    x25 = denoise(noisy, reg=name, sigma=25 / 255)
    assert np.array_equal(x25, denoise(noisy, reg=reg, sigma=25 / 255))
    # the noise scaling is live: a larger assumed sigma removes more (the residual grows with sigma)
    residual = [float(np.linalg.norm(denoise(noisy, reg=name, sigma=s / 255) - noisy)) for s in (5, 15)]
    residual.append(float(np.linalg.norm(x25 - noisy)))
    assert residual[0] < residual[1] < residual[2]


def test_missing_files_and_names_are_errors(monkeypatch, tmp_path):
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "absent"))
    monkeypatch.setattr(weights, "_loaded", {})
    monkeypatch.setitem(weights.SHIPPED, "wcrr", "absent.npz")  # as in a broken install
    with pytest.raises(FileNotFoundError, match=r"wcrr-nn.*absent\.npz"):
        weights.ridge_regularizer("wcrr")
    with pytest.raises(ValueError, match="name"):
        weights.ridge_regularizer("tv")
    with pytest.raises(FileNotFoundError, match="wcrr-nn"):  # explicit published names: the folder is named
        pytest.importorskip("torch")
        weights.ridge_regularizer("wcrr-published")


def test_published_names_need_torch(monkeypatch):
    monkeypatch.setattr(weights, "_loaded", {})
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(ImportError, match=r"crr-published.*torch"):
        denoise(np.zeros((8, 8), np.float32), reg="crr-published", sigma=0.1)


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


def test_unit_norm_divides_w_back_to_norm_one():
    reg = make_reg("wcrr")  # ||W|| = 1 on 16x16 ...
    big = type(reg)(reg.kernels, reg.activation, scale=reg.scale, norm_shape=(48, 48))
    assert big.w_norm > 1.001  # ... and above 1 on a larger image: zero padding loses less
    out = unit_norm(big)
    assert out.w_norm == pytest.approx(1.0, abs=1e-6) and out.extras["w_norm_before"] == big.w_norm
    x = np.random.default_rng(1).standard_normal((48, 48))
    assert np.allclose(out.W(x.shape)(x), big.W(x.shape)(x) / big.w_norm, rtol=1e-10, atol=1e-12)  # W / ||W||
    assert out.weak_convexity == pytest.approx(max(0.0, -reg.activation.slope_min), rel=1e-5)
    assert np.array_equal(out.scale, big.scale) and out.activation is big.activation
    assert unit_norm(out) is out and unit_norm(reg) is reg  # already ||W|| <= 1: unchanged
    with pytest.raises(TypeError, match="reg"):
        unit_norm("wcrr")


def test_recon_learned_after_a_plain_import_recon_imports_no_torch():
    code = ("import sys, recon\n"
            "reg = recon.learned.load_shipped('crr')\n"
            "print('torch' in sys.modules, type(reg).__name__)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "RidgeRegularizer"]
