"""recon/ptycho/scan.py: the Scan container, spiral positions, probes, error measures."""
import numpy as np
import pytest

from recon import ptycho


def test_fermat_spiral_fills_the_object_and_stays_inside():
    corners = ptycho.fermat_spiral(50, (64, 80), (16, 16))
    assert corners.shape == (50, 2) and np.array_equal(corners, np.rint(corners))
    assert corners.min() >= 0 and np.all(corners.max(axis=0) <= [64 - 16, 80 - 16])
    assert len({tuple(c) for c in corners}) > 45  # a spiral, not a pile
    exact = ptycho.fermat_spiral(50, (64, 80), (16, 16), integer=False)
    assert np.abs(exact - corners).max() <= 0.5 and not np.array_equal(exact, np.rint(exact))
    with pytest.raises(ValueError, match=r"probe_shape .* larger than object_shape"):
        ptycho.fermat_spiral(5, (8, 8), (16, 16))


@pytest.mark.parametrize("kind", ["disk", "structured"])
def test_make_probe_has_unit_peak_and_the_asked_diameter(kind):
    probe = ptycho.make_probe((32, 32), 12, kind=kind, seed=0)
    assert probe.shape == (32, 32) and probe.dtype == np.complex128
    assert np.abs(probe).max() == pytest.approx(1.0)
    assert np.sum(np.abs(probe) > 0.5) == pytest.approx(np.pi * 6 ** 2, rel=0.1)
    with pytest.raises(ValueError, match="kind must be"):
        ptycho.make_probe((32, 32), kind="gauss")
    with pytest.raises(ValueError, match="diameter must be a finite number > 0"):
        ptycho.make_probe((32, 32), -1)


def test_object_error_ignores_a_global_complex_factor_only():
    truth = np.exp(1j * np.random.default_rng(0).uniform(0, 1, (16, 16)))
    assert ptycho.object_error((0.5 - 2j) * truth, truth) < 1e-14
    assert ptycho.object_error(truth.conj(), truth) > 0.1
    mask = np.zeros(truth.shape, dtype=bool)
    mask[:4] = True
    wrong = truth.copy()
    wrong[~mask] = 0
    assert ptycho.object_error(wrong, truth, mask) < 1e-14


def test_illuminated_covers_the_scanned_part():
    probe = ptycho.make_probe((16, 16), 8)
    mask = ptycho.illuminated(probe, [[0, 0], [0, 8]], (32, 32))
    assert mask.shape == (32, 32) and mask[8, 8] and mask[8, 16] and not mask[24, 8]


def test_scan_pixel_size_and_result_repr():
    scan = ptycho.Scan(np.zeros((2, 16, 16)), np.zeros((2, 2)), (32, 32), wavelength=632.8e-9, zo=5e-2, dxd=28.8e-6)
    assert scan.dxo == pytest.approx(632.8e-9 * 5e-2 / (16 * 28.8e-6))
    assert ptycho.Scan(np.zeros((2, 16, 16)), np.zeros((2, 2)), (32, 32)).dxo is None
    result = ptycho.PtychoResult(x=np.ones(2), iterations=1, converged=False)
    assert repr(result).startswith("PtychoResult(")
