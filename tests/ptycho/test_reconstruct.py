"""recon.ptycho.reconstruct (recon/ptycho/reconstruct.py): the driver end to end: probe, precision, stopping, errors."""
import numpy as np
import pytest

from recon import ptycho
from tests.helpers.ptycho import make_case, subpixel_case


def test_unknown_probe_reaches_the_residual_target():
    obj, probe, positions, scan = make_case()
    scan.probe = None
    result = ptycho.reconstruct(scan, method="rpie", iters=300, tol=1e-3)
    assert result.converged and result.iterations <= 300
    assert result.history["residual"][-1] <= 1e-3
    assert result.probe.shape == probe.shape


def test_single_precision_stays_single():
    obj, probe, positions, scan = make_case()
    scan.intensities = scan.intensities.astype(np.float32)
    result = ptycho.reconstruct(scan, iters=5, refine_probe=True)
    assert result.x.dtype == np.complex64 and result.probe.dtype == np.complex64


def test_bad_input_names_the_argument():
    obj, probe, positions, scan = make_case()
    with pytest.raises(ValueError, match="intensities must be >= 0"):
        ptycho.reconstruct(-scan.intensities, positions=positions)
    bad = scan.intensities.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="intensities contains NaN"):
        ptycho.reconstruct(bad, positions=positions)
    with pytest.raises(ValueError, match=r"positions must have shape \(40, 2\)"):
        ptycho.reconstruct(scan.intensities, positions=positions[:5])
    with pytest.raises(ValueError, match=r"positions\[0\] .* outside"):
        ptycho.reconstruct(scan.intensities, positions=positions - 100, object_shape=obj.shape)
    with pytest.raises(ValueError, match="probe must have shape"):
        ptycho.reconstruct(scan, probe=np.ones((8, 8), dtype=complex))
    with pytest.raises(ValueError, match="method must be one of"):
        ptycho.reconstruct(scan, method="dm")
    with pytest.raises(ValueError, match=r"momentum must be a finite number >= 0 and < 1, got 1.0"):
        ptycho.reconstruct(scan, momentum=1.0)
    with pytest.raises(ValueError, match="refine_positions must be"):
        ptycho.reconstruct(scan, refine_positions={"speed": 2})


@pytest.mark.parametrize("options", [dict(method="rpie", refine_positions=True), dict(method="gd"),
                                     dict(method="gd", refine_positions=True, batch=8),
                                     dict(method="epie", reg="tv", weight=0.01, iters=3)])
def test_array_api_strict_single_precision(options):
    """Sub-pixel positions, position refinement and the prior use only array-API calls; complex64 stays.

    The prior's case runs 3 sweeps instead of 6: TV's prox on array_api_strict costs about 0.7 s a sweep.
    """
    xs = pytest.importorskip("array_api_strict")
    obj, probe, positions, scan = subpixel_case()
    result = ptycho.reconstruct(xs.asarray(scan.intensities.astype(np.float32)), positions=positions,
                                object_shape=obj.shape, **{"iters": 6, **options})
    assert result.x.dtype == xs.complex64 and result.probe.dtype == xs.complex64
    h = result.history["residual"]
    assert np.isfinite(h[-1]) and h[-1] < h[0]


@pytest.mark.slow
def test_issue_case_known_probe_256():
    """256² object, 64² probe, 120 Fermat-spiral positions, noiseless, known probe: error < 1e-3."""
    obj, probe, positions, scan = make_case(M=256, m=64, J=120, diameter=40)
    result = ptycho.reconstruct(scan, method="rpie", iters=100, refine_probe=False, tol=1e-12)
    mask = ptycho.illuminated(probe, positions, obj.shape)
    assert ptycho.object_error(result.x, obj, mask) < 1e-3


def test_loop_ending_messages_progress_and_callback_check():
    """The sweep loop (solvers' Loop): messages as before, a progress bar, the callback checked up front."""
    obj, probe, positions, scan = make_case()
    res = ptycho.reconstruct(scan, iters=3, progress=True)
    assert (res.iterations, res.converged, res.message) == (3, False, "reached iters=3")
    assert res.history["iteration"] == [1, 2, 3] and isinstance(res, ptycho.PtychoResult)
    res = ptycho.reconstruct(scan, iters=3, callback=lambda k, x, p, r: k == 2)
    assert (res.iterations, res.converged, res.message) == (2, True, "stopped by callback")
    with pytest.raises(TypeError, match="callback must be callable or None, got int"):
        ptycho.reconstruct(scan, callback=3)
