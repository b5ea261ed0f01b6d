"""``recon deblur``: a subprocess smoke run, named and file kernels, the learned priors, and errors
that name the argument (status 2, one line, nothing written)."""
import numpy as np
import pytest

from recon import cli, io
from tests.helpers.cli import listing, run_recon


def test_deblur_subprocess_smoke(image_dir):
    from recon.operators import Convolution, gaussian_kernel

    clean = np.load(image_dir / "clean.npy")
    io.write_image(image_dir / "blurred.tif", Convolution(gaussian_kernel(1.0), clean.shape)(clean))
    run = run_recon("deblur", "-i", "blurred.tif", "-o", "sharp.tif", "--kernel", "gaussian", "--sigma", "1.0",
                    "--reg", "tikhonov", "--weight", "1e-3", "--iters", "50", cwd=image_dir)
    assert run.returncode == 0, run.stderr
    sharp = io.read_image(image_dir / "sharp.tif")
    blurred = io.read_image(image_dir / "blurred.tif")
    assert np.linalg.norm(sharp - clean) < np.linalg.norm(blurred - clean)


@pytest.mark.parametrize("kernel", [["--kernel", "disk", "--radius", "2"],
                                    ["--kernel", "motion", "--length", "5", "--angle", "30"]])
def test_deblur_kernels(image_dir, kernel):
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.npy", "--iters", "5", *kernel]) == 0
    assert np.load(image_dir / "out.npy").shape == (64, 64)


def test_deblur_kernel_file(image_dir):
    k = np.ones((3, 3)) / 9
    np.save(image_dir / "k.npy", k)
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.npy", "--iters", "5", "--kernel", "k.npy"]) == 0


@pytest.mark.parametrize("argv, argument, detail", [
    (["--kernel", "box"], "--kernel", "'box'"),
    (["--kernel", "nokernel.npy"], "--kernel", "nokernel.npy"),
    (["--kernel", "negk.npy"], "--kernel", "positive sum"),
    (["--sigma", "0"], "--sigma", "got 0"),
    (["--kernel", "motion", "--length", "0.5"], "--length", "0.5"),
    (["--sigma", "40"], "--kernel", "larger than the image"),
    (["--reg", "crr"], "--noise-sigma", "required by --reg crr"),
    (["--reg", "crr", "--noise-sigma", "nan"], "--noise-sigma", "got nan"),
])
def test_errors_name_the_argument_and_write_nothing(image_dir, fake_weights, capsys, argv, argument, detail):
    np.save(image_dir / "negk.npy", -np.ones((3, 3)))
    before = listing(image_dir)
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.png", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error: ") and err.count("\n") == 1, err
    assert argument in err and detail in err, err
    assert listing(image_dir) == before


@pytest.mark.parametrize("reg", ["crr", "wcrr"])
def test_deblur_ridge_runs(image_dir, fake_weights, reg):
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.npy", "--reg", reg, "--noise-sigma", "0.1",
                     "--weight", "0.05", "--iters", "5", "--sigma", "1.0"]) == 0
    assert np.all(np.isfinite(io.read_image("out.npy")))
