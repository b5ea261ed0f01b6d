"""Noise-scaling calibration: each knot's offset is a maximiser of the held-out PSNR, and only the scales move."""
import math

import numpy as np
import pytest

from recon import data
from recon.functionals import RidgeRegularizer
from recon.learned import load_npz, weights
from recon.learned.calibrate import _mean_psnr, _with_offsets, calibrate_noise_scaling


def _model(shift=0.0):
    """The shipped convex model with a two-knot noise scaling on [0, 30] (one knot to calibrate: fast)."""
    reg = load_npz(weights.shipped_path("crr"), dtype="float64")
    ns = reg.noise_scaling
    levels = np.array([0.0, 30.0])
    rows = np.array([[float(s(np.array([lv]))[0]) for lv in levels] for s in ns.splines]) + shift
    return RidgeRegularizer(reg.kernels, reg.activation, noise_scaling=weights._NoiseScaling(rows, 0.0, 30.0, ns.unit),
                            w_norm=reg.w_norm, norm_shape=reg.norm_shape)


def _images():
    camera = np.asarray(data.camera(), dtype=np.float64)
    return [camera[100:132, 180:212], camera[300:332, 250:282]]


def test_each_offset_is_a_local_maximiser_and_only_the_scales_move():
    reg = _model()
    out = calibrate_noise_scaling(reg, _images(), xtol=0.02, seed=3)
    (row,) = out.extras["calibration"]
    assert row["sigma"] == pytest.approx(30 / 255)
    assert row["psnr_after"] >= row["psnr_before"]
    offsets = out.noise_scaling.coefficients - reg.noise_scaling.coefficients
    assert np.allclose(offsets, row["offset"])  # one offset for every channel; knot 0 takes knot 30's
    rng = np.random.default_rng(3)
    noises = [rng.standard_normal(im.shape) for im in _images()]
    for step in (-0.1, 0.1):  # the certificate: stepping away from the offset does not denoise better
        moved = _with_offsets(reg, reg.noise_scaling, [row["offset"] + step] * 2)
        assert _mean_psnr(moved, row["sigma"], _images(), noises, 1e-4) <= row["psnr_after"] + 1e-6
    assert all(a is b for a, b in zip(out.kernels, reg.kernels)) and out.activation is reg.activation
    assert out.weak_convexity == reg.weak_convexity
    x = np.random.default_rng(0).random((24, 24))
    ratio = out.at_noise_level(0.1).scale / reg.at_noise_level(0.1).scale  # every scale times e^offset
    assert np.allclose(ratio, math.exp(row["offset"]), rtol=1e-9)
    assert np.isfinite(out.at_noise_level(0.1)(x))


@pytest.mark.slow
def test_a_known_miscalibration_is_undone():
    found = []
    for shift in (0.0, 0.4):  # the same model with every scale e^0.4 too large
        out = calibrate_noise_scaling(_model(shift), _images(), xtol=0.02, seed=3)
        found.append(out.noise_scaling.coefficients[:, 1])
    assert np.allclose(found[0], found[1], atol=0.05)  # both land on the same scales


def test_bad_input_is_refused_by_name():
    reg = _model()
    with pytest.raises(ValueError, match="noise scaling"):
        calibrate_noise_scaling(reg.at_noise_level(0.1).__class__(reg.kernels, reg.activation), _images())
    with pytest.raises(TypeError, match="reg must be a RidgeRegularizer"):
        calibrate_noise_scaling("crr", _images())
    with pytest.raises(ValueError, match="bounds"):
        calibrate_noise_scaling(reg, _images(), bounds=(1.0, -1.0))
    with pytest.raises(ValueError, match="xtol"):
        calibrate_noise_scaling(reg, _images(), xtol=0.0)
    with pytest.raises(ValueError, match="images must hold"):
        calibrate_noise_scaling(reg, [])
    bad = _images()
    bad[1] = bad[1].copy()
    bad[1][0, 0] = np.nan
    with pytest.raises(ValueError, match=r"images\[1\]"):
        calibrate_noise_scaling(reg, bad)
