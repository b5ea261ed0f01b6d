"""Property checks shared by the functional tests: brute-force prox, Moreau, Fenchel–Young, finite differences."""
import numpy as np
from scipy.optimize import minimize

from recon.backend import to_numpy


def brute_prox(value, x, tau, *, constraints=None, bounds=None):
    """``argmin_z tau * value(z) + 1/2 ||z - x||^2`` by scipy on a small float64 vector.

    ``value`` takes a flat NumPy vector.  Powell (derivative free, copes with kinks) when
    unconstrained, SLSQP / L-BFGS-B for constraints or bounds.
    """
    x = np.asarray(x, dtype=float).ravel()

    def obj(z):
        return tau * value(z) + 0.5 * np.sum((z - x) ** 2)

    if constraints is not None:
        res = minimize(obj, x, method="SLSQP", constraints=constraints, options={"ftol": 1e-14, "maxiter": 2000})
    elif bounds is not None:
        res = minimize(obj, x, method="L-BFGS-B", bounds=bounds,
                       options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000})
    else:
        res = minimize(obj, x, method="Powell", options={"xtol": 1e-12, "ftol": 1e-15, "maxiter": 200000})
        res = minimize(obj, res.x, method="Powell", options={"xtol": 1e-12, "ftol": 1e-15, "maxiter": 200000})
    return res.x, obj


def assert_prox_optimal(F, x, tau, *, constraints=None, bounds=None, atol=1e-4):
    """The prox of ``F`` at float64 NumPy ``x`` beats (or ties) scipy's minimiser and lies next to it."""
    z = np.asarray(F.prox(x, tau), dtype=float)
    zb, obj = brute_prox(lambda v: F(v.reshape(x.shape)), x, tau, constraints=constraints, bounds=bounds)
    assert obj(z.ravel()) <= obj(zb) + 1e-9 * (1 + abs(obj(zb))), (obj(z.ravel()), obj(zb))
    # strong convexity of the prox objective: ||z - z*||^2 <= 2 (obj(zb) - obj*), so the two are close
    assert np.max(np.abs(z.ravel() - zb)) <= atol, np.max(np.abs(z.ravel() - zb))
    return z


def assert_moreau(F, x, tau, rtol):
    """Moreau's identity ``x = prox_{tau F}(x) + tau prox_{F*/tau}(x / tau)``."""
    lhs = F.prox(x, tau) + tau * F.prox_conj(x * (1.0 / tau), 1.0 / tau)
    xn = to_numpy(x)
    assert to_numpy(lhs).dtype == xn.dtype
    assert np.allclose(to_numpy(lhs), xn, rtol=rtol, atol=rtol * np.max(np.abs(xn)))


def assert_fenchel_young(F, x, tau, rtol):
    """At ``p = prox_{tau F}(x)``, ``s = (x - p) / tau`` is a subgradient: ``F(p) + F*(s) = <p, s>``."""
    p = F.prox(x, tau)
    s = (x - p) * (1.0 / tau)
    pn, sn = to_numpy(p).astype(float), to_numpy(s).astype(float)
    lhs, rhs = F(p) + F.conj(s), float(np.sum(pn * sn))
    scale = abs(F(p)) + abs(rhs) + 1.0
    assert abs(lhs - rhs) <= rtol * scale, (lhs, rhs)


def assert_grad_fd(F, x, h=1e-6, rtol=1e-6, seed=0):
    """Directional derivative of ``F`` at float64 ``x`` matches ``<grad F(x), d>`` (central differences)."""
    d = np.random.default_rng(seed).standard_normal(x.shape)
    fd = (F(x + h * d) - F(x - h * d)) / (2 * h)
    an = float(np.sum(np.asarray(F.grad(x)) * d))
    assert abs(fd - an) <= rtol * max(1.0, abs(an)), (fd, an)


def assert_lipschitz(F, shape, *, seed=0, trials=5, tight=False):
    """``||grad F(a) - grad F(b)|| <= L ||a - b||`` on random pairs (and nearly attained if ``tight``)."""
    rng = np.random.default_rng(seed)
    worst = 0.0
    for _ in range(trials):
        a, b = rng.standard_normal(shape), rng.standard_normal(shape)
        ratio = np.linalg.norm(np.asarray(F.grad(a)) - np.asarray(F.grad(b))) / np.linalg.norm(a - b)
        assert ratio <= F.lipschitz * (1 + 1e-9), (ratio, F.lipschitz)
        worst = max(worst, ratio)
    return worst
