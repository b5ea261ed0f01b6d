r"""Train a WCRR-NN (or a convex CRR-NN) for every noise level at once, through its proximal denoiser.

The model is the one of the published checkpoints (Goujon, Neumayer, Unser 2024), so what this
trains loads, exports and runs exactly like them (:func:`~recon.learned.load_published`):

.. math::
    R_\sigma(x) = \sum_c \sum_p \psi_{c,\sigma}((Wx)_{c,p}), \qquad
    \psi_{c,\sigma}'(t) = \varphi(s_c(\sigma)\,t)/s_c(\sigma), \qquad
    \varphi = \mu\,\varphi_{\text{cvx}} - \rho\,\varphi_{\text{ccv}},

with :math:`\varphi_{\text{cvx}}, \varphi_{\text{ccv}}` odd linear splines of slopes in [0, 1]
and flat ends, :math:`\mu > 0` learnt, :math:`\rho = 1` for the WCRR (then :math:`\varphi' \ge -1`
and, with :math:`\|W\| = 1`, :math:`R_\sigma + \tfrac12\|\cdot\|^2` is convex, so the denoiser below
is a convex problem) or :math:`\rho = 0` for a convex CRR-NN.  The noise scaling is
:math:`s_c(\sigma) = \exp(S_c(255\sigma)) / (255\sigma + 10^{-5})`, :math:`S_c` linear splines
(``scaling_knots`` knots on [0, ``sigma_max``·255]), the published form.

**Multi-noise objective.**  Every patch gets its own noise level :math:`\sigma \sim U[0,
\text{sigma\_max}]`, :math:`y = x + \sigma n`, and the loss is the mean squared error of the
denoiser :math:`x^\ast(y; \sigma) = \operatorname{argmin}_x \tfrac12\|x - y\|^2 + R_\sigma(x)`
(weight 1: the strength is learnt in :math:`\mu` and :math:`s(\sigma)`).  Forward by accelerated
gradient with per-sample restart (:func:`~recon.learned.train_prox.prox_batch`), backward by
implicit differentiation: conjugate gradients on :math:`I + W^\top D W`, :math:`D =
\operatorname{diag}\varphi'(s(\sigma)Wx^\ast) \succeq -I`, positive semi-definite (the authors' deep
equilibrium training; :mod:`recon.learned.train_prox` has the derivation for the convex case).

After each Adam step: zero-mean first-layer kernels, both splines projected
(:func:`~recon.learned.weights.project_activation`), :math:`\|W\| = 1`.  Validation on held-out
centre crops at σ = 5, 15, 25 (/255), the best mean kept.  Export with :func:`to_regularizer`:
a :class:`~recon.functionals.RidgeRegularizer` with ``noise_scaling``, which
:func:`~recon.learned.save_npz` stores and :func:`~recon.learned.load_npz` reads without torch.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .train import _backward_kernel, _torch, conv_transpose, convolve
from .train_prox import _cg, _images, _sample, prox_batch
from .parametrization import NORM_SHAPE, SCALING_EPS as _SCALING_EPS, NoiseScaling as _NoiseScaling, project_activation, unit_norm

__all__ = ["TorchWCRR", "train_wcrr", "to_regularizer"]

UNIT = 1.0 / 255.0  # the noise scaling's unit: its knots are noise levels in /255


def _kernels_ready(z):
    from ..functionals import spline_kernels

    torch = _torch()
    return (spline_kernels._scaled_rows_kernel is not None and _backward_kernel() is not None
            and z.device.type == "cpu" and z.dtype in (torch.float32, torch.float64))


def _activation_compiled(z, c, log_scale, x_min, step):
    """``phi(s z) / s`` without autograd: one compiled pass, a scale per (sample, channel) row."""
    from ..functionals import spline_kernels

    torch = _torch()
    zn = z.detach().contiguous().numpy()
    dtype = zn.dtype
    rows = zn.reshape(zn.shape[0] * zn.shape[1], -1)
    s = torch.exp(log_scale.detach()).expand(zn.shape[0], zn.shape[1], 1, 1).reshape(-1).double().numpy()
    cn = c.detach().double().numpy()
    d = np.diff(cn)
    a = (cn[:-1] - np.arange(cn.size - 1) * d).astype(dtype)
    out = np.empty_like(rows)
    spline_kernels._scaled_rows_kernel(rows, out, (s / step).astype(dtype), dtype.type(-x_min / step), a,
                                       d.astype(dtype), dtype.type(cn.size - 2), s.astype(dtype),
                                       np.zeros(rows.shape[0], np.int64))
    return torch.from_numpy(out.reshape(zn.shape))


def _activation_function():
    torch = _torch()

    class _Activation(torch.autograd.Function):
        """``phi(s z)/s`` with compiled forward and backward; gradients for ``z``, ``c`` and ``log s``."""

        @staticmethod
        def forward(ctx, z, c, log_scale, x_min, step):
            ctx.save_for_backward(z, c, log_scale)
            ctx.x_min, ctx.step = x_min, step
            return _activation_compiled(z, c, log_scale, x_min, step)

        @staticmethod
        def backward(ctx, g):
            z, c, log_scale = ctx.saved_tensors
            zn = z.detach().contiguous().numpy()
            dtype = zn.dtype
            batch, channels = zn.shape[:2]
            rows = zn.reshape(batch * channels, -1)
            gn = g.detach().contiguous().numpy().reshape(rows.shape).astype(dtype, copy=False)
            s = torch.exp(log_scale.detach()).expand(batch, channels, 1, 1).reshape(-1).double().numpy()
            cn = c.detach().double().numpy()
            grad_z = np.empty_like(rows)
            grad_c = np.zeros(cn.size, np.float64)
            grad_s = np.zeros(rows.shape[0], np.float64)
            _backward_kernel()(rows, gn, (s / ctx.step).astype(dtype), dtype.type(-ctx.x_min / ctx.step),
                               cn.astype(dtype), dtype.type(cn.size - 2), s.astype(dtype), rows.shape[0],
                               dtype.type(1 / ctx.step), grad_z, grad_c, grad_s)
            grad_log = torch.from_numpy(grad_s).view(batch, channels, 1, 1)
            if log_scale.shape[0] == 1 and batch > 1:  # one scale for the whole batch: sum over it
                grad_log = grad_log.sum(dim=0, keepdim=True)
            return (torch.from_numpy(grad_z.reshape(zn.shape)), torch.from_numpy(grad_c).to(c.dtype),
                    grad_log.to(log_scale.dtype), None, None)

    return _Activation


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
    torch = _torch()
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
            f = (tau - j).view(-1, 1)  # linear extension beyond the last knot, as _NoiseScaling
            S = self.scaling[:, j].T * (1 - f) + self.scaling[:, j + 1].T * f  # (B, C)
            return (S - torch.log(level.view(-1, 1) + _SCALING_EPS)).view(len(level), -1, 1, 1)

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
            if _kernels_ready(z):
                return self.conv_t(_activation_function().apply(z.contiguous(), c, ls, self.x_min, self.step))
            return self.conv_t(self.activation(z, c, ls))

        def grad_nograd(self, x):
            with torch.no_grad():
                z = self.conv(x)
                c, ls = self.coefficients, self.log_scale()
                a = _activation_compiled(z, c, ls, self.x_min, self.step) if _kernels_ready(z) else \
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
            j0 = min(max(int(math.floor(-self.x_min / h)), 0), c.numel() - 2)
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
            for _ in range(iters):
                power = self.conv_t(self.conv(power))
                power = power / torch.linalg.norm(power)
            norm2 = float(torch.linalg.norm(self.conv_t(self.conv(power))))
            for w in self.weights:
                w /= norm2 ** (0.5 / len(self.weights))
            return power

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
    scaling = _NoiseScaling(model.scaling.detach().double().cpu().numpy(), 0.0, model.level_max, unit=UNIT)
    reg = RidgeRegularizer(kernels, LinearSpline(phi, model.x_min, model.x_max), noise_scaling=scaling,
                           norm_shape=norm_shape)
    reg = unit_norm(reg)  # training kept ||W|| = 1 on 64x64; on norm_shape it may be a little above
    reg.extras = dict(reg.extras, mu=math.exp(float(model.log_mu.detach())), rho=model.rho)
    return reg


def _start_from(init, rho, sigma_max):
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
        raise TypeError(f"init must be a RidgeRegularizer (e.g. recon.learned.load_npz(path)), got {type(init).__name__}")
    ns = init.noise_scaling
    if not isinstance(ns, _NoiseScaling) or abs(ns.unit - UNIT) > 1e-12 or ns.x_min != 0.0 \
            or abs(ns.x_max - sigma_max / UNIT) > 1e-9:
        raise ValueError("init must carry the published noise scaling on [0, sigma_max] (an export of train_wcrr), "
                         f"got {type(ns).__name__ if not isinstance(ns, _NoiseScaling) else (ns.x_min, ns.x_max)}")
    c = np.asarray(init.activation.coefficients, dtype=np.float64)
    if c.ndim != 1 or not np.allclose(np.asarray(init.scale, dtype=np.float64), 1.0):
        raise ValueError("init must have one activation for all channels and scale 1")
    step = (init.activation.x_max - init.activation.x_min) / (c.size - 1)
    d = np.diff(c) / step
    floor = -float(rho)
    if d.min() < floor - 1e-9:
        raise ValueError(f"init's activation has slope {d.min():.6g} < {floor:g}: not a model of this class (rho={rho})")
    learned = init.extras.get("mu", init.extras.get("meta", {}).get("mu_learned"))
    mu = max(float(learned or 0.0), float(d.max()), 1e-12)
    c_cvx = np.concatenate([[0.0], np.cumsum(np.maximum(d, 0.0)) * step]) / mu
    c_ccv = np.concatenate([[0.0], np.cumsum(np.clip(-d, 0.0, 1.0)) * step])
    centre = c.size // 2  # both odd with value 0 at the centre knot, as the projection keeps them
    kernels = [to_numpy(k).astype(np.float64) for k in init.kernels]
    return kernels, c_cvx - c_cvx[centre], c_ccv - c_ccv[centre], mu, ns.coefficients.copy(), \
        (init.activation.x_min, init.activation.x_max)


def train_wcrr(images, *, steps=None, time_limit=None, rho=1.0, batch=32, patch=40, sigma_max=30 / 255, mu=20.0,
               scale=5.0, init_clip=0.05, scaling_knots=11, lr=5e-3, lr_spline=5e-5, lr_concave=None, lr_scaling=5e-3, lr_mu=1e-2,
               decay=0.1, channels=(1, 4, 8, 60), size=5, knots=101, x_range=0.1, forward_tol=1e-3,
               forward_iters=300, backward_tol=1e-2, backward_iters=50, validation_images=8, validation_crop=96,
               validation_sigmas=(5 / 255, 15 / 255, 25 / 255), validate_every=100, checkpoint=None,
               checkpoint_every=25, seed=0, init=None, ema=None, progress=False, log=None):
    r"""Train a WCRR-NN (``rho=1``) or a multi-noise CRR-NN (``rho=0``); see the module docstring.

    Parameters
    ----------
    images : str or Path
        Folder of grayscale PNG training images in [0, 1]; the last ``validation_images`` (by name)
        are held out.
    steps, time_limit : int, float, optional
        Stop after ``steps`` optimiser steps or ``time_limit`` seconds of training (counting the
        runs this one resumes), whichever comes first; at least one is needed.
    rho : {1, 0}
        1: weakly convex (WCRR); 0: convex.
    batch, patch : int
        Patches per step, their side.
    sigma_max : float
        Noise levels drawn uniformly in [0, ``sigma_max``] per patch (image units; 30/255).
    mu, scale, init_clip : float
        Start: :math:`\mu`, :math:`s_c(\sigma)` = ``scale`` at σ = 25/255 (and ∝ 1/σ, so the potential's
        reach grows with the noise), :math:`\varphi_{cvx}(t) = \operatorname{clip}(t, \pm\text{init\_clip})`
        (0: the authors' zero start), :math:`\varphi_{ccv} = 0`.  (The published convex model's
        projected :math:`\varphi_{cvx}` is clip(t, ±0.002), one knot spacing, with μ ≈ 100.)
    scaling_knots : int
        Knots of each :math:`S_c` on [0, ``sigma_max``·255].
    lr, lr_spline, lr_scaling, lr_mu, decay : float
        Adam learning rates of the kernels, both splines, :math:`S`, :math:`\log\mu`; they decay
        geometrically to ``decay`` times their start over the run.
    lr_concave : float, optional
        A learning rate of its own for :math:`\varphi_{ccv}` (default: ``lr_spline``, one Adam
        group for both splines, the authors' setting).  Adam moves a coefficient by about its
        learning rate per step, so in 1500 steps at 5e-5 :math:`\varphi_{ccv}` (zero at the start)
        can reach only a few hundredths: a short run needs a larger rate to learn the concave part.
    channels, size, knots, x_range
        Architecture (the published 1 → 4 → 8 → 60, 5×5, 101 knots on [-0.1, 0.1]).
    forward_tol, forward_iters, backward_tol, backward_iters
        Prox accuracy (relative change) and conjugate-gradient accuracy (relative residual).
    validation_images, validation_crop, validation_sigmas, validate_every
        Held-out images, crop size, noise levels, how often (steps); the best mean PSNR is kept.
    checkpoint : str or Path, optional
        ``.pt`` file, resumed from when it exists, written every ``checkpoint_every`` steps and at the end.
    seed : int
    init : RidgeRegularizer, optional
        Continue from this model instead of a random start (e.g. ``load_npz`` of an earlier run's
        export; see :func:`_start_from`): its kernels, :math:`\varphi` split into ``mu`` ×
        :math:`\varphi_{cvx}` − ``rho`` × :math:`\varphi_{ccv}`, and its noise scaling.  Then
        ``mu``, ``init_clip``, ``scale``, ``channels``, ``size``, ``knots``, ``x_range`` and
        ``scaling_knots`` are taken from it, and the optimiser starts afresh (pass smaller learning
        rates than a random start's).  Ignored when ``checkpoint`` exists (the resume wins).
    ema : float, optional
        Keep an exponential moving average of the parameters, ``avg ← ema·avg + (1 − ema)·θ``
        after every (projected) step, e.g. 0.99 (a window of about 100 steps), and validate, keep
        and return the average (projected back onto the model class: zero-mean first layer,
        spline slopes in [0, 1], ``||W|| = 1``) instead of the last iterate; the iterate's own
        validation is logged beside it (``"validation_raw"``).  Averaging the iterates of a noisy
        stochastic gradient method is Polyak–Ruppert averaging.  Default: off.
    progress : bool
        tqdm progress bar.
    log : callable, optional
        Called with a dict after every step and every validation.

    Returns
    -------
    model : torch.nn.Module
        The :func:`TorchWCRR` with the best validation; export with :func:`to_regularizer`.
    history : dict
        ``"train"`` (per step), ``"validation"`` (``(step, mean PSNR, [per sigma])``), ``"best"``.
    """
    torch = _torch()
    from ..solvers.result import progress_bar

    if steps is None and time_limit is None:
        raise ValueError("give steps or time_limit (or both), got neither")
    if steps is not None and (int(steps) != steps or steps < 0):
        raise ValueError(f"steps must be an integer >= 0, got {steps}")
    if time_limit is not None and not float(time_limit) > 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    for name, value in (("mu", mu), ("scale", scale), ("sigma_max", sigma_max)):
        if not (float(value) > 0 and math.isfinite(float(value))):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")
    if not (float(init_clip) >= 0 and math.isfinite(float(init_clip))):
        raise ValueError(f"init_clip must be a finite number >= 0 (0: the authors' zero start), got {init_clip}")
    if lr_concave is not None and not (float(lr_concave) > 0 and math.isfinite(float(lr_concave))):
        raise ValueError(f"lr_concave must be a finite number > 0 or None, got {lr_concave}")
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    if ema is not None and not 0 < float(ema) < 1:
        raise ValueError(f"ema must be in (0, 1) or None, got {ema}")
    if int(scaling_knots) < 2:
        raise ValueError(f"scaling_knots must be >= 2, got {scaling_knots}")
    if any(not 0 < float(s) <= sigma_max for s in validation_sigmas):
        raise ValueError(f"validation_sigmas must lie in (0, sigma_max={sigma_max}], got {validation_sigmas}")
    pool = _images(images)
    if not 0 <= validation_images < len(pool):
        raise ValueError(f"validation_images must be in [0, {len(pool) - 1}], got {validation_images}")
    train_pool = pool[: len(pool) - validation_images]
    val = []
    for img in pool[len(pool) - validation_images:]:
        c = min(validation_crop, *img.shape)
        i0, j0 = (img.shape[0] - c) // 2, (img.shape[1] - c) // 2
        val.append(img[i0 : i0 + c, j0 : j0 + c])
    val_rng = np.random.default_rng(10_000 + seed)
    val_noise = [val_rng.standard_normal(v.shape).astype(np.float32) for v in val]

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    kernels = [rng.standard_normal((co, ci, size, size)) / (size * math.sqrt(ci))
               for ci, co in zip(channels[:-1], channels[1:])]
    grid = np.linspace(-x_range, x_range, knots)
    # S_c = log(scale * 25): s_c(sigma) = scale * 25 / (255 sigma), so scale at sigma = 25/255
    scaling = np.full((channels[-1], int(scaling_knots)), math.log(float(scale) * 25.0))
    cvx, ccv, x_min, x_max = np.clip(grid, -init_clip, init_clip), np.zeros(knots), -x_range, x_range
    if init is not None:
        kernels, cvx, ccv, mu, scaling, (x_min, x_max) = _start_from(init, rho, sigma_max)
    model = TorchWCRR(kernels, cvx, ccv, mu, scaling, x_min=x_min, x_max=x_max, rho=rho, sigma_max=sigma_max)
    groups = [{"params": list(model.weights), "lr": lr}, {"params": [model.cvx, model.ccv], "lr": lr_spline},
              {"params": [model.scaling], "lr": lr_scaling}, {"params": [model.log_mu], "lr": lr_mu}]
    if rho == 0:
        model.ccv.requires_grad_(False)
        groups[1]["params"] = [model.cvx]
    elif lr_concave is not None:
        groups[1]["params"] = [model.cvx]
        groups.append({"params": [model.ccv], "lr": float(lr_concave)})
    opt = torch.optim.Adam(groups)
    base_lrs = [g["lr"] for g in groups]
    power = torch.randn(1, 1, 64, 64, dtype=model.cvx.dtype, generator=torch.Generator().manual_seed(seed))
    power = model.project(power, 100)
    done, elapsed_before = 0, 0.0
    history = {"train": [], "validation": [], "best": None}
    best_state = None
    average = None if ema is None else [p.detach().clone() for p in model.parameters()]
    average_power = power.clone()
    if checkpoint is not None and Path(checkpoint).is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        done, elapsed_before, history = state["step"], state["elapsed"], state["history"]
        best_state, power = state["best_state"], state["power"]
        if ema is not None:
            if state.get("average") is None:
                raise ValueError(f"checkpoint {checkpoint} was written without ema; resume it without ema")
            average, average_power = state["average"], state["average_power"]
        rng = np.random.default_rng(seed + 1 + done)  # fresh patches after a resume

    def save(step, elapsed):
        if checkpoint is not None:
            tmp = Path(str(checkpoint) + ".tmp")
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                        "elapsed": elapsed, "history": history, "best_state": best_state, "power": power,
                        "average": average, "average_power": average_power}, tmp)
            tmp.replace(checkpoint)

    def validate():
        scores = []
        for s in validation_sigmas:
            model.set_noise(float(s))
            psnrs = []
            for clean, noise in zip(val, val_noise):
                y = torch.from_numpy(clean + np.float32(s) * noise).view(1, 1, *clean.shape)
                x, _ = prox_batch(model, y, 1.0, model.lipschitz(), tol=1e-4, iters=500)
                psnrs.append(10 * math.log10(1.0 / float(torch.mean((x[0, 0] - torch.from_numpy(clean)) ** 2))))
            scores.append(float(np.mean(psnrs)))
        return float(np.mean(scores)), scores

    @torch.no_grad()
    def load(values):
        for p, v in zip(model.parameters(), values):
            p.copy_(v)

    def keep(step):
        nonlocal best_state, average_power
        entry = {"step": step}
        if average is not None:  # validate the iterate, then the projected average; put the iterate back
            raw, scores = validate()
            entry.update(validation_raw=raw, validation_raw_per_sigma=scores)
            iterate = [p.detach().clone() for p in model.parameters()]
            load(average)
            average_power = model.project(average_power, 10)
        mean, scores = validate()
        history["validation"].append((step, mean, scores))
        if history["best"] is None or mean > history["best"][1]:
            history["best"] = (step, mean)
            best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
        if average is not None:
            load(iterate)
        if log is not None:
            log(dict(entry, validation_psnr=mean, validation_per_sigma=scores))

    total = steps if steps is not None else 10**9
    bar = progress_bar((steps - done) if steps is not None else None, progress,
                       "train WCRR (prox)" if rho else "train CRR, all noise levels (prox)")
    start = time.perf_counter()
    step = done
    while step < total:
        elapsed = elapsed_before + time.perf_counter() - start
        if time_limit is not None and elapsed >= time_limit:
            break
        frac = elapsed / time_limit if time_limit is not None else step / max(total, 1)
        if steps is not None and time_limit is not None:
            frac = max(frac, step / max(total, 1))
        for g, base in zip(opt.param_groups, base_lrs):
            g["lr"] = base * decay ** min(frac, 1.0)
        x = torch.from_numpy(_sample(train_pool, patch, batch, rng))
        sig = (sigma_max * rng.random(batch)).astype(np.float32)
        y = x + torch.from_numpy(sig).view(-1, 1, 1, 1) * torch.from_numpy(
            rng.standard_normal(x.shape).astype(np.float32))
        model.set_noise(torch.from_numpy(sig))
        xs, fwd = prox_batch(model, y, 1.0, model.lipschitz(), tol=forward_tol, iters=forward_iters)
        residual = xs - x
        loss = float(torch.mean(residual**2))
        d = model.slopes(model.conv(xs).detach())
        with torch.no_grad():
            v, bwd = _cg(lambda u: u + model.conv_t(d * model.conv(u)), 2 * residual / residual.numel(),
                         backward_tol, backward_iters)
        opt.zero_grad()
        torch.autograd.backward(model.grad(xs), grad_tensors=-v)  # the θ-dependent part of F(x*, θ)
        opt.step()
        power = model.project(power, 3)
        if average is not None:
            with torch.no_grad():
                for a, p in zip(average, model.parameters()):
                    a.mul_(ema).add_(p.detach(), alpha=1 - ema)
        step += 1
        entry = {"step": step, "loss": loss, "forward": fwd, "backward": bwd,
                 "mu": math.exp(float(model.log_mu.detach())), "seconds": elapsed_before + time.perf_counter() - start}
        history["train"].append(entry)
        if log is not None:
            log(entry)
        bar.update()
        if val and validate_every and (step % validate_every == 0 or step == total):
            keep(step)
        if checkpoint_every and step % checkpoint_every == 0:
            save(step, elapsed_before + time.perf_counter() - start)
    bar.close()
    if val and validate_every and step > 0 and (not history["validation"] or history["validation"][-1][0] != step):
        keep(step)
    save(step, elapsed_before + time.perf_counter() - start)
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, history
