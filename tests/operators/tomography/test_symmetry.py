"""Angle orbits under the pixel grid's symmetries: exact, shared positions; pull/push transposes; column scatter
and the backprojection's gather (add_gathered)."""
import numpy as np
import pytest

from recon import backend
from recon.backend import add_gathered, scatter_add, scatter_add_columns, to_numpy
from recon.operators import dottest
from recon.operators.tomography import SUBBINS, Radon
from recon.operators.tomography.symmetry import ELEMENTS, orbits, pull, push
from tests.helpers import tolerance

SHAPES = [(9, 9), (10, 10), (7, 12), (8, 5)]
ANGLE_SETS = {
    "half": np.arange(12) * np.pi / 12,  # orbits of four (square) or two
    "full": np.arange(16) * 2 * np.pi / 16,  # orbits of eight (square) or four
    "odd": np.arange(7) * np.pi / 7,  # pairs theta, pi - theta and a lone 0
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(ANGLE_SETS))
def test_orbits_partition_the_angles_into_related_members(shape, name):
    theta = ANGLE_SETS[name]
    seen = []
    for elements, members in orbits(theta, square=shape[0] == shape[1]):
        assert elements[0] == ELEMENTS[0] and members.shape[1] == len(elements)
        for t, (g11, g12, g21, g22) in enumerate(elements):
            a, b = members[:, 0], members[:, t]
            # (cos b, sin b) = G^T (cos a, sin a)
            assert np.allclose(np.cos(theta[b]), g11 * np.cos(theta[a]) + g21 * np.sin(theta[a]), atol=1e-12)
            assert np.allclose(np.sin(theta[b]), g12 * np.cos(theta[a]) + g22 * np.sin(theta[a]), atol=1e-12)
        seen.extend(members.ravel().tolist())
    assert sorted(seen) == list(range(theta.size))
    if name == "full" and shape[0] == shape[1]:
        assert max(len(e) for e, _ in orbits(theta, True)) == 8


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(ANGLE_SETS))
def test_shared_positions_equal_each_angle_on_its_own(shape, name):
    """An orbit's members get their positions from the first angle; one-angle operators compute their own."""
    theta = ANGLE_SETS[name]
    A = Radon(shape, theta)
    rng = np.random.default_rng(0)
    u, p = rng.random(shape), rng.random(A.shape_out)
    alone = [Radon(shape, [t], n_detectors=A.n_detectors) for t in theta]
    assert np.allclose(A(u), np.concatenate([B(u) for B in alone]), rtol=0, atol=1e-12)
    assert np.allclose(A.adjoint(p), sum(B.adjoint(p[k:k + 1]) for k, B in enumerate(alone)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(ANGLE_SETS))
def test_adjoint_with_orbits(shape, name, xp, dtype):
    A = Radon(shape, ANGLE_SETS[name], detector_spacing=0.9, center=7.2)
    assert dottest(A, xp=xp, dtype=dtype) <= tolerance(dtype, xp)


def test_fixed_point_positions_are_within_three_half_subbins():
    shape, theta = (10, 10), ANGLE_SETS["full"]
    A = Radon(shape, theta, detector_spacing=0.7, center=5.3)
    R, S = A._fixed_point(np, "cpu")
    exact = (A._x[None, None, :] * np.cos(theta)[:, None, None] + A._y[None, :, None] * np.sin(theta)[:, None, None]
             ) / 0.7 + 5.3 + A._offset
    fixed = (R[:, :, None] + S[:, None, :]) / SUBBINS
    assert np.abs(fixed - exact).max() <= 1.5 / SUBBINS


@pytest.mark.parametrize("g", ELEMENTS)
def test_push_is_the_transpose_of_pull(g):
    rng = np.random.default_rng(1)
    v, u = rng.random((6, 6)), rng.random((6, 6))
    assert np.isclose(np.vdot(pull(v, g), u), np.vdot(v, push(u, g)))
    assert np.array_equal(pull(push(u, g), g), u)


@pytest.mark.parametrize("columns", [1, 2, 3, 4])
def test_scatter_add_columns_is_scatter_add_per_column(columns, xp, dtype, make):
    rng = np.random.default_rng(2)
    index = rng.integers(0, 17, 200)
    values = rng.standard_normal((200, columns))
    got = scatter_add_columns(make(index, xp.int64), make(values), 17)
    assert got.shape == (17, columns) and got.dtype == dtype
    for k in range(columns):
        want = to_numpy(scatter_add(make(index, xp.int64), make(values[:, k]), 17))
        assert np.allclose(to_numpy(got)[:, k], want, atol=tolerance(dtype, xp, 1e-12, 1e-5))


def test_add_gathered_sums_table_rows_at_outer_sum_indices(xp, dtype, make):
    """out[rows][i, j] += sum_q table[offsets[q, i] + positions[q, j]], on a slice of out; NumPy blocks the rows."""
    rng = np.random.default_rng(5)
    table = rng.standard_normal((50, 3))
    offsets, positions = rng.integers(0, 20, (2, 7)), rng.integers(0, 30, (2, 4))
    out = rng.standard_normal((9, 4, 3))
    want = out.copy()
    want[1:8] += sum(table[offsets[q][:, None] + positions[q][None, :]] for q in range(2))
    got = add_gathered(make(out), make(table), make(offsets, xp.int64), make(positions, xp.int64),
                       index=(slice(1, 8), ...))
    assert np.allclose(to_numpy(got), want, atol=tolerance(dtype, xp, 1e-12, 1e-5))


def test_add_gathered_in_several_blocks(monkeypatch):
    monkeypatch.setattr(backend, "_GATHER_BLOCK", 8)  # two rows of four pixels a block
    rng = np.random.default_rng(6)
    table, offsets, positions = rng.standard_normal((40, 2)), rng.integers(0, 10, (1, 5)), rng.integers(0, 30, (1, 4))
    got = add_gathered(np.zeros((5, 4, 2)), table, offsets, positions)
    assert np.array_equal(got, table[offsets[0][:, None] + positions[0][None, :]])
