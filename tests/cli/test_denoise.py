"""``recon denoise``: a subprocess smoke run, each prior, Bregman iterations, the learned priors
(``--reg crr|wcrr`` with ``--noise-sigma``), and errors that name the argument.

The learned weights are replaced by small synthetic ridge regularizers (``fake_weights``), so these
tests need neither torch nor the shared data; the loading itself is tested in ``tests/learned``.
"""
import numpy as np
import pytest

from recon import cli, io, metrics
from recon.learned import weights
from tests.helpers.cli import listing, run_recon


def test_denoise_subprocess_smoke(image_dir):
    run = run_recon("denoise", "--input", "noisy.npy", "--output", "out.npy", "--reg", "tv", "--weight", "0.1",
                    cwd=image_dir)
    assert run.returncode == 0, run.stderr
    assert "out.npy" in run.stdout and run.stderr == ""
    clean, noisy, out = (np.load(image_dir / f) for f in ("clean.npy", "noisy.npy", "out.npy"))
    assert out.shape == clean.shape and out.dtype == np.float64
    assert metrics.psnr(out, clean, data_range=1.0) > metrics.psnr(noisy, clean, data_range=1.0) + 3


@pytest.mark.parametrize("reg", ["tv", "tikhonov", "wavelet"])
def test_denoise_each_reg_and_png_output(image_dir, reg, capsys):
    assert cli.main(["denoise", "-i", "noisy.png", "-o", f"{reg}.png", "--reg", reg]) == 0
    out = io.read_image(image_dir / f"{reg}.png")
    assert out.shape == (64, 64) and 0 <= out.min() and out.max() <= 1
    assert f"{reg}.png" in capsys.readouterr().out


@pytest.mark.parametrize("argv, argument, detail", [
    (["--weight", "-0.1"], "--weight", "got -0.1"),
    (["--weight", "nan"], "--weight", "got nan"),
    (["--reg", "foo"], "--reg", "'foo'"),
    (["--iters", "0"], "--iters", "got 0"),
])
def test_errors_name_the_argument_and_write_nothing(image_dir, capsys, argv, argument, detail):
    before = listing(image_dir)
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.png", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error: ") and err.count("\n") == 1, err
    assert argument in err and detail in err, err
    assert listing(image_dir) == before


# ---------------------------------------------------------------------------------------------
# --bregman
# ---------------------------------------------------------------------------------------------
def test_denoise_bregman_restores_contrast(tmp_path):
    u = np.zeros((32, 32))
    u[8:24, 8:24] = 1.0
    path = tmp_path / "u.npy"
    io.write_image(path, u)
    plain, breg = tmp_path / "plain.npy", tmp_path / "breg.npy"
    assert cli.main(["denoise", "-i", str(path), "-o", str(plain), "--reg", "tv", "--weight", "1"]) == 0
    assert cli.main(["denoise", "-i", str(path), "-o", str(breg), "--reg", "tv", "--weight", "1", "--bregman",
                     "--iters", "4"]) == 0
    inside = u > 0
    assert io.read_image(plain)[inside].mean() < 0.9  # TV loses contrast (perimeter / area law)
    assert abs(io.read_image(breg)[inside].mean() - 1) < abs(io.read_image(plain)[inside].mean() - 1) / 5


def test_bregman_needs_tv(tmp_path, capsys):
    path = tmp_path / "u.npy"
    io.write_image(path, np.zeros((8, 8)))
    assert cli.main(["denoise", "-i", str(path), "-o", str(tmp_path / "o.npy"), "--reg", "wavelet",
                     "--bregman"]) == 2
    assert "--bregman" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# --reg crr | wcrr
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reg", ["crr", "wcrr"])
@pytest.mark.parametrize("flag", ["--sigma", "--noise-sigma"])
def test_denoise_ridge_improves_the_image(image_dir, fake_weights, capsys, reg, flag):
    argv = ["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", reg, flag, "0.1", "--weight", "3"]
    assert cli.main(argv) == 0
    assert f"{reg}" in capsys.readouterr().out
    clean, noisy, out = (io.read_image(f) for f in ("clean.npy", "noisy.npy", "out.npy"))
    assert out.shape == noisy.shape
    # synthetic weights: a modest gain
    assert metrics.psnr(out, clean, data_range=1.0) > metrics.psnr(noisy, clean, data_range=1.0) + 0.3


def test_denoise_ridge_matches_the_library(image_dir, fake_weights):
    from recon import denoise

    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "crr", "--sigma", "0.1",
                     "--weight", "0.5"]) == 0
    expected = denoise(io.read_image("noisy.npy"), reg="crr", sigma=0.1, weight=0.5)
    assert np.allclose(io.read_image("out.npy"), expected)


@pytest.mark.parametrize(("argv", "argument"), [
    (["--reg", "crr"], "--noise-sigma"),
    (["--reg", "wcrr", "--sigma", "0"], "--noise-sigma"),
    (["--reg", "wcrr", "--sigma", "-1"], "--noise-sigma"),
    (["--reg", "crnn", "--sigma", "0.1"], "--reg"),
])
def test_ridge_errors_name_the_argument(image_dir, fake_weights, capsys, argv, argument):
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error:") and argument in err and err.count("\n") == 1
    assert not (image_dir / "out.npy").exists()


def test_missing_weights_is_a_usage_error(image_dir, monkeypatch, capsys):
    def unavailable(name):
        raise FileNotFoundError(f"reg={name!r} needs the published weights")

    monkeypatch.setattr(weights, "ridge_regularizer", unavailable)
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", "wcrr", "--sigma", "0.1"]) == 2
    err = capsys.readouterr().err
    assert "--reg" in err and "published weights" in err
    assert not (image_dir / "out.npy").exists()


@pytest.mark.parametrize("reg", ["crr-published", "wcrr-published"])
def test_published_without_its_folder_is_a_usage_error(image_dir, monkeypatch, tmp_path, capsys, reg):
    # the published checkpoints load only by name, from $RECON_SHARED_DATA/weights/<folder>
    monkeypatch.delitem(weights._loaded, reg, raising=False)
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "nowhere"))
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--reg", reg, "--sigma", "0.1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error: --reg:") and err.count("\n") == 1
    assert str(tmp_path / "nowhere" / "weights" / weights.PUBLISHED[reg]) in err
    assert not (image_dir / "out.npy").exists()
