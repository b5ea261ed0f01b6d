"""``recon ct``: smoke runs, angle specifications, methods (the learned wcrr with small synthetic
weights), and every error path (status 2, one line, nothing written)."""
import math
import os

import numpy as np
import pytest

from recon import cli, ct, data, io, metrics
from recon.learned import weights
from tests.helpers.cli import listing, run_recon


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    u = np.asarray(data.shepp_logan(48))
    angles = ct.uniform_angles(90)
    io.write_image("sino.npy", ct.sinogram(u, angles, noise=0.01, seed=0))
    io.write_image("clean.npy", u)
    np.save("angles_deg.npy", np.rad2deg(angles))
    np.save("angles_rad.npy", angles)
    return tmp_path


def test_subprocess_smoke_fbp_to_png(workdir):
    run = run_recon("ct", "--input", "sino.npy", "--angles", "0:180:2", "--output", "rec.png", cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert "rec.png" in run.stdout and "90 angles" in run.stdout and run.stderr == ""
    assert io.read_image("rec.png").shape == (48, 48)


@pytest.mark.parametrize("angles, extra", [("0:180:2", []), ("angles_deg.npy", []),
                                           ("angles_rad.npy", ["--radians"]),
                                           (f"0:{math.pi}:{math.pi / 90}", ["--radians"])])
def test_angle_specifications_give_the_library_result(workdir, angles, extra):
    assert cli.main(["ct", "-i", "sino.npy", "--angles", angles, "-o", "rec.npy", *extra]) == 0
    want = ct.fbp(np.load("sino.npy"), ct.uniform_angles(90))
    assert np.allclose(np.load("rec.npy"), want, atol=1e-6)


@pytest.mark.parametrize("method, extra", [("tv", ["--weight", "0.5", "--iters", "100"]),
                                           ("cgls", ["--iters", "10"]), ("landweber", ["--iters", "20"]),
                                           ("tikhonov", ["--weight", "1", "--iters", "20"]),
                                           ("fbp", ["--filter", "hann"])])
def test_methods(workdir, method, extra, capsys):
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:2", "--method", method, "-o", "rec.npy",
                     *extra]) == 0
    assert method in capsys.readouterr().out
    rec = np.load("rec.npy")
    assert rec.shape == (48, 48) and metrics.psnr(rec, np.load("clean.npy")) > 15


def test_force_overwrites(workdir, capsys):
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:2", "-o", "rec.npy"]) == 0
    stamp = os.stat("rec.npy").st_mtime_ns
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:2", "-o", "rec.npy"]) == 2
    assert "--output" in capsys.readouterr().err and os.stat("rec.npy").st_mtime_ns == stamp
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:2", "-o", "rec.npy", "--force"]) == 0


@pytest.mark.parametrize("argv, argument, detail", [
    (["--angles", "0:180"], "--angles", "start:stop:step"),
    (["--angles", "0:180:x"], "--angles", "start:stop:step"),
    (["--angles", "0:180:-1"], "--angles", "step > 0"),
    (["--angles", "180:0:1"], "--angles", "start < stop"),
    (["--angles", "0:180:1"], "--angles", "180 angles but the sinogram has 90 rows"),
    (["--angles", "missing.npy"], "--angles", "missing.npy"),
    (["--angles", "0:180:2", "--method", "tv"], "--weight", "needs a weight"),
    (["--angles", "0:180:2", "--method", "art"], "--method", "invalid choice"),
    (["--angles", "0:180:2", "--weight", "-1", "--method", "tv"], "--weight", ">= 0"),
    (["--angles", "0:180:2", "--iters", "0"], "--iters", "positive int"),
    (["--angles", "0:180:2", "--filter", "box"], "--filter", "invalid choice"),
    (["--angles", "0:180:2", "--backend", "torch"], "--backend", "invalid choice"),
])
def test_errors_name_the_argument_and_write_nothing(workdir, capsys, argv, argument, detail):
    before = listing(workdir)
    assert cli.main(["ct", "-i", "sino.npy", "-o", "rec.png", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error: ") and argument in err and detail in err, err
    assert err.count("\n") == 1
    assert listing(workdir) == before


def test_bad_angle_files_and_inputs(workdir, capsys):
    np.save("angles_2d.npy", np.zeros((3, 2)))
    np.save("angles_nan.npy", np.array([0.0, np.nan]))
    for path in ("angles_2d.npy", "angles_nan.npy"):
        assert cli.main(["ct", "-i", "sino.npy", "--angles", path, "-o", "rec.png"]) == 2
        assert "--angles: need a non-empty 1-D array of finite numbers" in capsys.readouterr().err
    assert cli.main(["ct", "-i", "nothing.npy", "--angles", "0:180:2", "-o", "rec.png"]) == 2
    assert "--input" in capsys.readouterr().err
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:2", "-o", "rec.xyz"]) == 2
    assert "--output" in capsys.readouterr().err
    assert not os.path.exists("rec.png") and not os.path.exists("rec.xyz")


@pytest.fixture
def sparse_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    u = data.shepp_logan(32)
    io.write_image("sino.npy", ct.sinogram(u, ct.uniform_angles(12), noise=0.01, seed=0))
    io.write_image("clean.npy", u)
    return tmp_path


def test_wcrr_runs_with_weights(sparse_dir, fake_weights, capsys):
    assert cli.main(["ct", "-i", "sino.npy", "--angles", "0:180:15", "--method", "wcrr", "--weight", "0.5",
                     "--iters", "20", "-o", "rec.npy"]) == 0
    assert "monotone APG" in capsys.readouterr().out
    assert metrics.psnr(io.read_image("rec.npy"), io.read_image("clean.npy"), data_range=1.0) > 20


def test_wcrr_needs_a_weight_and_the_weights(sparse_dir, monkeypatch, tmp_path, capsys):
    argv = ["ct", "-i", "sino.npy", "--angles", "0:180:15", "--method", "wcrr", "-o", "rec.npy"]
    assert cli.main(argv) == 2
    assert "--weight" in capsys.readouterr().err
    monkeypatch.delitem(weights._loaded, "wcrr", raising=False)
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "nowhere"))
    monkeypatch.setitem(weights.SHIPPED, "wcrr", "absent.npz")  # as in an install without data/
    assert cli.main([*argv, "--weight", "0.5"]) == 2
    err = capsys.readouterr().err
    assert "--method wcrr" in err and "absent.npz" in err and err.count("\n") == 1
    assert not (sparse_dir / "rec.npy").exists()


@pytest.mark.parametrize("method", ["crr-published", "wcrr-published"])
def test_published_without_its_folder_is_a_usage_error(sparse_dir, monkeypatch, tmp_path, capsys, method):
    monkeypatch.delitem(weights._loaded, method, raising=False)
    monkeypatch.setenv("RECON_SHARED_DATA", str(tmp_path / "nowhere"))
    argv = ["ct", "-i", "sino.npy", "--angles", "0:180:15", "--method", method, "--weight", "0.5", "-o", "rec.npy"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"recon: error: --method {method}:") and err.count("\n") == 1
    assert str(tmp_path / "nowhere" / "weights" / weights.PUBLISHED[method]) in err
    assert not (sparse_dir / "rec.npy").exists()
