"""The recon command: smoke runs through ``python -m recon`` and every error path.

Error paths call :func:`recon.cli.main` in-process (fast); a few runs go through a subprocess to
check the real entry point, exit status and streams.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

from recon import cli, data, io


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    clean = data.camera()[96:160, 200:264]
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    io.write_image("noisy.npy", noisy)
    io.write_image("clean.npy", clean)
    io.write_image("noisy.png", noisy)
    return tmp_path


def _files(path):
    return sorted(os.listdir(path))


def _recon(*args, cwd):
    return subprocess.run([sys.executable, "-m", "recon", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=120)


def test_denoise_subprocess_smoke(workdir):
    run = _recon("denoise", "--input", "noisy.npy", "--output", "out.npy", "--reg", "tv", "--weight", "0.1",
                 cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert "out.npy" in run.stdout and run.stderr == ""
    from recon.metrics import psnr

    clean, noisy, out = (np.load(workdir / f) for f in ("clean.npy", "noisy.npy", "out.npy"))
    assert out.shape == clean.shape and out.dtype == np.float64
    assert psnr(out, clean, data_range=1.0) > psnr(noisy, clean, data_range=1.0) + 3


def test_deblur_subprocess_smoke(workdir):
    from recon.operators import Convolution
    from recon.operators.convolution import gaussian_kernel

    clean = np.load(workdir / "clean.npy")
    io.write_image(workdir / "blurred.tif", Convolution(gaussian_kernel(1.0), clean.shape)(clean))
    run = _recon("deblur", "-i", "blurred.tif", "-o", "sharp.tif", "--kernel", "gaussian", "--sigma", "1.0",
                 "--reg", "tikhonov", "--weight", "1e-3", "--iters", "50", cwd=workdir)
    assert run.returncode == 0, run.stderr
    sharp = io.read_image(workdir / "sharp.tif")
    blurred = io.read_image(workdir / "blurred.tif")
    assert np.linalg.norm(sharp - clean) < np.linalg.norm(blurred - clean)


def test_subprocess_error_is_one_line_with_status_2(workdir):
    run = _recon("denoise", "-i", "missing.png", "-o", "out.png", cwd=workdir)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("recon: error: --input:")
    assert "missing.png" in run.stderr
    assert not (workdir / "out.png").exists()


@pytest.mark.parametrize("reg", ["tv", "tikhonov", "wavelet"])
def test_denoise_each_reg_and_png_output(workdir, reg, capsys):
    assert cli.main(["denoise", "-i", "noisy.png", "-o", f"{reg}.png", "--reg", reg]) == 0
    out = io.read_image(workdir / f"{reg}.png")
    assert out.shape == (64, 64) and 0 <= out.min() and out.max() <= 1
    assert f"{reg}.png" in capsys.readouterr().out


@pytest.mark.parametrize("kernel", [["--kernel", "disk", "--radius", "2"],
                                    ["--kernel", "motion", "--length", "5", "--angle", "30"]])
def test_deblur_kernels(workdir, kernel):
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.npy", "--iters", "5", *kernel]) == 0
    assert np.load(workdir / "out.npy").shape == (64, 64)


def test_deblur_kernel_file(workdir):
    k = np.ones((3, 3)) / 9
    np.save(workdir / "k.npy", k)
    assert cli.main(["deblur", "-i", "noisy.npy", "-o", "out.npy", "--iters", "5", "--kernel", "k.npy"]) == 0


def test_force_overwrites_atomically(workdir):
    io.write_image("out.npy", np.zeros((64, 64)))
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy"]) == 2
    np.testing.assert_array_equal(np.load("out.npy"), 0)  # untouched
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--force"]) == 0
    assert np.load("out.npy").std() > 0
    assert not [f for f in _files(workdir) if f.endswith(".part")]


ERRORS = [
    (["denoise", "-i", "missing.png", "-o", "out.png"], "--input", "missing.png"),
    (["denoise", "-i", "bad.png", "-o", "out.png"], "--input", "bad.png"),
    (["denoise", "-i", "noisy.bmp", "-o", "out.png"], "--input", "'.bmp'"),
    (["denoise", "-i", "noisy.npy", "-o", "noisy.png"], "--output", "exists; use --force"),
    (["denoise", "-i", "noisy.npy", "-o", "out.jpg"], "--output", "'.jpg'"),
    (["denoise", "-i", "noisy.npy", "-o", "nodir/out.png"], "--output", "does not exist"),
    (["denoise", "-i", "noisy.npy", "-o", "out.png", "--weight", "-0.1"], "--weight", "got -0.1"),
    (["denoise", "-i", "noisy.npy", "-o", "out.png", "--weight", "nan"], "--weight", "got nan"),
    (["denoise", "-i", "noisy.npy", "-o", "out.png", "--reg", "foo"], "--reg", "'foo'"),
    (["denoise", "-i", "noisy.npy", "-o", "out.png", "--iters", "0"], "--iters", "got 0"),
    (["denoise", "-i", "noisy.npy", "-o", "out.png", "--backend", "jax"], "--backend", "'jax'"),
    (["denoise", "-i", "stack.npy", "-o", "out.png"], "--input", "2-D"),
    (["denoise", "-o", "out.png"], "--input", "required"),
    (["deblur", "-i", "noisy.npy", "-o", "out.png", "--kernel", "box"], "--kernel", "'box'"),
    (["deblur", "-i", "noisy.npy", "-o", "out.png", "--kernel", "nokernel.npy"], "--kernel", "nokernel.npy"),
    (["deblur", "-i", "noisy.npy", "-o", "out.png", "--kernel", "negk.npy"], "--kernel", "positive sum"),
    (["deblur", "-i", "noisy.npy", "-o", "out.png", "--sigma", "0"], "--sigma", "got 0"),
    (["deblur", "-i", "noisy.npy", "-o", "out.png", "--kernel", "motion", "--length", "0.5"], "--length", "0.5"),
    (["deblur", "-i", "noisy.npy", "-o", "out.png", "--sigma", "40"], "--kernel", "larger than the image"),
    (["demo", "--output-dir", "noisy.png"], "--output-dir", "not a directory"),
    (["demo", "--size", "100"], "--size", "100"),
    (["frobnicate"], "invalid choice", "'frobnicate'"),
]


@pytest.mark.parametrize("argv, argument, detail", ERRORS, ids=[" ".join(e[0])[:60] for e in ERRORS])
def test_errors_name_the_argument_and_write_nothing(workdir, capsys, argv, argument, detail):
    (workdir / "bad.png").write_bytes(b"not a png")
    np.save(workdir / "stack.npy", np.zeros((2, 8, 8)))
    np.save(workdir / "negk.npy", -np.ones((3, 3)))
    before = _files(workdir)
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("recon: error: ") and err.count("\n") == 1, err
    assert argument in err and detail in err, err
    assert _files(workdir) == before  # no output, no temporary file


def test_demo_refuses_existing_figures_then_forces(workdir, capsys, monkeypatch):
    # the computation is exercised by the slow test below; here only the file handling
    monkeypatch.setattr(cli, "_demo_compute", _tiny_demo)
    assert cli.main(["demo", "--output-dir", "figs"]) == 0
    out = capsys.readouterr().out
    assert "PSNR" in out and "tikhonov" in out
    assert _files(workdir / "figs") == ["deblur.png", "denoise.png"]
    stamp = os.stat(workdir / "figs" / "denoise.png").st_mtime_ns
    assert cli.main(["demo", "--output-dir", "figs"]) == 2
    assert "--output-dir" in capsys.readouterr().err
    assert os.stat(workdir / "figs" / "denoise.png").st_mtime_ns == stamp
    assert cli.main(["demo", "--output-dir", "figs", "--force"]) == 0
    assert _files(workdir / "figs") == ["deblur.png", "denoise.png"]


def _tiny_demo(size, progress):
    clean = data.disks(16)
    rows = [("denoise", "tikhonov", 0.5, 20.0, 25.0, 0.01)]
    panels = [("denoise", clean, clean, [("tikhonov", clean)]), ("deblur", clean, clean, [("tv", clean)])]
    return rows, panels


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    run = _recon("demo", "--output-dir", str(tmp_path / "demo"), "--size", "128", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = [line.split() for line in run.stdout.splitlines() if line.startswith(("denoise", "deblur"))]
    assert [(t, m) for t, m, *_ in lines] == [("denoise", "tv"), ("denoise", "tikhonov"), ("denoise", "wavelet"),
                                              ("deblur", "tv"), ("deblur", "tikhonov")]
    for _, _, _, before, after, _ in lines:
        assert float(after) > float(before)  # every method improves on its input
    assert _files(tmp_path / "demo") == ["ct.png", "deblur.png", "denoise.png"]


# ---------------------------------------------------------------------------------------------
# the README's promises
# ---------------------------------------------------------------------------------------------
ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]


def _readme_blocks(lang):
    text = (ROOT / "README.md").read_text()
    blocks, inside, current = [], False, []
    for line in text.splitlines():
        if line.strip() == f"```{lang}" and not inside:
            inside, current = True, []
        elif line.startswith("```") and inside:
            inside = False
            blocks.append(current)
        elif inside:
            current.append(line)
    return blocks


def test_readme_quick_start_is_two_commands_and_ci_runs_the_second():
    quick = _readme_blocks("bash")[0]
    assert len(quick) == 2, quick
    assert quick[0].startswith("pip install . && recon demo")
    run = subprocess.run(["bash", str(ROOT / ".ci" / "run"), "--print-command"], capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == quick[1]
    assert "pytest" in quick[1]


def test_readme_example_runs(capsys):
    from recon.metrics import psnr

    code = "\n".join(_readme_blocks("python")[0])
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert capsys.readouterr().out.strip()
    x_true, y, result = namespace["x_true"], namespace["y"], namespace["result"]
    assert psnr(result.x, x_true) > psnr(y, x_true) + 2.0  # TV deblurring sharpens the phantom
