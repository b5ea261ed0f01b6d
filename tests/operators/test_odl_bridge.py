"""ODL bridge: dot tests through both directions, weights of ODL's inner products, agreement with native operators."""
import numpy as np
import pytest

odl = pytest.importorskip("odl")

from recon.backend import array_namespace, to_numpy  # noqa: E402
from recon.operators import Gradient, Radon, dottest  # noqa: E402
from recon.operators.base import MatrixOperator  # noqa: E402
from recon.operators.odl_bridge import from_odl, to_odl  # noqa: E402


def _odl_dot(op, seed=0):
    """Relative mismatch of <Ax, y>_Y and <x, A*y>_X in ODL's own (weighted) inner products."""
    rng = np.random.default_rng(seed)
    x = op.domain.element(rng.standard_normal(op.domain.shape))
    y = op.range.element(rng.standard_normal(op.range.shape))
    lhs, rhs = op.range.inner(op(x), y), op.domain.inner(x, op.adjoint(y))
    return abs(lhs - rhs) / (x.norm() * y.norm() * max(op.norm(estimate=True), 1e-300))


@pytest.mark.parametrize("cell", [(1.0, 1.0), (0.25, 0.5)])
def test_from_odl_gradient_is_recon_gradient_with_euclidean_adjoint(cell):
    n0, n1 = 9, 6
    space = odl.uniform_discr([0, 0], [n0 * cell[0], n1 * cell[1]], (n0, n1))
    G = from_odl(odl.Gradient(space, pad_mode="symmetric"))
    assert G.shape_in == (n0, n1) and G.shape_out == (2, n0, n1)
    assert dottest(G) <= 1e-12  # despite the cell volume in ODL's inner products
    u = np.random.default_rng(1).random((n0, n1))
    # ODL's forward differences with a symmetric pad are recon's Neumann forward differences
    assert np.allclose(G(u), Gradient((n0, n1), spacing=cell)(u))


def test_from_odl_keeps_the_input_dtype_and_library(xp, dtype, make):
    space = odl.uniform_discr([0, 0], [1, 1], (4, 5))
    S = from_odl(odl.ScalingOperator(space, 3.0))
    out = S(make(np.ones((4, 5))))
    assert out.dtype == dtype and array_namespace(out) == xp and np.allclose(to_numpy(out), 3.0)


def test_to_odl_is_adjoint_in_odl_inner_products_for_weighted_spaces():
    A = Radon((8, 8), np.linspace(0, np.pi, 10, endpoint=False))
    domain = odl.uniform_discr([-4, -4], [4, 4], (8, 8), dtype="float64")  # weight 1
    rng = odl.uniform_discr([0, -6], [np.pi, 6], A.shape_out, dtype="float64")  # weight pi/10 * 12/n_det
    op = to_odl(A, domain, rng)
    assert op.is_linear and op.domain is domain and op.range is rng
    assert _odl_dot(op) <= 1e-12
    assert _odl_dot(op.adjoint) <= 1e-12
    u = np.random.default_rng(2).random((8, 8))
    assert np.allclose(op(domain.element(u)).asarray(), A(u))


def test_round_trip_and_default_tensor_spaces():
    M = MatrixOperator(np.random.default_rng(3).standard_normal((5, 3)))
    op = to_odl(M)
    assert op.domain == odl.tensor_space((3,)) and op.range == odl.tensor_space((5,))
    back = from_odl(op)
    x, y = np.arange(3.0), np.arange(5.0)
    assert np.allclose(back(x), M(x)) and np.allclose(back.adjoint(y), M.adjoint(y))
    assert dottest(back) <= 1e-12


def test_radon_against_odl_ray_transform_with_astra():
    """Same geometry through ODL 1.0's RayTransform (astra CPU, Joseph) and recon's pixel-driven Radon."""
    tomo = pytest.importorskip("odl.applications.tomo")
    if not tomo.ASTRA_AVAILABLE:
        pytest.skip("astra-toolbox not installed")
    from recon import data

    n, n_angles = 64, 30
    angles = np.linspace(0, np.pi, n_angles, endpoint=False)
    A = Radon((n, n), angles)
    nd = A.n_detectors
    space = odl.uniform_discr([-n / 2, -n / 2], [n / 2, n / 2], (n, n), dtype="float32")  # astra: float32
    geometry = tomo.Parallel2dGeometry(odl.nonuniform_partition(angles), odl.uniform_partition(-nd / 2, nd / 2, nd))
    R = from_odl(tomo.RayTransform(space, geometry, impl="astra_cpu"))
    u = np.asarray(data.shepp_logan(n), dtype=np.float64)
    # ODL's axis 0 is x (increasing), axis 1 is y (increasing); recon's rows run down in y
    theirs, ours = R(u[::-1, :].T.copy()), A(u)
    assert np.linalg.norm(theirs - ours) <= 0.02 * np.linalg.norm(ours)  # measured 0.9%; transposed: 23%
    # the bridge's adjoint is the Euclidean transpose of whatever ODL computes: check ODL's backprojection
    # is astra's matched transpose here (CPU projectors are), so the dot test through the bridge holds
    assert dottest(R) <= 1e-6  # measured 6e-10


@pytest.mark.slow  # ~5 s: both solvers to a few 1e-4
def test_tv_reconstruction_is_the_minimiser_odl_pdhg_finds():
    """recon.ct.reconstruct(method='tv') and ODL's own PDHG on the same model (recon's Radon through to_odl,
    ODL's Gradient with symmetric padding = recon's Neumann differences) reach the same image."""
    from odl.functionals import GroupL1Norm, IndicatorNonnegativity, L2NormSquared, SeparableSum

    from recon import ct, data

    n, weight, iters = 32, 0.5, 1500
    angles = ct.uniform_angles(30)
    p = ct.sinogram(np.asarray(data.shepp_logan(n)), angles, noise=0.01, seed=0)
    ours = ct.reconstruct(p, angles, "tv", weight=weight, iters=iters, tol=1e-14, shape=(n, n))
    R = Radon((n, n), angles, n_detectors=p.shape[1])
    a = R.norm()  # ODL's side scaled like recon's, ||K|| <= 3: plain step sizes converge in this budget
    space = odl.uniform_discr([0, 0], [n, n], (n, n))
    A = to_odl((1.0 / a) * R, space, odl.tensor_space(p.shape))
    G = odl.Gradient(space, pad_mode="symmetric")
    f = SeparableSum((0.5 * a * a) * L2NormSquared(A.range).translated(A.range.element(p / a)),
                     weight * GroupL1Norm(G.range))
    x = space.zero()
    odl.solvers.pdhg(x, IndicatorNonnegativity(space), f, odl.BroadcastOperator(A, G), niter=iters,
                     tau=0.099 / 3.0, sigma=10.0 / 3.0)  # tau sigma 9 < 1; ODL 1.0: pdhg(x, f on X, g on Y, L)
    theirs = np.asarray(x.asarray())
    assert np.linalg.norm(ours - theirs) <= 1e-3 * np.linalg.norm(theirs)  # measured 3.8e-4
