"""``recon ptycho``: smoke runs on .npz and PtyLab HDF5, options, and every error path.

An error exits with status 2, prints one line and writes nothing.
"""
import re

import numpy as np
import pytest

from recon import cli, io, ptycho
from tests.helpers.cli import listing, run_recon

GEOMETRY = {"wavelength": 632.8e-9, "zo": 5e-2, "dxd": 28.8e-6}


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)
    obj = (0.8 + 0.2 * rng.uniform(size=(64, 64))) * np.exp(1j * rng.uniform(-0.5, 0.5, (64, 64)))
    probe = ptycho.make_probe((16, 16), 10)
    positions = ptycho.fermat_spiral(40, obj.shape, probe.shape)
    ptycho.simulate(obj, probe, positions, path="scan.npz")
    np.save("truth.npy", obj)
    return tmp_path


def test_subprocess_smoke_writes_object_and_pngs(workdir):
    run = run_recon("ptycho", "--data", "scan.npz", "--output", "obj.npy", "--iters", "30", cwd=workdir)
    assert run.returncode == 0, run.stderr
    assert "obj.npy" in run.stdout and "rpie" in run.stdout and run.stderr == ""
    x = np.load("obj.npy")
    assert x.shape == (64, 64) and np.iscomplexobj(x)
    assert io.read_image("obj_amplitude.png").shape == (64, 64)
    assert io.read_image("obj_phase.png").shape == (64, 64)


def test_result_is_the_library_result(workdir):
    assert cli.main(["ptycho", "--data", "scan.npz", "-o", "obj.npy", "--iters", "20", "--method", "gd"]) == 0
    want = ptycho.reconstruct(ptycho.load("scan.npz"), method="gd", iters=20, refine_probe=False).x
    assert np.allclose(np.load("obj.npy"), want)


def test_ptylab_hdf5_without_probe_refines_it(workdir):
    pytest.importorskip("h5py")
    scan = ptycho.load("scan.npz")
    scan.probe = None
    scan.wavelength, scan.zo, scan.dxd = GEOMETRY.values()
    ptycho.save("scan.h5", scan)
    assert cli.main(["ptycho", "--data", "scan.h5", "-o", "obj.npy", "--iters", "15"]) == 0
    loaded = ptycho.load("scan.h5")
    refined, kept = (ptycho.reconstruct(loaded, iters=15, refine_probe=r).x for r in (True, False))
    assert np.allclose(np.load("obj.npy"), refined) and not np.allclose(refined, kept)


@pytest.mark.parametrize("extra", [["--refine-positions", "--iters", "12"], ["--reg", "tv", "--weight", "0.01"],
                                   ["--method", "epie", "--refine-probe"],
                                   ["--method", "gd", "--refine-positions", "--batch", "8", "--iters", "12"]])
def test_options_run(workdir, extra):
    assert cli.main(["ptycho", "--data", "scan.npz", "-o", "obj.npy", "--iters", "10", *extra]) == 0
    assert np.all(np.isfinite(np.load("obj.npy")))


def test_force_overwrites(workdir):
    assert cli.main(["ptycho", "--data", "scan.npz", "-o", "obj.npy", "--iters", "5"]) == 0
    assert cli.main(["ptycho", "--data", "scan.npz", "-o", "obj.npy", "--iters", "5"]) == 2
    assert cli.main(["ptycho", "--data", "scan.npz", "-o", "obj.npy", "--iters", "5", "--force"]) == 0


@pytest.mark.parametrize("args, message", [
    (["--data", "missing.npz", "-o", "obj.npy"], "--data: no such file"),
    (["--data", "truth.npy", "-o", "obj.npy"], "--data: must end in"),
    (["--data", "bad.npz", "-o", "obj.npy"], "--data: .*could not be read"),
    (["--data", "scan.npz", "-o", "obj.png"], "--output: must end in .npy"),
    (["--data", "scan.npz", "-o", "nodir/obj.npy"], "--output: directory"),
    (["--data", "scan.npz", "-o", "obj.npy", "--reg", "tv"], "--weight: required"),
    (["--data", "scan.npz", "-o", "obj.npy", "--weight", "-1"], "--weight"),
    (["--data", "scan.npz", "-o", "obj.npy", "--iters", "0"], "--iters"),
    (["--data", "scan.npz", "-o", "obj.npy", "--method", "dm"], "--method"),
    (["--data", "scan.npz", "-o", "obj.npy", "--batch", "1000"], "--batch: must be at most the number of positions"),
    (["--data", "scan.npz", "-o", "obj.npy", "--batch", "0"], "--batch"),
    (["--data", "scan.npz", "-o", "obj.npy", "--backend", "cupy"], "--backend"),
])
def test_errors_exit_2_with_one_line_and_write_nothing(workdir, capsys, args, message):
    if "cupy" in args:
        try:
            import cupy  # noqa: F401
            pytest.skip("CuPy present: --backend cupy is valid here")
        except ImportError:
            pass
    (workdir / "bad.npz").write_bytes(b"not a zip")
    before = listing(workdir)
    assert cli.main(["ptycho", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("recon: error: ")
    assert re.search(message, err[0]), err[0]
    assert listing(workdir) == before


def test_existing_png_sibling_blocks_without_force(workdir, capsys):
    io.write_image("obj_phase.png", np.zeros((4, 4)))
    before = listing(workdir)
    assert cli.main(["ptycho", "--data", "scan.npz", "-o", "obj.npy", "--iters", "5"]) == 2
    assert "obj_phase.png" in capsys.readouterr().err and listing(workdir) == before
