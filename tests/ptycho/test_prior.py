"""The object prior (recon/ptycho/prior.py): reconstruct(reg=..., weight=...)."""
import pytest

from recon import ptycho
from tests.helpers.ptycho import make_case


def test_tv_helps_on_photon_limited_data():
    """1e3 photons per pattern: TV on the real and imaginary parts lowers the object error."""
    obj, probe, positions, _ = make_case()
    scan = ptycho.simulate(obj, probe, positions, photons=1e3, seed=3)
    mask = ptycho.illuminated(probe, positions, obj.shape)
    errors = [ptycho.object_error(ptycho.reconstruct(scan, method="gd", iters=50, refine_probe=False, reg=reg,
                                                     weight=w).x, obj, mask) for reg, w in ((None, None), ("tv", 0.3))]
    assert errors[1] < 0.75 * errors[0]


def test_bad_reg_names_the_argument():
    obj, probe, positions, scan = make_case()
    with pytest.raises(ValueError, match="weight must be"):
        ptycho.reconstruct(scan, reg="tv")
    with pytest.raises(ValueError, match="reg must be"):
        ptycho.reconstruct(scan, reg="l1", weight=1.0)
