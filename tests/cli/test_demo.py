"""``recon demo``: output-directory handling and --force (with a tiny stand-in computation), the CT
scene, errors, and (slow) the whole demo end to end through a subprocess."""
import os

import numpy as np
import pytest

from recon import cli, data
from recon.cli import demo
from tests.helpers.cli import listing, run_recon


def _tiny_compute(size, progress):
    clean = data.disks(16)
    rows = [("denoise", "tikhonov", 0.5, 20.0, 25.0, 0.01)]
    panels = [("denoise", clean, clean, [("tikhonov", clean)]), ("deblur", clean, clean, [("tv", clean)])]
    return rows, panels


def test_demo_refuses_existing_figures_then_forces(tmp_path, capsys, monkeypatch):
    # the computation is exercised by the slow test below; here only the file handling
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo, "compute", _tiny_compute)
    assert cli.main(["demo", "--output-dir", "figs"]) == 0
    out = capsys.readouterr().out
    assert "PSNR" in out and "tikhonov" in out
    assert listing(tmp_path / "figs") == ["deblur.png", "denoise.png"]
    stamp = os.stat(tmp_path / "figs" / "denoise.png").st_mtime_ns
    assert cli.main(["demo", "--output-dir", "figs"]) == 2
    assert "--output-dir" in capsys.readouterr().err
    assert os.stat(tmp_path / "figs" / "denoise.png").st_mtime_ns == stamp
    assert cli.main(["demo", "--output-dir", "figs", "--force"]) == 0
    assert listing(tmp_path / "figs") == ["deblur.png", "denoise.png"]


@pytest.mark.parametrize("argv, argument, detail", [
    (["--output-dir", "afile.png"], "--output-dir", "not a directory"),
    (["--size", "100"], "--size", "100"),
    (["--backend", "jax"], "--backend", "'jax'"),
])
def test_errors_name_the_argument_and_write_nothing(tmp_path, monkeypatch, capsys, argv, argument, detail):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile.png").write_bytes(b"")
    before = listing(tmp_path)
    assert cli.main(["demo", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("recon: error: ") and err.count("\n") == 1, err
    assert argument in err and detail in err, err
    assert listing(tmp_path) == before


def test_ct_scene_tv_beats_fbp(monkeypatch):
    monkeypatch.setattr(demo, "CT_ITERS", 150)  # half the demo's budget: TV leads FBP by 6.7 dB already (10 at 300)
    rows, (title, clean, observed, results) = demo.ct_scene(64)
    assert [(task, method) for task, method, *_ in rows] == [("ct", "fbp"), ("ct", "tv")]
    fbp_psnr, tv_psnr = rows[0][4], rows[1][4]
    assert tv_psnr > fbp_psnr + 5 and observed is None and clean.shape == (64, 64)
    assert [name for name, _ in results] == ["fbp", "tv"]
    assert np.isnan(rows[0][3]) and "60 angles" in title


@pytest.mark.slow
def test_demo_end_to_end(tmp_path):
    run = run_recon("demo", "--output-dir", str(tmp_path / "demo"), "--size", "128", cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = [line.split() for line in run.stdout.splitlines() if line.startswith(("denoise", "deblur"))]
    assert [(t, m) for t, m, *_ in lines] == [("denoise", "tv"), ("denoise", "tikhonov"), ("denoise", "wavelet"),
                                              ("deblur", "tv"), ("deblur", "tikhonov")]
    for _, _, _, before, after, _ in lines:
        assert float(after) > float(before)  # every method improves on its input
    assert listing(tmp_path / "demo") == ["ct.png", "deblur.png", "denoise.png"]
