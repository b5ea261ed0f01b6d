"""Small functionals written for the solver tests, independent of recon.functionals.

Each is a few lines of array-API code with its value, gradient/prox and conjugate written
out, so a solver failure points at the solver and not at a functional.
"""
import numpy as np

from recon.backend import array_namespace, to_numpy
from recon.functionals import Functional
from recon.operators import vdot


def _feasible(value, bound, x):
    xp = array_namespace(x)
    return value <= bound * (1 + 64 * float(xp.finfo(x.dtype).eps))


class HalfSquaredDistance(Functional):
    """:math:`\\tfrac12\\|x - b\\|^2`: 1-smooth and 1-strongly convex, prox and conjugate in closed form."""

    lipschitz = 1.0
    strong_convexity = 1.0

    def __init__(self, b):
        self.b = b

    def __call__(self, x):
        d = x - self.b
        return 0.5 * vdot(d, d)

    def grad(self, x):
        return x - self.b

    def prox(self, x, tau):
        return (x + tau * self.b) / (1.0 + tau)

    def conj(self, y):
        return 0.5 * vdot(y, y) + vdot(y, self.b)

    def prox_conj(self, y, sigma):
        return (y - sigma * self.b) / (1.0 + sigma)


class LeastSquares(Functional):
    """:math:`\\tfrac12\\|Ax - b\\|^2`; ``known_lipschitz=False`` hides :math:`\\|A\\|^2` (backtracking)."""

    def __init__(self, A, b, known_lipschitz=True):
        self.A, self.b = A, b
        self.lipschitz = A.norm() ** 2 if known_lipschitz else None

    def __call__(self, x):
        r = self.A(x) - self.b
        return 0.5 * vdot(r, r)

    def grad(self, x):
        return self.A.adjoint(self.A(x) - self.b)


class L1(Functional):
    """:math:`\\lambda\\|x\\|_1`; conjugate the indicator of :math:`\\{\\|y\\|_\\infty \\le \\lambda\\}`."""

    def __init__(self, lam):
        self.lam = lam

    def __call__(self, x):
        xp = array_namespace(x)
        return self.lam * float(xp.sum(xp.abs(x)))

    def prox(self, x, tau):
        xp = array_namespace(x)
        t = tau * self.lam
        return x - xp.clip(x, -t, t)

    def conj(self, y):
        xp = array_namespace(y)
        return 0.0 if _feasible(float(xp.max(xp.abs(y))), self.lam, y) else float("inf")


class GroupL1(Functional):
    """:math:`\\lambda\\sum_i \\|p_{:, i}\\|_2` over axis 0 (isotropic TV on ``Gradient`` output).

    ``prox_conj`` is the projection onto the product of balls of radius :math:`\\lambda`;
    ``in_place=True`` adds ``prox_conj_into`` so the solver's in-place path is exercised.
    """

    def __init__(self, lam, in_place=False):
        self.lam = lam
        if in_place:
            self.prox_conj_into = self._prox_conj_into

    def _norms(self, p):
        xp = array_namespace(p)
        return xp.sqrt(xp.sum(p * p, axis=0))

    def __call__(self, p):
        xp = array_namespace(p)
        return self.lam * float(xp.sum(self._norms(p)))

    def prox_conj(self, p, sigma):
        xp = array_namespace(p)
        return p / xp.maximum(self._norms(p) / self.lam, 1.0)

    def _prox_conj_into(self, p, sigma, out):
        xp = array_namespace(p)
        out[...] = p / xp.maximum(self._norms(p) / self.lam, 1.0)
        return out

    def conj(self, p):
        xp = array_namespace(p)
        return 0.0 if _feasible(float(xp.max(self._norms(p))), self.lam, p) else float("inf")


class ProxOnly(Functional):
    """A functional with a prox (that of ``inner``) and nothing else: no value, no conjugate."""

    def __init__(self, inner):
        self.prox = inner.prox


def lasso_kkt(A, b, lam, x):
    """Largest violation of the lasso optimality conditions :math:`-A^T(Ax - b) \\in \\lambda\\partial\\|x\\|_1`."""
    A, b, x = (np.asarray(to_numpy(v), dtype=np.float64) for v in (A, b, x))
    g = A.T @ (A @ x - b)
    active = x != 0
    on = np.abs(g[active] + lam * np.sign(x[active]))
    off = np.maximum(np.abs(g[~active]) - lam, 0)
    return float(max(on.max(initial=0.0), off.max(initial=0.0)))


def lasso_problem(m=30, n=12, seed=0):
    """A lasso instance whose solution has both zero and non-zero entries."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((m, n)) / np.sqrt(m)
    x_true = np.zeros(n)
    x_true[: n // 3] = rng.standard_normal(n // 3) * 3
    b = A @ x_true + 0.05 * rng.standard_normal(m)
    lam = float(0.1 * np.abs(A.T @ b).max())
    return A, b, lam
