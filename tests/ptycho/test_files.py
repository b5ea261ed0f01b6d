"""recon.ptycho.load / save (recon/ptycho/files.py): recon's .npz, PtyLab's CPM HDF5, errors."""
import numpy as np
import pytest

from recon import ptycho
from recon.backend import to_numpy
from tests.helpers.ptycho import make_case


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_files_round_trip(tmp_path, suffix):
    pytest.importorskip("h5py")
    obj, probe, positions, _ = make_case()
    path = tmp_path / f"scan{suffix}"
    scan = ptycho.simulate(obj, probe, positions, path=path, wavelength=632.8e-9, zo=5e-2, dxd=28.8e-6)
    loaded = ptycho.load(path)
    assert np.array_equal(to_numpy(loaded.intensities), scan.intensities)
    assert np.allclose(loaded.positions, positions) and loaded.object_shape == obj.shape
    with pytest.raises(FileExistsError):
        ptycho.simulate(obj, probe, positions, path=path, wavelength=632.8e-9, zo=5e-2, dxd=28.8e-6)


def _cpm_file(path, encoder_pixels):
    """A PtyLab CPM file with two 16x16 patterns of ones on a 64x64 object; ``encoder_pixels`` the scan
    positions in object pixels (the file stores them in metres).  Returns ``(path, dxo, nd, No)``."""
    h5py = pytest.importorskip("h5py")
    wavelength, zo, dxd, nd, No = 632.8e-9, 5e-2, 28.8e-6, 16, 64
    dxo = wavelength * zo / (nd * dxd)
    with h5py.File(path, "w") as f:
        for k, v in dict(ptychogram=np.ones((2, nd, nd)), encoder=np.asarray(encoder_pixels) * dxo,
                         wavelength=wavelength, zo=zo, dxd=dxd, No=No).items():
            f.create_dataset(k, data=v)
    return path, dxo, nd, No


def test_ptylab_position_rule(tmp_path):
    path, dxo, nd, No = _cpm_file(tmp_path / "cpm.hdf5", [[0.0, 0.0], [3.2, -5.7]])
    encoder = np.array([[0.0, 0.0], [3.2, -5.7]]) * dxo
    scan = ptycho.load(path)
    assert np.allclose(np.rint(scan.positions), np.round(encoder / dxo) + No // 2 - nd // 2)
    assert scan.object_shape == (No, No)


def test_ptylab_files_round_to_ptylab_corners_unless_subpixel(tmp_path):
    path, dxo, nd, No = _cpm_file(tmp_path / "cpm.h5", [[0.3, 0.0], [3.2, -5.7]])
    encoder = np.array([[0.3, 0.0], [3.2, -5.7]]) * dxo
    corners = np.round(encoder / dxo) + No // 2 - nd // 2
    assert np.array_equal(ptycho.load(path).positions, corners)
    assert np.allclose(ptycho.load(path, subpixel=True).positions, encoder / dxo + No // 2 - nd // 2)


def test_bad_files_name_the_path(tmp_path):
    pytest.importorskip("h5py")
    (tmp_path / "junk.h5").write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match=r"junk\.h5.*could not be read"):
        ptycho.load(tmp_path / "junk.h5")
    with pytest.raises(ValueError, match="path must end in"):
        ptycho.load(tmp_path / "scan.txt")


@pytest.mark.slow
def test_reads_and_reconstructs_ptylab_own_simulation(tmp_path):
    """PtyLab's generate_simu_hdf5 (1536² object grid, 100 noisy 128² patterns, no probe): ~12 s."""
    pytest.importorskip("h5py")
    simulation = pytest.importorskip("PtyLab.io.generateSimulationData")
    path = tmp_path / "simu.hdf5"
    state = np.random.get_state()
    np.random.seed(0)  # PtyLab draws its Poisson noise from NumPy's global generator, unseeded
    try:
        simulation.generate_simu_hdf5(path)
    finally:
        np.random.set_state(state)
    scan = ptycho.load(path)
    assert scan.intensities.shape == (100, 128, 128) and scan.object_shape == (1536, 1536)
    assert scan.probe is None and scan.entrance_pupil_diameter > 0
    result = ptycho.reconstruct(scan, iters=30)
    h = result.history["residual"]
    assert np.all(np.isfinite(to_numpy(result.x))) and result.probe.shape == (128, 128)
    # Seed 0: 0.066 of the first sweep's residual; unseeded draws gave 0.066, 0.11 and 0.12 (noise sets the floor).
    assert h[-1] < 0.2 * h[0]
