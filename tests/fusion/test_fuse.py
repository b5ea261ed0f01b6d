"""recon.fuse end to end: non-blind and blind recovery, registration (rigid, affine), dtype, errors naming the
argument; the published case (slow)."""
import numpy as np
import pytest
from scipy import signal

import recon
from recon.fusion import FusionModel, fuse
from recon.operators import Warp
from tests.helpers.fusion import assert_monotone, fusion_data, scene


def test_recovers_kernel_free_scene_non_blind_and_objective_decreases():
    truth, photo = scene(32)
    k = np.zeros((5, 5))
    k[2, 2] = 1
    data = truth.reshape(8, 4, 8, 4).mean(axis=(1, 3))
    res = fuse(data, photo, 4, kernel=k, blind=False, weight=1e-3, iters=40, tol=0)
    assert_monotone(res.history)
    assert res.history["objective"][-1] < 0.5 * res.history["objective"][0]
    bicubic_like = np.kron(data, np.ones((4, 4)))
    assert np.linalg.norm(res.x - truth) < 0.7 * np.linalg.norm(bicubic_like - truth)
    assert res.x.shape == truth.shape and np.all(res.x >= 0)
    assert np.array_equal(res.kernel, k)


def test_blind_kernel_on_simplex_and_finds_a_shift():
    truth, photo = scene(48, seed=1)
    m = 3
    k_true = np.zeros((7, 7))
    k_true[m + 2, m - 2] = 1.0  # shift by (+2, -2)
    padded = np.pad(truth, m, mode="symmetric")
    data = signal.convolve(padded, k_true, mode="same")[m:-m, m:-m].reshape(12, 4, 12, 4).mean(axis=(1, 3))
    res = fuse(data, photo, 4, kernel_size=7, iters=60, kernel_weight=0.0, weight=1e-3)
    k = res.kernel
    assert k.min() >= 0 and k.sum() == pytest.approx(1.0, abs=1e-10)
    r, c = np.mgrid[:7, :7]
    bary = (float((k * r).sum()) - m, float((k * c).sum()) - m)
    assert abs(bary[0] - 2) < 0.75 and abs(bary[1] + 2) < 0.75, bary
    assert_monotone(res.history)


def test_float32_stays_float32_and_top_level_name():
    truth, photo = scene(16)
    data = truth.reshape(4, 4, 4, 4).mean(axis=(1, 3)).astype(np.float32)
    res = recon.fuse(data, photo.astype(np.float32), 4, kernel_size=3, iters=3)
    assert res.x.dtype == np.float32 and res.kernel.dtype == np.float32
    assert res.warp.matrix.shape == (2, 3) and np.allclose(res.warp.matrix[:, :2], np.eye(2))


@pytest.mark.parametrize("kwargs, match", [
    ({"side_info": np.ones((30, 32))}, r"side_info has shape \(30, 32\), expected \(32, 32\)"),
    ({"side_info": np.full((32, 32), np.nan)}, "side_info contains NaN"),
    ({"data": np.full((8, 8), np.inf)}, "data contains NaN"),
    ({"weight": -0.1}, "weight must be a finite number >= 0, got -0.1"),
    ({"kernel_weight": -1.0}, "kernel_weight must be a finite number >= 0, got -1.0"),
    ({"kernel_size": 4}, "kernel_size must be a positive odd int, got 4"),
    ({"kernel_size": 33}, r"kernel_size 33 is larger than the image \(32, 32\)"),
    ({"reg": "l1"}, "reg must be one of"),
    ({"registration": "elastic"}, "registration must be one of"),
    ({"blind": False}, "blind=False needs a kernel"),
    ({"factor": 0}, "factor must be a positive int, got 0"),
    ({"iters": 0}, "iters must be a positive int, got 0"),
])
def test_bad_input_names_the_argument(kwargs, match):
    args = {"data": np.ones((8, 8)), "side_info": np.ones((32, 32)), "factor": 4}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fuse(args.pop("data"), args.pop("side_info"), args.pop("factor"), **args)


def _ssim(a, b):
    from recon.metrics import ssim

    return float(ssim(a, b))


@pytest.mark.slow
def test_blind_dtv_on_trees1_shift_5px_disk():
    """The published case with truth: kernel barycentre at (+5, -5), SSIM >= 0.55 and 0.15 above TV and bicubic."""
    from scipy.io import loadmat
    from skimage.transform import resize

    path = fusion_data()
    d = loadmat(path / "trees1_shift_5px_disk.mat")
    truth = loadmat(path / "trees1_shift_5px_disk_ground_truth.mat")["ground_truth"]
    data, photo = d["data"], d["side_info"]
    res = fuse(data, photo, 4, iters=60)
    k = res.kernel
    r, c = np.mgrid[: k.shape[0], : k.shape[1]]
    centre = k.shape[0] // 2
    bary = (float((k * r).sum()) - centre, float((k * c).sum()) - centre)
    tv = fuse(data, photo, 4, reg="tv", iters=60)
    bicubic = resize(data, truth.shape, order=3, mode="symmetric", anti_aliasing=False)
    s_dtv, s_tv, s_bic = _ssim(res.x, truth), _ssim(tv.x, truth), _ssim(bicubic, truth)
    print(f"SSIM blind dTV {s_dtv:.3f}, blind TV {s_tv:.3f}, bicubic {s_bic:.3f}; barycentre {bary}")
    assert abs(bary[0] - 5) <= 1 and abs(bary[1] + 5) <= 1, bary
    assert s_dtv >= 0.55 and s_dtv >= s_tv + 0.15 and s_dtv >= s_bic + 0.15
    assert_monotone(res.history)


def test_rigid_registration_recovers_angle_and_shift():
    """Data from a known rigid warp (0.05 rad, shift (2, -1.5)), known blur, noise 0.01."""
    from recon.metrics import ssim
    from recon.operators import gaussian_kernel

    truth, photo = scene(64, seed=2)
    k = np.asarray(gaussian_kernel(1.0, 5))
    model = FusionModel((16, 16), 4, 5)
    warp = Warp.rigid(model.domain_shape, 0.05, (2.0, -1.5))
    data = model.operator_u(k, warp)(np.pad(truth, 2, mode="symmetric"))
    data = data + 0.01 * np.random.default_rng(0).standard_normal(data.shape)
    plain = fuse(data, photo, 4, kernel=k, blind=False, iters=120, tol=1e-7)
    reg = fuse(data, photo, 4, kernel=k, blind=False, registration="rigid", iters=120, tol=1e-7)
    assert abs(reg.warp.angle - 0.05) <= 0.01
    assert np.all(np.abs(reg.warp.shift - [2.0, -1.5]) <= 1.0), reg.warp.shift
    assert ssim(reg.x, truth) > ssim(plain.x, truth)
    assert_monotone(reg.history)


def test_affine_registration_recovers_the_matrix():
    """Data from a known affine warp (scale, shear, shift), known blur, noise 0.01.

    The matrix is found within 0.03 (A) and 0.25 px (b).
    """
    from recon.metrics import ssim
    from recon.operators import gaussian_kernel

    truth, photo = scene(64, seed=2)
    k = np.asarray(gaussian_kernel(1.0, 5))
    model = FusionModel((16, 16), 4, 5)
    M = np.array([[1.03, 0.04, 1.5], [-0.03, 0.98, -1.0]])
    data = model.operator_u(k, Warp(model.domain_shape, M))(np.pad(truth, 2, mode="symmetric"))
    data = data + 0.01 * np.random.default_rng(0).standard_normal(data.shape)
    res = fuse(data, photo, 4, kernel=k, blind=False, registration="affine", iters=80, tol=1e-8)
    plain = fuse(data, photo, 4, kernel=k, blind=False, iters=80, tol=1e-8)
    assert np.all(np.abs(res.warp.matrix[:, :2] - M[:, :2]) <= 0.03), res.warp.matrix
    assert np.all(np.abs(res.warp.matrix[:, 2] - M[:, 2]) <= 0.25), res.warp.matrix
    assert ssim(res.x, truth) > ssim(plain.x, truth)
    assert_monotone(res.history)


@pytest.mark.slow
def test_rigid_registration_on_trees1_ground_truth():
    """Must-show: trees1_shift_5px_disk's truth warped by 0.05 rad and (3, -2) px, disk blur, block mean, noise 0.01."""
    from scipy.io import loadmat

    path = fusion_data()
    g = loadmat(path / "trees1_shift_5px_disk_ground_truth.mat")
    truth, k = g["ground_truth"], g["kernel"]
    photo = loadmat(path / "trees1_shift_5px_disk.mat")["side_info"]
    model = FusionModel((100, 100), 4, 41)
    warp = Warp.rigid(model.domain_shape, 0.05, (3.0, -2.0))
    data = model.operator_u(k, warp)(np.pad(truth, 20, mode="symmetric"))
    data = data + 0.01 * np.random.default_rng(0).standard_normal(data.shape)
    reg = fuse(data, photo, 4, kernel=k, blind=False, registration="rigid", iters=30)
    plain = fuse(data, photo, 4, kernel=k, blind=False, iters=30)
    s_reg, s_plain = _ssim(reg.x, truth), _ssim(plain.x, truth)
    print(f"angle {reg.warp.angle:.4f}, shift {reg.warp.shift}, SSIM registered {s_reg:.3f}, plain {s_plain:.3f}")
    assert abs(reg.warp.angle - 0.05) <= 0.01
    assert np.all(np.abs(reg.warp.shift - [3.0, -2.0]) <= 1.0), reg.warp.shift
    assert s_reg > s_plain
    assert_monotone(reg.history)
