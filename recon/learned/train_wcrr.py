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
gradient with per-sample restart, backward by implicit differentiation: conjugate gradients on
:math:`I + W^\top D W`, :math:`D = \operatorname{diag}\varphi'(s(\sigma)Wx^\ast) \succeq -I`, positive
semi-definite (the authors' deep equilibrium training; :mod:`recon.learned.implicit`).

After each Adam step: zero-mean first-layer kernels, both splines projected
(:func:`~recon.learned.parametrization.project_activation`), :math:`\|W\| = 1`.  Validation on held-out
centre crops at σ = 5, 15, 25 (/255), the best mean kept.  The model is :func:`~recon.learned.wcrr_model.TorchWCRR`; the
recipe's options are a :class:`WCRRConfig`.  Export with :func:`to_regularizer`:
a :class:`~recon.functionals.RidgeRegularizer` with ``noise_scaling``, which
:func:`~recon.learned.save_npz` stores and :func:`~recon.learned.load_npz` reads without torch.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np

from .._checks import finite, finite_or_none
from .implicit import implicit_gradient, prox_batch
from .loop import Score, TrainingRun, check_budget
from .patches import hold_out, read_images, sample_patches
from .torch_ops import require_torch
from .wcrr_model import TorchWCRR, start_from, to_regularizer

__all__ = ["WCRRConfig", "train_wcrr", "TorchWCRR", "to_regularizer"]


@dataclass(frozen=True)
class WCRRConfig:
    r"""The recipe of :func:`train_wcrr`: model, start, optimiser, solver accuracies, validation.

    The defaults are the library's; ``examples/train_wcrr.py`` (the shipped models' recipe) changes
    ``init_clip`` to 0.002 and takes the others from its command line.  Checked on construction.

    Parameters
    ----------
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
    validation_images, validation_crop, validation_sigmas
        Held-out images, crop size, noise levels; the best mean PSNR over the levels is kept.
    validate_every, checkpoint_every : int
        Validation and checkpoint periods (steps; 0: never).
    seed : int
        Seed of the start, the patches and the validation noise.
    ema : float, optional
        Keep an exponential moving average of the parameters, ``avg ← ema·avg + (1 − ema)·θ``
        after every (projected) step, e.g. 0.99 (a window of about 100 steps), and validate, keep
        and return the average (projected back onto the model class: zero-mean first layer,
        spline slopes in [0, 1], ``||W|| = 1``) instead of the last iterate; the iterate's own
        validation is logged beside it (``"validation_raw"``).  Averaging the iterates of a noisy
        stochastic gradient method is Polyak–Ruppert averaging.  Default: off.
    """

    rho: float = 1.0
    batch: int = 32
    patch: int = 40
    sigma_max: float = 30 / 255
    mu: float = 20.0
    scale: float = 5.0
    init_clip: float = 0.05
    scaling_knots: int = 11
    lr: float = 5e-3
    lr_spline: float = 5e-5
    lr_concave: float | None = None
    lr_scaling: float = 5e-3
    lr_mu: float = 1e-2
    decay: float = 0.1
    channels: tuple = (1, 4, 8, 60)
    size: int = 5
    knots: int = 101
    x_range: float = 0.1
    forward_tol: float = 1e-3
    forward_iters: int = 300
    backward_tol: float = 1e-2
    backward_iters: int = 50
    validation_images: int = 8
    validation_crop: int = 96
    validation_sigmas: tuple = (5 / 255, 15 / 255, 25 / 255)
    validate_every: int = 100
    checkpoint_every: int = 25
    seed: int = 0
    ema: float | None = None

    def __post_init__(self):
        if float(self.rho) not in (0.0, 1.0):
            raise ValueError(f"rho must be 0 (CRR) or 1 (WCRR), got {self.rho}")
        for name in ("mu", "scale", "sigma_max"):
            finite(getattr(self, name), name, gt=0)
        finite(self.init_clip, "init_clip", ge=0)  # 0: the authors' zero start
        finite_or_none(self.lr_concave, "lr_concave", gt=0)
        if not 0 < self.decay <= 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay}")
        if self.ema is not None and not 0 < float(self.ema) < 1:
            raise ValueError(f"ema must be in (0, 1) or None, got {self.ema}")
        if int(self.scaling_knots) < 2:
            raise ValueError(f"scaling_knots must be >= 2, got {self.scaling_knots}")
        if any(not 0 < float(s) <= self.sigma_max for s in self.validation_sigmas):
            raise ValueError(f"validation_sigmas must lie in (0, sigma_max={self.sigma_max}], "
                             f"got {self.validation_sigmas}")


def train_wcrr(images, config=None, *, steps=None, time_limit=None, checkpoint=None, init=None, progress=False,
               log=None, **recipe):
    r"""Train a WCRR-NN (``rho=1``) or a multi-noise CRR-NN (``rho=0``); see the module docstring.

    Parameters
    ----------
    images : str or Path
        Folder of grayscale PNG training images in [0, 1]; the last ``validation_images`` (by name)
        are held out.
    config : WCRRConfig, optional
        The recipe (default ``WCRRConfig()``).
    steps, time_limit : int, float, optional
        Stop after ``steps`` optimiser steps or ``time_limit`` seconds of training (counting the
        runs this one resumes), whichever comes first; at least one is needed.
    checkpoint : str or Path, optional
        ``.pt`` file, resumed from when it exists, written every ``checkpoint_every`` steps and at the end.
    init : RidgeRegularizer, optional
        Continue from this model instead of a random start (e.g. ``load_npz`` of an earlier run's
        export; see :func:`~recon.learned.wcrr_model.start_from`): its kernels, :math:`\varphi` split into ``mu`` ×
        :math:`\varphi_{cvx}` − ``rho`` × :math:`\varphi_{ccv}`, and its noise scaling.  Then
        ``mu``, ``init_clip``, ``scale``, ``channels``, ``size``, ``knots``, ``x_range`` and
        ``scaling_knots`` are taken from it, and the optimiser starts afresh (pass smaller learning
        rates than a random start's).  Ignored when ``checkpoint`` exists (the resume wins).
    progress : bool
        tqdm progress bar.
    log : callable, optional
        Called with a dict after every step and every validation.
    **recipe
        Fields of :class:`WCRRConfig` overriding ``config`` (``train_wcrr(folder, steps=10, batch=8)``).

    Returns
    -------
    model : torch.nn.Module
        The :func:`TorchWCRR` with the best validation; export with :func:`to_regularizer`.
    history : dict
        ``"train"`` (per step), ``"validation"`` (``(step, mean PSNR, [per sigma])``), ``"best"``.
    """
    torch = require_torch()
    unknown = sorted(set(recipe) - {f.name for f in dataclasses.fields(WCRRConfig)})
    if unknown:
        raise TypeError(f"train_wcrr got unknown recipe options {unknown}: see WCRRConfig")
    cfg = dataclasses.replace(WCRRConfig() if config is None else config, **recipe)
    check_budget(steps, time_limit)
    train_pool, val = hold_out(read_images(images), cfg.validation_images, cfg.validation_crop)
    val_rng = np.random.default_rng(10_000 + cfg.seed)
    val_noise = [val_rng.standard_normal(v.shape).astype(np.float32) for v in val]

    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    kernels = [rng.standard_normal((co, ci, cfg.size, cfg.size)) / (cfg.size * math.sqrt(ci))
               for ci, co in zip(cfg.channels[:-1], cfg.channels[1:])]
    grid = np.linspace(-cfg.x_range, cfg.x_range, cfg.knots)
    # S_c = log(scale * 25): s_c(sigma) = scale * 25 / (255 sigma), so scale at sigma = 25/255
    scaling = np.full((cfg.channels[-1], int(cfg.scaling_knots)), math.log(float(cfg.scale) * 25.0))
    start = (kernels, np.clip(grid, -cfg.init_clip, cfg.init_clip), np.zeros(cfg.knots), cfg.mu, scaling,
             (-cfg.x_range, cfg.x_range))
    if init is not None:
        start = start_from(init, cfg.rho, cfg.sigma_max)
    kernels, cvx, ccv, mu, scaling, (x_min, x_max) = start
    model = TorchWCRR(kernels, cvx, ccv, mu, scaling, x_min=x_min, x_max=x_max, rho=cfg.rho, sigma_max=cfg.sigma_max)
    groups = [{"params": list(model.weights), "lr": cfg.lr}, {"params": [model.cvx, model.ccv], "lr": cfg.lr_spline},
              {"params": [model.scaling], "lr": cfg.lr_scaling}, {"params": [model.log_mu], "lr": cfg.lr_mu}]
    if cfg.rho == 0:
        model.ccv.requires_grad_(False)
        groups[1]["params"] = [model.cvx]
    elif cfg.lr_concave is not None:
        groups[1]["params"] = [model.cvx]
        groups.append({"params": [model.ccv], "lr": float(cfg.lr_concave)})
    opt = torch.optim.Adam(groups)
    power = torch.randn(1, 1, 64, 64, dtype=model.cvx.dtype, generator=torch.Generator().manual_seed(cfg.seed))
    power = model.project(power, 100)
    average = None if cfg.ema is None else [p.detach().clone() for p in model.parameters()]
    run = TrainingRun(model, opt, checkpoint=checkpoint,
                      state={"power": power, "average": average, "average_power": power.clone()})
    if run.done:
        if cfg.ema is not None and run.state["average"] is None:
            raise ValueError(f"checkpoint {checkpoint} was written without ema; resume it without ema")
        rng = np.random.default_rng(cfg.seed + 1 + run.done)  # fresh patches after a resume

    def score():
        scores = []
        for s in cfg.validation_sigmas:
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

    def validate():
        if run.state["average"] is None:
            mean, scores = score()
            return Score(mean, scores, {"validation_per_sigma": scores})
        # validate the iterate, then the projected average (what is kept); put the iterate back
        raw, raw_scores = score()
        iterate = [p.detach().clone() for p in model.parameters()]
        load(run.state["average"])
        run.state["average_power"] = model.project(run.state["average_power"], 10)
        mean, scores = score()
        kept = {k: t.detach().clone() for k, t in model.state_dict().items()}
        load(iterate)
        return Score(mean, scores, {"validation_raw": raw, "validation_raw_per_sigma": raw_scores,
                                    "validation_per_sigma": scores}, kept)

    def step(k):
        x = torch.from_numpy(sample_patches(train_pool, cfg.patch, cfg.batch, rng))
        sig = (cfg.sigma_max * rng.random(cfg.batch)).astype(np.float32)
        y = x + torch.from_numpy(sig).view(-1, 1, 1, 1) * torch.from_numpy(
            rng.standard_normal(x.shape).astype(np.float32))
        model.set_noise(torch.from_numpy(sig))
        opt.zero_grad()
        loss, forward, backward = implicit_gradient(
            model, x, y, 1.0, model.lipschitz(), model.grad, forward_tol=cfg.forward_tol,
            forward_iters=cfg.forward_iters, backward_tol=cfg.backward_tol, backward_iters=cfg.backward_iters)
        opt.step()
        run.state["power"] = model.project(run.state["power"], 3)
        if run.state["average"] is not None:
            with torch.no_grad():
                for a, p in zip(run.state["average"], model.parameters()):
                    a.mul_(cfg.ema).add_(p.detach(), alpha=1 - cfg.ema)
        return {"loss": loss, "forward": forward, "backward": backward, "mu": math.exp(float(model.log_mu.detach()))}

    history = run.run(step, steps=steps, time_limit=time_limit, decay=cfg.decay, validate=validate if val else None,
                      validate_every=cfg.validate_every, checkpoint_every=cfg.checkpoint_every, progress=progress,
                      description="train WCRR (prox)" if cfg.rho else "train CRR, all noise levels (prox)", log=log)
    return model, history
