r"""PyTorch twin of :class:`~recon.functionals.RidgeRegularizer`, and a minimal CRR-NN trainer.

Needs ``torch`` (the ``learn`` extra: ``pip install 'recon[learn]'``, which pins ``torch==2.13.0``).
:class:`TorchRidge` computes exactly what the recon regularizer computes (same zero-padded
``conv2d`` chain, same linear-spline activation, same accelerated prox), with autograd; it is the
model :func:`train_crr` trains and the peer in ``benchmarks/bench_ridge.py``.

Training (Goujon et al. 2023, CRR-NN): learn :math:`W` and a non-decreasing activation
:math:`\varphi` so that the t-step denoiser

.. math::
    T_t(y) = z_t, \qquad z_0 = y, \qquad z_{k+1} = z_k - \alpha\bigl(z_k - y + \lambda\nabla R(z_k)\bigr)

maps noisy patches :math:`y = x + \sigma n` to their clean versions :math:`x` in the mean squared
sense.  After each optimiser step the parameters are projected back onto the model class: zero-mean
first-layer kernels, activation slopes clipped to :math:`[0, 1]` with flat ends and odd symmetry
(:func:`~recon.learned.parametrization.project_activation`), :math:`\|W\| = 1` by a few power steps, so
the step :math:`\alpha = 1/(1 + \lambda)` is admissible.  This is a CPU recipe sized for minutes,
not the authors' full recipe (GPU, 6000 batches of 128 patches).
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .._checks import finite
from .loop import TrainingRun, check_budget
from .parametrization import project_activation
from .patches import read_images, sample_patches
from .torch_ops import (
    activation_nograd,
    compiled_ready,
    conv_transpose,
    convolve,
    require_torch,
    rescale_to_unit_norm,
    spline_activation,
)

__all__ = ["TorchRidge", "from_regularizer", "train_crr", "to_regularizer"]


def TorchRidge(kernels, coefficients, x_min, x_max, scale=None, dtype="float32", learn_scale=False):
    r"""A ``torch.nn.Module`` with ``grad(x)``, ``value(x)``, ``prox(y, lam)``, ``t_step(y, lam, t)``.

    Parameters as :class:`~recon.functionals.RidgeRegularizer`: ``kernels`` (list of
    ``(c_out, c_in, K, K)``), activation ``coefficients`` on the uniform grid ``[x_min, x_max]``,
    per-channel ``scale``.  Images are tensors of shape ``(B, 1, H, W)``.  Use
    :func:`from_regularizer` to mirror a recon regularizer.  The scales are stored as
    ``log_scale``, a parameter trained only when ``learn_scale``.
    """
    torch = require_torch()
    tdtype = getattr(torch, dtype)

    class _TorchRidge(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weights = torch.nn.ParameterList(
                [torch.nn.Parameter(torch.as_tensor(np.asarray(k), dtype=tdtype)) for k in kernels])
            self.coefficients = torch.nn.Parameter(torch.as_tensor(np.asarray(coefficients), dtype=tdtype))
            self.x_min, self.x_max = float(x_min), float(x_max)
            self.step = (self.x_max - self.x_min) / (len(coefficients) - 1)
            c = len(np.asarray(kernels[-1]))
            s = np.ones(c) if scale is None else np.asarray(scale, dtype=np.float64)
            self.log_scale = torch.nn.Parameter(torch.as_tensor(np.log(s), dtype=tdtype).view(1, c, 1, 1),
                                                requires_grad=bool(learn_scale))

        @property
        def scale(self):
            return torch.exp(self.log_scale)

        def conv(self, x):
            return convolve(x, self.weights)

        def conv_t(self, y):
            return conv_transpose(y, self.weights)

        def _locate(self, z):
            tau = (z - self.x_min) / self.step
            j = torch.clamp(torch.floor(tau), 0, self.coefficients.numel() - 2).long()
            return tau, j

        def activation(self, z):
            """phi(s z) / s, linear between knots, extended by the end segments."""
            tau, j = self._locate(self.scale * z)
            c = self.coefficients
            return (c[j] + (tau - j) * (c[j + 1] - c[j])) / self.scale

        def grad(self, x):
            return self.conv_t(self.activation(self.conv(x)))

        def grad_compiled(self, x):
            """``grad(x)`` with autograd, its activation compiled forward and backward (training's backward step).

            Same values and derivatives (kernels, spline values, ``log_scale``) as :meth:`grad`, up
            to rounding; falls back to :meth:`grad` where the kernel does not apply (no numba, not CPU).
            """
            z = self.conv(x)
            if not compiled_ready(z):
                return self.conv_t(self.activation(z))
            return self.conv_t(spline_activation(z, self.coefficients, self.log_scale, self.x_min, self.step))

        def grad_nograd(self, x):
            """``grad(x)`` without autograd, its activation one compiled pass when it can be (training's solves).

            Same formula, same order as :meth:`activation` up to rounding
            (:func:`~recon.learned.torch_ops.activation_nograd`, threads over the batch), else
            :meth:`activation`.  The PyTorch peer of the benchmarks uses :meth:`grad`, not this.
            """
            with torch.no_grad():
                z = self.conv(x)
                if compiled_ready(z):
                    return self.conv_t(activation_nograd(z, self.coefficients, self.log_scale, self.x_min, self.step))
                return self.conv_t(self.activation(z))

        def slopes(self, z):
            """:math:`\\varphi'(s z)` per element: the (piecewise-constant) slope of the activation's segment."""
            with torch.no_grad():
                c = self.coefficients
                tau = (self.scale * z - self.x_min) / self.step
                j = torch.clamp(torch.floor(tau), 0, c.numel() - 2).long()
                return (torch.diff(c) / self.step)[j]

        def value(self, x):
            tau, j = self._locate(self.scale * self.conv(x))
            c, h = self.coefficients, self.step
            knots = torch.cat([c.new_zeros(1), torch.cumsum(h * (c[:-1] + c[1:]) / 2, 0)])
            delta = tau - j
            phi_int = knots[j] + h * delta * (c[j] + 0.5 * delta * (c[j + 1] - c[j]))
            j0 = min(max(math.floor(-self.x_min / h), 0), c.numel() - 2)
            d0 = -self.x_min / h - j0
            offset = knots[j0] + h * d0 * (c[j0] + 0.5 * d0 * (c[j0 + 1] - c[j0]))
            return torch.sum((phi_int - offset) / self.scale**2, dim=(1, 2, 3))

        def lipschitz(self):
            return float(torch.clamp(torch.max(torch.diff(self.coefficients.detach())) / self.step, min=0))

        def t_step(self, y, lam, t, step=None):
            step = 1.0 / (1.0 + lam * self.lipschitz()) if step is None else step
            z = y
            for _ in range(int(t)):
                z = z - step * ((z - y) + lam * self.grad(z))
            return z

        @torch.no_grad()
        def prox(self, y, lam, tol=1e-4, iters=500, step=None):
            """Same accelerated gradient with adaptive restart as RidgeRegularizer.prox (batch of one)."""
            step = 1.0 / (1.0 + lam * self.lipschitz()) if step is None else step
            z, v, t = y, y, 1.0
            for k in range(1, iters + 1):
                g = (v - y) + lam * self.grad(v)
                z_new = v - step * g
                diff = z_new - z
                t_new = 0.5 * (1 + math.sqrt(1 + 4 * t * t))
                if float(torch.sum(g * diff)) > 0:
                    t_new, v = 1.0, z_new
                else:
                    v = z_new + ((t - 1) / t_new) * diff
                t, z = t_new, z_new
                if k > 1 and float(torch.sum(diff * diff)) <= tol * tol * float(torch.sum(z * z)):
                    break
            return z, k

        @torch.no_grad()
        def project(self, power_steps=20, size=64, power=None):
            """Back onto the model class: zero-mean first layer, admissible activation, ||W|| <= 1.

            ``||W||`` by ``power_steps`` power iterations from ``power`` (a ``(1, 1, n, n)`` tensor, e.g.
            the one returned by the previous call) or from a random ``size`` × ``size`` image; returns
            the power-iteration vector.
            """
            w0 = self.weights[0]
            w0 -= w0.mean(dim=(1, 2, 3), keepdim=True)
            proj = project_activation(self.coefficients.detach().double().cpu().numpy(), self.step)
            self.coefficients.copy_(torch.as_tensor(proj, dtype=self.coefficients.dtype))
            u = torch.randn(1, 1, size, size, dtype=w0.dtype) if power is None else power
            return rescale_to_unit_norm(list(self.weights), u, power_steps)

    return _TorchRidge()


def from_regularizer(reg, dtype="float32"):
    """The :func:`TorchRidge` twin of a :class:`~recon.functionals.RidgeRegularizer`."""
    if reg.activation.channels is not None:
        raise NotImplementedError("reg has one spline per channel (an original CRR-NN); TorchRidge shares one "
                                  "activation across channels")
    from ..backend import to_numpy

    a = reg.activation
    return TorchRidge([to_numpy(k) for k in reg.kernels], a.coefficients, a.x_min, a.x_max, reg.scale, dtype)


def train_crr(images, *, steps=100, batch=16, patch=40, sigma=25 / 255, t=5, lam=1.0, learn_lam=False, lr=1e-3,
              channels=(1, 4, 8, 60), size=5, knots=101, checkpoint=None, checkpoint_every=None, time_limit=None,
              seed=0, progress=False):
    r"""Train a CRR-NN as a t-step denoiser on random patches of ``images`` (a folder of PNGs).

    Parameters
    ----------
    images : str or Path
        Folder of grayscale PNG training images (e.g. ``../shared/data/images/bsd400-train``).
    steps : int
        Total optimiser steps (including those restored from ``checkpoint``).
    batch, patch : int
        Patches per step and their side length.
    sigma : float
        Noise level of the training pairs, image units (25/255 on [0, 1] images).
    t : int
        Gradient steps of the denoiser :math:`T_t`.
    lam : float
        :math:`\lambda` (the start value when ``learn_lam``).
    learn_lam : bool
        Learn :math:`\log\lambda` too (``model.log_lam``).  The activation's slopes are clipped
        to :math:`[0, 1]` and :math:`\|W\| = 1`, so a fixed :math:`\lambda = 1` caps how much
        the denoiser can smooth; a learned :math:`\lambda` lifts that cap (:func:`to_regularizer`
        folds it into the activation).
    lr : float
        Adam learning rate.
    channels, size, knots : tuple, int, int
        Architecture: channel counts of :math:`W`, kernel size, spline knots on [-0.1, 0.1].
    checkpoint : str or Path, optional
        ``.pt`` file: resumed from if it exists, written at the end (and every
        ``checkpoint_every`` steps); the loop is :class:`~recon.learned.loop.TrainingRun`.
    time_limit : float, optional
        Stop after this many seconds of training, counting the runs this one resumes (the state is
        checkpointed; a later call with a larger limit resumes).
    seed : int
    progress : bool
        tqdm progress bar.

    Returns
    -------
    model : torch.nn.Module
        The :func:`TorchRidge` model (with ``log_lam`` when ``learn_lam``).
    losses : list of float
        Training loss (mean squared error of :math:`T_t`) per step.
    """
    torch = require_torch()
    check_budget(steps, time_limit, required="steps")
    finite(lam, "lam", gt=0)
    pool = read_images(images)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    kernels = [rng.standard_normal((co, ci, size, size)) / (size * math.sqrt(ci))
               for ci, co in itertools.pairwise(channels)]
    grid = np.linspace(-0.1, 0.1, knots)
    model = TorchRidge(kernels, 0.5 * grid, -0.1, 0.1)  # slope 1/2: a mild Tikhonov-like start
    model.project()
    if learn_lam:
        model.log_lam = torch.nn.Parameter(torch.tensor(math.log(lam), dtype=model.coefficients.dtype))
    params = [p for n, p in model.named_parameters() if n != "log_lam" and p.requires_grad]
    groups = [{"params": params}] + ([{"params": [model.log_lam], "lr": 10 * lr}] if learn_lam else [])
    opt = torch.optim.Adam(groups, lr=lr)  # log(lam) is one scalar: a larger step lets it move in few steps
    run = TrainingRun(model, opt, checkpoint=checkpoint)
    if run.done:
        rng = np.random.default_rng(seed + 1 + run.done)  # fresh patches after a resume

    def step(k):
        x = torch.from_numpy(sample_patches(pool, patch, batch, rng, augment=False))
        y = x + sigma * torch.randn_like(x)
        lam_t = torch.exp(model.log_lam) if learn_lam else lam
        loss = torch.mean((model.t_step(y, lam_t, t) - x) ** 2)
        opt.zero_grad()
        loss.backward()
        opt.step()
        model.project()
        return {"loss": float(loss.detach())}

    history = run.run(step, steps=steps, time_limit=time_limit, checkpoint_every=checkpoint_every,
                      progress=progress, description="train CRR-NN")
    return model, [entry["loss"] for entry in history["train"]]


def to_regularizer(model, *, norm_shape=(256, 256)):
    r"""The recon :class:`~recon.functionals.RidgeRegularizer` of a trained :func:`TorchRidge` (NumPy, float32).

    A learned :math:`\lambda` (``model.log_lam``) is folded into the activation, so the returned
    regularizer is meant for weight 1: :math:`\lambda R` with slopes in :math:`[0, \lambda]`.
    """
    from ..functionals.ridge import RidgeRegularizer
    from ..functionals.splines import LinearSpline

    lam = math.exp(float(model.log_lam.detach())) if hasattr(model, "log_lam") else 1.0
    kernels = [w.detach().cpu().numpy().astype(np.float32) for w in model.weights]
    coefficients = lam * model.coefficients.detach().double().cpu().numpy()
    scale = model.scale.detach().double().cpu().numpy().reshape(-1)
    reg = RidgeRegularizer(kernels, LinearSpline(coefficients, model.x_min, model.x_max), scale=scale,
                           norm_shape=norm_shape)
    reg.extras = {"lam": lam}
    return reg
