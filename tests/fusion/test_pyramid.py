"""recon.fusion.pyramid: the halved kernel, the default number of levels, the warp's fine <-> coarse conversion, and
the coarse-to-fine start recovering a warp the single scale misses (slow, published data)."""
from types import SimpleNamespace

import numpy as np
import pytest

from recon.fusion import FusionModel, fuse
from recon.fusion.pyramid import coarse_warp, default_levels, halve_kernel
from recon.operators import Warp
from tests.helpers.fusion import assert_monotone, blind_shift_case, fusion_data

RNG = np.random.default_rng(5)


def test_halved_kernel_keeps_mass_and_halves_the_barycentre():
    for size in (5, 7, 9, 41):
        k = RNG.random((size, size))
        k /= k.sum()
        h = halve_kernel(k)
        r, rc = size // 2, h.shape[0] // 2
        assert h.shape[0] % 2 == 1 and rc == -(-r // 2)
        assert h.sum() == pytest.approx(1.0, abs=1e-14) and h.min() >= 0
        off, offc = np.arange(size) - r, np.arange(h.shape[0]) - rc
        for axis in (0, 1):
            bary = np.sum(k.sum(axis=1 - axis) * off)
            assert np.sum(h.sum(axis=1 - axis) * offc) == pytest.approx(bary / 2, abs=1e-13)
    assert halve_kernel(np.eye(5, dtype=np.float32)).dtype == np.float32
    assert default_levels((100, 100), "rigid") == 3 and default_levels((40, 33), "affine") == 2
    assert default_levels((31, 64), "rigid") == 1 and default_levels((100, 100), None) == 1


def test_levels_one_is_the_single_scale_run_and_bad_levels_name_the_argument():
    data, photo = blind_shift_case()
    with pytest.raises(ValueError, match="levels"):
        fuse(data, photo, 4, kernel_size=7, registration="rigid", levels=0)
    a = fuse(data, photo, 4, kernel_size=7, registration="rigid", iters=3)  # 12x12 data: single scale
    b = fuse(data, photo, 4, kernel_size=7, registration="rigid", iters=3, levels=1)
    assert np.array_equal(a.x, b.x)


@pytest.mark.parametrize("data_shape", [(32, 32), (33, 35)])
def test_coarse_warp_round_trip_keeps_the_start(data_shape):
    """Fine -> coarse -> fine conversion of [A | b] is the identity (odd sides move the coarse centre by factor / 2)."""
    seen = {}

    def fake_fuse(data, side, factor, *, warp, **kwargs):
        seen.update(shape=data.shape, side=side.shape, kernel_size=kwargs["kernel_size"], weight=kwargs["weight"])
        return SimpleNamespace(warp=SimpleNamespace(matrix=warp))

    start = Warp.rigid((3, 3), 0.07, (2.5, -1.25)).matrix
    data, side = RNG.random(data_shape), RNG.random(tuple(4 * n for n in data_shape))
    out = coarse_warp(fake_fuse, data, side, 4, kernel=None, kernel_size=9, matrix0=start, levels=2, weight=0.1)
    assert np.allclose(out, start, atol=1e-12)
    assert seen["shape"] == (16, 16) or seen["shape"] == (16, 17)
    assert seen["side"] == tuple(4 * n for n in seen["shape"]) and seen["kernel_size"] == 5 and seen["weight"] == 0.05


@pytest.mark.slow
def test_coarse_to_fine_registration_recovers_a_large_warp_on_trees1():
    """Truth of trees1 warped by 0.08 rad and (7, -6) px (disk blur known, noise 0.01): the single-scale start stalls
    (measured: 0.03 rad, (1.8, -1.3) px after 30 iterations), the default pyramid (3 levels) recovers it."""
    from scipy.io import loadmat

    path = fusion_data()
    g = loadmat(path / "trees1_shift_5px_disk_ground_truth.mat")
    truth, k = g["ground_truth"], g["kernel"]
    photo = loadmat(path / "trees1_shift_5px_disk.mat")["side_info"].astype(np.float32)
    model = FusionModel((100, 100), 4, 41)
    warp = Warp.rigid(model.domain_shape, 0.08, (7.0, -6.0))
    data = model.operator_u(k, warp)(np.pad(truth, 20, mode="symmetric"))
    data = (data + 0.01 * np.random.default_rng(0).standard_normal(data.shape)).astype(np.float32)
    k = k.astype(np.float32)
    single = fuse(data, photo, 4, kernel=k, blind=False, registration="rigid", iters=30, levels=1)
    pyramid = fuse(data, photo, 4, kernel=k, blind=False, registration="rigid", iters=30)
    assert abs(single.warp.angle - 0.08) > 0.01 or np.any(np.abs(single.warp.shift - [7.0, -6.0]) > 1.0)
    assert abs(pyramid.warp.angle - 0.08) <= 0.01
    assert np.all(np.abs(pyramid.warp.shift - [7.0, -6.0]) <= 1.0), pyramid.warp.shift
    assert pyramid.history["objective"][-1] < 0.5 * single.history["objective"][-1]
    assert_monotone(pyramid.history, rtol=1e-6)
