"""``recon denoise|deblur --reg crr|wcrr``: the noise level option, errors naming the argument.

The weights are replaced by small synthetic ridge regularizers (``make_reg``), so these tests
need neither torch nor the shared data; the loading itself is tested in ``tests/learned``.
"""
import numpy as np
import pytest

from recon import cli, data, io, metrics
from recon.learned import weights
from tests.helpers.ridge import make_reg


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clean = data.camera()[96:160, 200:264]
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    io.write_image("noisy.npy", noisy)
    io.write_image("clean.npy", clean)
    return tmp_path


@pytest.fixture
def fake_weights(monkeypatch):
    monkeypatch.setitem(weights._loaded, "crr", make_reg("crr"))
    monkeypatch.setitem(weights._loaded, "wcrr", make_reg("wcrr"))


@pytest.mark.parametrize("reg", ["crr", "wcrr"])
@pytest.mark.parametrize("flag", ["--sigma", "--noise-sigma"])
def test_denoise_ridge_improves_the_image(workdir, fake_weights, capsys, reg, flag):
    argv = ["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", reg, flag, "0.1", "--weight", "3"]
    assert cli.main(argv) == 0
    assert f"{reg}" in capsys.readouterr().out
    clean, noisy, out = (io.read_image(f) for f in ("clean.npy", "noisy.npy", "out.npy"))
    assert out.shape == noisy.shape
    assert metrics.psnr(out, clean, data_range=1.0) > metrics.psnr(noisy, clean, data_range=1.0) + 0.3  # synthetic weights: a modest gain


def test_denoise_ridge_matches_the_library(workdir, fake_weights):
    from recon import denoise

    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "crr", "--sigma", "0.1",
                     "--weight", "0.5"]) == 0
    expected = denoise(io.read_image("noisy.npy"), reg="crr", sigma=0.1, weight=0.5)
    assert np.allclose(io.read_image("out.npy"), expected)


@pytest.mark.parametrize("reg", ["crr", "wcrr"])
def test_deblur_ridge_runs(workdir, fake_weights, reg):
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.npy", "--reg", reg, "--noise-sigma", "0.1",
                     "--weight", "0.05", "--iters", "5", "--sigma", "1.0"]) == 0
    assert np.all(np.isfinite(io.read_image("out.npy")))


@pytest.mark.parametrize(("argv", "argument"), [
    (["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "crr"], "--noise-sigma"),
    (["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "wcrr", "--sigma", "0"], "--noise-sigma"),
    (["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "wcrr", "--sigma", "-1"], "--noise-sigma"),
    (["deblur", "-i", "noisy.npy", "-o", "out.npy", "--reg", "crr"], "--noise-sigma"),
    (["deblur", "-i", "noisy.npy", "-o", "out.npy", "--reg", "crr", "--noise-sigma", "nan"], "--noise-sigma"),
    (["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "crnn", "--sigma", "0.1"], "--reg"),
])
def test_ridge_errors_name_the_argument(workdir, fake_weights, capsys, argv, argument):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error:") and argument in err and err.count("\n") == 1
    assert not (workdir / "out.npy").exists()


def test_missing_weights_is_a_usage_error(workdir, monkeypatch, capsys):
    def unavailable(name):
        raise FileNotFoundError(f"reg={name!r} needs the published weights")

    monkeypatch.setattr(weights, "ridge_regularizer", unavailable)
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "wcrr", "--sigma", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--reg" in err and "published weights" in err
    assert not (workdir / "out.npy").exists()


@pytest.fixture
def sino_dir(tmp_path, monkeypatch):
    from recon import ct

    monkeypatch.chdir(tmp_path)
    u = data.shepp_logan(32)
    io.write_image("sino.npy", ct.sinogram(u, ct.uniform_angles(12), noise=0.01, seed=0))
    io.write_image("clean.npy", u)
    return tmp_path


def test_ct_wcrr_runs_with_weights(sino_dir, fake_weights, capsys):
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:15", "--method", "wcrr", "--weight", "0.5",
                     "--iters", "60", "-o", "rec.npy"]) == 0
    assert "monotone APG" in capsys.readouterr().out
    assert metrics.psnr(io.read_image("rec.npy"), io.read_image("clean.npy"), data_range=1.0) > 20


def test_ct_wcrr_needs_a_weight_and_the_weights(sino_dir, monkeypatch, tmp_path, capsys):
    argv = ["ct", "-i", "sino.npy", "--angles", "0:180:15", "--method", "wcrr", "-o", "rec.npy"]
    assert cli.main(argv) == 2
    assert "--weight" in capsys.readouterr().err
    monkeypatch.delitem(weights._loaded, "wcrr", raising=False)
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setitem(weights.SHIPPED, "wcrr", "absent.npz")  # as in an install without data/
    assert cli.main([*argv, "--weight", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--method wcrr" in err and "wcrr-nn" in err and err.count("\n") == 1
    assert not (sino_dir / "rec.npy").exists()
