r"""The WCRR-NN model of the published checkpoints as a torch module, and its export to recon.

.. math::
    R_\sigma(x) = \sum_c \sum_p \psi_{c,\sigma}((Wx)_{c,p}), \qquad
    \psi_{c,\sigma}'(t) = \varphi(s_c(\sigma)\,t)/s_c(\sigma), \qquad
    \varphi = \mu\,\varphi_{\text{cvx}} - \rho\,\varphi_{\text{ccv}},

:math:`\varphi_{\text{cvx}}, \varphi_{\text{ccv}}` odd linear splines of slopes in [0, 1] with flat
ends, :math:`\mu > 0`, :math:`\rho = 1` (WCRR) or 0 (convex CRR), noise scaling
:math:`s_c(\sigma) = \exp(S_c(255\sigma)) / (255\sigma + 10^{-5})`
(:class:`~recon.learned.parametrization.NoiseScaling`).

* :func:`TorchWCRR`: the module (trained by :func:`~recon.learned.train_wcrr.train_wcrr`).
* :func:`to_regularizer`: its :class:`~recon.functionals.RidgeRegularizer` (NumPy, ``noise_scaling`` set).
* :func:`start_from`: the module's parameters reproducing an exported regularizer (to continue training).
"""
from __future__ import annotations

import math

import numpy as np

from .parametrization import NORM_SHAPE, SCALING_EPS, NoiseScaling, project_activation, unit_norm
from .torch_ops import (
    activation_nograd,
    compiled_ready,
    conv_transpose,
    convolve,
    require_torch,
    rescale_to_unit_norm,
    spline_activation,
)

__all__ = ["UNIT", "TorchWCRR", "to_regularizer", "start_from"]

UNIT = 1.0 / 255.0  # the noise scaling's unit: its knots are noise levels in /255


def TorchWCRR(kernels, cvx, ccv, mu, scaling, *, x_min=-0.1, x_max=0.1, rho=1.0, sigma_max=30 / 255,
              dtype="float32"):
    r"""A ``torch.nn.Module``: the weakly convex ridge regularizer with noise scaling (see the module notes).

    Parameters
    ----------
    kernels : list of arrays ``(c_out, c_in, K, K)``
        The layers of :math:`W`.
    cvx, ccv : array_like
        Values of :math:`\varphi_{\text{cvx}}`, :math:`\varphi_{\text{ccv}}` on the uniform grid
        ``[x_min, x_max]`` (projected before use).
    mu : float
        :math:`\mu > 0` (stored as ``log_mu``).
    scaling : array_like ``(C, n)``
        :math:`S_c` at ``n`` equispaced noise levels on [0, ``sigma_max``/UNIT].
    rho : float
        Weight of the concave part: 1 (WCRR) or 0 (convex CRR).

    Call :meth:`set_noise` with the batch's noise levels (a tensor ``(B,)`` in image units, or a
    float) before :meth:`grad`, :meth:`grad_nograd` or :meth:`value`.
    """
    torch = require_torch()
    tdtype = getattr(torch, dtype)
    if not float(mu) > 0:
        raise ValueError(f"mu must be > 0, got {mu}")
    if float(rho) not in (0.0, 1.0):
        raise ValueError(f"rho must be 0 (CRR) or 1 (WCRR), got {rho}")

    class _TorchWCRR(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.as_tensor(np.asarray(k), dtype=tdtype)) for k in kernels])
            self.cvx = torch.nn.Parameter(torch.as_tensor(np.asarray(cvx), dtype=tdtype))
            self.ccv = torch.nn.Parameter(torch.as_tensor(np.asarray(ccv), dtype=tdtype))
            self.log_mu = torch.nn.Parameter(torch.tensor(math.log(float(mu)), dtype=tdtype))
            self.scaling = torch.nn.Parameter(torch.as_tensor(np.asarray(scaling), dtype=tdtype))
            self.rho = float(rho)
            self.x_min, self.x_max = float(x_min), float(x_max)
            self.step = (self.x_max - self.x_min) / (self.cvx.numel() - 1)
            self.level_max = float(sigma_max) / UNIT
            self._sigma = None

        @property
        def coefficients(self):
            """:math:`\\mu\\varphi_{cvx} - \\rho\\varphi_{ccv}` on the grid (differentiable)."""
            return torch.exp(self.log_mu) * self.cvx - self.rho * self.ccv

        def set_noise(self, sigma):
            """Noise level(s) of the images that follow: a float or a ``(B,)`` tensor, image units."""
            s = torch.as_tensor(sigma, dtype=self.cvx.dtype).reshape(-1)
            if not bool(torch.all(torch.isfinite(s))) or bool(torch.any(s < 0)):
                raise ValueError(f"sigma must be finite and >= 0, got {sigma}")
            self._sigma = s

        def log_scale(self):
            """:math:`\\log s_c(\\sigma)`, shape ``(B, C, 1, 1)`` (differentiable in ``scaling``)."""
            if self._sigma is None:
                raise RuntimeError("call set_noise(sigma) first")
            level = self._sigma / UNIT
            n = self.scaling.shape[1]
            h = self.level_max / (n - 1)
            tau = level / h
            j = torch.clamp(torch.floor(tau), 0, n - 2).long()
            f = (tau - j).view(-1, 1)  # linear extension beyond the last knot, as NoiseScaling
            S = self.scaling[:, j].T * (1 - f) + self.scaling[:, j + 1].T * f  # (B, C)
            return (S - torch.log(level.view(-1, 1) + SCALING_EPS)).view(len(level), -1, 1, 1)

        def conv(self, x):
            return convolve(x, self.weights)

        def conv_t(self, y):
            return conv_transpose(y, self.weights)

        def activation(self, z, c=None, log_scale=None):
            """Pure-torch ``phi(s z)/s`` (autograd everywhere; the reference for the compiled path)."""
            c = self.coefficients if c is None else c
            s = torch.exp(self.log_scale() if log_scale is None else log_scale)
            tau = (s * z - self.x_min) / self.step
            j = torch.clamp(torch.floor(tau), 0, c.numel() - 2).long()
            return (c[j] + (tau - j) * (c[j + 1] - c[j])) / s

        def grad(self, x):
            """:math:`\\nabla R_\\sigma(x)` with autograd; compiled activation when it applies."""
            z = self.conv(x)
            c, ls = self.coefficients, self.log_scale()
            if compiled_ready(z):
                return self.conv_t(spline_activation(z, c, ls, self.x_min, self.step))
            return self.conv_t(self.activation(z, c, ls))

        def grad_nograd(self, x):
            with torch.no_grad():
                z = self.conv(x)
                c, ls = self.coefficients, self.log_scale()
                a = activation_nograd(z, c, ls, self.x_min, self.step) if compiled_ready(z) else \
                    self.activation(z, c, ls)
                return self.conv_t(a)

        def slopes(self, z):
            """:math:`\\varphi'(s z)` per element (no autograd)."""
            with torch.no_grad():
                c = self.coefficients
                tau = (torch.exp(self.log_scale()) * z - self.x_min) / self.step
                j = torch.clamp(torch.floor(tau), 0, c.numel() - 2).long()
                return (torch.diff(c) / self.step)[j]

        def value(self, x):
            """:math:`R_\\sigma(x)` per sample (exact integral of the spline; ``x`` of shape ``(B, 1, H, W)``)."""
            c, h = self.coefficients, self.step
            s = torch.exp(self.log_scale())
            tau = (s * self.conv(x) - self.x_min) / h
            j = torch.clamp(torch.floor(tau), 0, c.numel() - 2).long()
            knots = torch.cat([c.new_zeros(1), torch.cumsum(h * (c[:-1] + c[1:]) / 2, 0)])
            delta = tau - j
            phi_int = knots[j] + h * delta * (c[j] + 0.5 * delta * (c[j + 1] - c[j]))
            j0 = min(max(math.floor(-self.x_min / h), 0), c.numel() - 2)
            d0 = -self.x_min / h - j0
            offset = knots[j0] + h * d0 * (c[j0] + 0.5 * d0 * (c[j0 + 1] - c[j0]))
            return torch.sum((phi_int - offset) / s**2, dim=(1, 2, 3))

        def lipschitz(self):
            """Largest slope of :math:`\\varphi` (the Lipschitz constant of the gradient when ``||W|| = 1``)."""
            return float(torch.clamp(torch.max(torch.diff(self.coefficients.detach())) / self.step, min=0))

        @torch.no_grad()
        def project(self, power, iters):
            """Back onto the model class; returns the power-iteration vector (kept between calls)."""
            w0 = self.weights[0]
            w0 -= w0.mean(dim=(1, 2, 3), keepdim=True)
            for p in (self.cvx, self.ccv):
                p.copy_(torch.as_tensor(project_activation(p.detach().double().numpy(), self.step), dtype=p.dtype))
            return rescale_to_unit_norm(list(self.weights), power, iters)

    return _TorchWCRR()


def to_regularizer(model, *, norm_shape=NORM_SHAPE):
    r"""The recon :class:`~recon.functionals.RidgeRegularizer` of a :func:`TorchWCRR` (NumPy, with ``noise_scaling``).

    Use it with weight 1 and :meth:`~recon.functionals.RidgeRegularizer.at_noise_level` (or
    ``recon.denoise(..., sigma=...)``), ``sigma`` in image units.

    Training keeps :math:`\|W\| = 1` on 64×64 patches; on ``norm_shape`` the norm can be a
    little larger, and then the kernels are divided back to :math:`\|W\| = 1`
    (:func:`~recon.learned.weights.unit_norm`), so ``weak_convexity`` is at most ``rho`` (up to the power iteration).
    """
    from ..functionals.ridge import RidgeRegularizer
    from ..functionals.splines import LinearSpline

    kernels = [w.detach().cpu().numpy().astype(np.float32) for w in model.weights]
    # mu phi_cvx - rho phi_ccv from float64 projections of both: the float32 sum (model.coefficients) rounds
    # the slopes by up to ~2e-6 past -rho, and weak_convexity would read 1.000002 rho
    cvx, ccv = (project_activation(p.detach().double().cpu().numpy(), model.step) for p in (model.cvx, model.ccv))
    phi = math.exp(float(model.log_mu.detach())) * cvx - model.rho * ccv
    scaling = NoiseScaling(model.scaling.detach().double().cpu().numpy(), 0.0, model.level_max, unit=UNIT)
    reg = RidgeRegularizer(kernels, LinearSpline(phi, model.x_min, model.x_max), noise_scaling=scaling,
                           norm_shape=norm_shape)
    reg = unit_norm(reg)  # training kept ||W|| = 1 on 64x64; on norm_shape it may be a little above
    reg.extras = dict(reg.extras, mu=math.exp(float(model.log_mu.detach())), rho=model.rho)
    return reg


def start_from(init, rho, sigma_max):
    r"""``(kernels, cvx, ccv, mu, scaling, (x_min, x_max))`` of :func:`TorchWCRR` reproducing ``init``.

    ``init`` must be a single-activation :class:`~recon.functionals.RidgeRegularizer` with scale 1
    and the published noise scaling on [0, ``sigma_max``/UNIT] (what :func:`to_regularizer` exports and
    :func:`~recon.learned.load_npz` reads).  Its activation :math:`\varphi` (slopes :math:`d`) is split
    as :math:`\mu\varphi_{cvx} - \rho\varphi_{ccv}` with slopes :math:`\max(d, 0)/\mu` and
    :math:`\max(-d, 0)`; :math:`\mu` is the file's learned one (``meta["mu_learned"]`` or
    ``extras["mu"]``) when that is at least the largest slope, else the largest slope.  For ``rho = 0``
    the slopes must be ≥ 0 (a convex model), for ``rho = 1`` ≥ −1 (1-weakly convex).
    """
    from ..backend import to_numpy
    from ..functionals.ridge import RidgeRegularizer

    if not isinstance(init, RidgeRegularizer):
        raise TypeError("init must be a RidgeRegularizer (e.g. recon.learned.load_npz(path)), "
                        f"got {type(init).__name__}")
    ns = init.noise_scaling
    if not isinstance(ns, NoiseScaling) or abs(ns.unit - UNIT) > 1e-12 or ns.x_min != 0.0 \
            or abs(ns.x_max - sigma_max / UNIT) > 1e-9:
        raise ValueError("init must carry the published noise scaling on [0, sigma_max] (an export of train_wcrr), "
                         f"got {type(ns).__name__ if not isinstance(ns, NoiseScaling) else (ns.x_min, ns.x_max)}")
    c = np.asarray(init.activation.coefficients, dtype=np.float64)
    if c.ndim != 1 or not np.allclose(np.asarray(init.scale, dtype=np.float64), 1.0):
        raise ValueError("init must have one activation for all channels and scale 1")
    step = (init.activation.x_max - init.activation.x_min) / (c.size - 1)
    d = np.diff(c) / step
    floor = -float(rho)
    if d.min() < floor - 1e-9:
        raise ValueError(f"init's activation has slope {d.min():.6g} < {floor:g}: not a model of this class "
                         f"(rho={rho})")
    learned = init.extras.get("mu", init.extras.get("meta", {}).get("mu_learned"))
    mu = max(float(learned or 0.0), float(d.max()), 1e-12)
    c_cvx = np.concatenate([[0.0], np.cumsum(np.maximum(d, 0.0)) * step]) / mu
    c_ccv = np.concatenate([[0.0], np.cumsum(np.clip(-d, 0.0, 1.0)) * step])
    centre = c.size // 2  # both odd with value 0 at the centre knot, as the projection keeps them
    kernels = [to_numpy(k).astype(np.float64) for k in init.kernels]
    return kernels, c_cvx - c_cvx[centre], c_ccv - c_ccv[centre], mu, ns.coefficients.copy(), \
        (init.activation.x_min, init.activation.x_max)
