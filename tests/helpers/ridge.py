"""A small random ridge regularizer (CRR / WCRR / per-channel CRR) like the published ones."""
import itertools

import numpy as np

from recon.functionals import L2DataFidelity, LinearSpline, RidgeRegularizer
from recon.operators import Convolution
from recon.operators.convolution import gaussian_kernel

KNOTS = np.linspace(-0.1, 0.1, 21)


def _monotone_spline(seed, antisymmetric=True):
    """Slopes in [0, 1], flat end segments, odd if antisymmetric (like the published activations)."""
    slopes = np.random.default_rng(seed).uniform(0, 1, KNOTS.size - 1)
    slopes[0] = slopes[-1] = 0
    c = np.concatenate([[0], np.cumsum(slopes) * (KNOTS[1] - KNOTS[0])])
    if antisymmetric:
        c = 0.5 * (c - c[::-1])
    return c


def make_reg(kind="crr", seed=0, channels=(1, 4, 8, 12), xp=np, mu=None):
    rng = np.random.default_rng(seed)
    ks = [rng.standard_normal((co, ci, 5, 5)) / 5 for ci, co in itertools.pairwise(channels)]
    ks[0] -= ks[0].mean(axis=(1, 2, 3), keepdims=True)
    mu = (3.0 if kind == "crr" else 1.0) if mu is None else mu
    coeff = mu * _monotone_spline(seed)
    if kind == "crr-channels":  # one spline per output channel (the original CRR-NN checkpoints)
        coeff = np.stack([mu * rng.uniform(0.2, 1) * _monotone_spline(seed + 100 + c, antisymmetric=c % 2 == 0)
                          for c in range(channels[-1])])
    if kind == "wcrr":
        coeff = coeff - _monotone_spline(seed + 1)
    reg = RidgeRegularizer(ks, LinearSpline(coeff, -0.1, 0.1), scale=rng.uniform(0.5, 2, channels[-1]),
                           norm_shape=(16, 16))
    ks = [k / reg.w_norm ** (1 / len(ks)) for k in ks]  # ||W|| = 1 on 16x16, as the published models
    from recon.backend import asarray
    return RidgeRegularizer([asarray(k, xp=xp) for k in ks], reg.activation, scale=reg.scale, norm_shape=(16, 16))


def deblur_problem(kind, weight, dtype=np.float64, n=16, seed=0):
    """``(f, y)``: ``f = ½‖k * x − y‖² + weight R`` for Gaussian blur (σ 1.5 px) of a random ``n``×``n`` image
    with 1% noise and ``R = make_reg(kind)``; a non-convex problem for ``kind="wcrr"`` (blur has a near-null space)."""
    rng = np.random.default_rng(seed)
    clean = (0.5 + 0.2 * rng.standard_normal((n, n))).astype(dtype)
    A = Convolution(gaussian_kernel(1.5), clean.shape)
    y = (A(clean) + 0.01 * rng.standard_normal(clean.shape)).astype(dtype)
    return L2DataFidelity(y, A) + weight * make_reg(kind, seed=seed), y
