r"""Train a CRR-NN through its exact proximal denoiser (implicit differentiation).

The denoiser recon runs at test time is the minimiser

.. math::
    x^\ast(y;\theta) = \operatorname*{argmin}_x \tfrac12\|x - y\|^2 + \lambda R_\theta(x),
    \qquad R_\theta(x) = \sum_c \sum_p \psi_c((Wx)_{c,p}),
    \quad \psi_c'(t) = \varphi(s_c t)/s_c,

so this trainer fits :math:`\theta = (W, \varphi, s, \lambda)` to that map, not to a t-step
surrogate (:func:`~recon.learned.train.train_crr`), whose learned :math:`\lambda` does not carry
over to the prox (see the model card of the t-step file in git history, ``data/crr_sigma25_cpu23min.md``).

**Forward** (:func:`~recon.learned.implicit.prox_batch`) and **backward** (implicit
differentiation, :func:`~recon.learned.implicit.implicit_gradient`): see :mod:`recon.learned.implicit`.
On CPU with numba, the forward solves' gradients use the compiled one-pass spline kernel
(:meth:`TorchRidge.grad_nograd`) and the backward pass a compiled forward/backward activation
(:meth:`TorchRidge.grad_compiled`); the convolutions are torch's.  The model class is the authors'
for the convex case: one shared activation, per-channel scales :math:`s_c`.

After each Adam step the parameters go back onto the model class: zero-mean first-layer kernels,
activation slopes in [0, 1] with flat ends and odd symmetry, :math:`\|W\| = 1` (power iteration
on a 64×64 image, its vector kept between steps).  Learning rates decay geometrically to
``decay`` times their start over the run (over ``time_limit`` when given, so a time-limited run
still ends with small steps).  A validation set (the last ``validation_images`` training images,
held out, centre crops) is denoised with the exact prox every ``validate_every`` steps; the best
state is kept and returned.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from .._checks import finite
from .implicit import implicit_gradient, prox_batch
from .loop import Score, TrainingRun, check_budget
from .patches import hold_out, read_images, sample_patches
from .torch_ops import require_torch
from .train import TorchRidge

__all__ = ["train_crr_prox"]


def train_crr_prox(images, *, steps=None, time_limit=None, batch=16, patch=40, sigma=25 / 255, lam=20.0, scale=5.0,
                   init_clip=0.05, lr=2e-3, lr_spline=1e-4, lr_scale=5e-3, lr_lam=1e-2, decay=0.1,
                   channels=(1, 4, 8, 60), size=5, knots=101, x_range=0.1, forward_tol=1e-3, forward_iters=200,
                   backward_tol=1e-2, backward_iters=30, validation_images=8, validation_crop=96,
                   validate_every=100, checkpoint=None, checkpoint_every=25, seed=0, progress=False, log=None):
    r"""Train a CRR-NN (convex, σ fixed) through its proximal denoiser; see the module docstring.

    Parameters
    ----------
    images : str or Path
        Folder of grayscale PNG training images in [0, 1] (e.g. ``../shared/data/images/bsd400-train``).
        The last ``validation_images`` (sorted by name) are held out for validation.
    steps, time_limit : int, float, optional
        Stop after ``steps`` optimiser steps or ``time_limit`` seconds of training (this call and
        the ones it resumes), whichever comes first; at least one must be given.
    batch, patch : int
        Patches per step and their side length (random crops, flips and rotations).
    sigma : float
        Noise level of the training pairs, image units (25/255 on [0, 1] images).
    lam, scale, init_clip : float
        Start values: λ, the per-channel scales :math:`s_c`, and :math:`\varphi(t) =
        \operatorname{clip}(t, \pm\text{init\_clip})` (a Huber-like potential).
    lr, lr_spline, lr_scale, lr_lam, decay : float
        Adam learning rates for the kernels, the spline values, :math:`\log s_c`, :math:`\log\lambda`,
        and the factor they decay to by the end of the run.
    channels, size, knots, x_range : tuple, int, int, float
        Architecture: channel counts of :math:`W`, kernel size, spline knots on ``[-x_range, x_range]``.
    forward_tol, forward_iters, backward_tol, backward_iters : float, int
        Accuracy of the prox (relative change) and of the conjugate-gradient solve.
    validation_images, validation_crop, validate_every : int
        Held-out images, their centre crop size, and how often (steps) they are denoised.
    checkpoint : str or Path, optional
        ``.pt`` file: resumed from when it exists; written every ``checkpoint_every`` steps and at the end.
    seed : int
    progress : bool
        tqdm progress bar.
    log : callable, optional
        Called with a dict after every step (loss, PSNR, iterations, λ, seconds) and validation.

    Returns
    -------
    model : torch.nn.Module
        The :func:`~recon.learned.train.TorchRidge` with the best validation PSNR, with
        ``log_lam``; export with :func:`~recon.learned.train.to_regularizer`.
    history : dict
        ``"train"``: per-step dicts; ``"validation"``: ``(step, PSNR)`` pairs; ``"best"``.
    """
    torch = require_torch()
    check_budget(steps, time_limit)
    for name, value in (("lam", lam), ("scale", scale), ("init_clip", init_clip), ("sigma", sigma)):
        finite(value, name, gt=0)
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    train_pool, val = hold_out(read_images(images), validation_images, validation_crop)
    val_rng = np.random.default_rng(10_000 + seed)
    val_noisy = [v + np.float32(sigma) * val_rng.standard_normal(v.shape).astype(np.float32) for v in val]

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    kernels = [rng.standard_normal((co, ci, size, size)) / (size * math.sqrt(ci))
               for ci, co in itertools.pairwise(channels)]
    grid = np.linspace(-x_range, x_range, knots)
    model = TorchRidge(kernels, np.clip(grid, -init_clip, init_clip), -x_range, x_range,
                       scale=np.full(channels[-1], float(scale)), learn_scale=True)
    model.log_lam = torch.nn.Parameter(torch.tensor(math.log(lam), dtype=model.coefficients.dtype))
    groups = [{"params": list(model.weights), "lr": lr}, {"params": [model.coefficients], "lr": lr_spline},
              {"params": [model.log_scale], "lr": lr_scale}, {"params": [model.log_lam], "lr": lr_lam}]
    opt = torch.optim.Adam(groups)
    power = torch.randn(1, 1, 64, 64, dtype=model.coefficients.dtype, generator=torch.Generator().manual_seed(seed))
    run = TrainingRun(model, opt, checkpoint=checkpoint, state={"power": model.project(100, power=power)})
    if run.done:
        rng = np.random.default_rng(seed + 1 + run.done)  # fresh patches after a resume

    def validate():
        psnrs = []
        with torch.no_grad():
            lam_now = float(torch.exp(model.log_lam.detach()))
            for clean, noisy in zip(val, val_noisy):
                y = torch.from_numpy(noisy).view(1, 1, *noisy.shape)
                x, _ = prox_batch(model, y, lam_now, 1.0, tol=1e-4, iters=500)
                mse = float(torch.mean((x[0, 0] - torch.from_numpy(clean)) ** 2))
                psnrs.append(10 * math.log10(1.0 / mse))
        return Score(float(np.mean(psnrs)))

    def step(k):
        x = torch.from_numpy(sample_patches(train_pool, patch, batch, rng))
        y = x + sigma * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
        lam_now = float(torch.exp(model.log_lam.detach()))
        opt.zero_grad()
        # slopes of phi in [0, 1] and ||W|| = 1: the gradient of R is 1-Lipschitz
        loss, forward, backward = implicit_gradient(
            model, x, y, lam_now, 1.0, lambda xs: torch.exp(model.log_lam) * model.grad_compiled(xs),
            forward_tol=forward_tol, forward_iters=forward_iters, backward_tol=backward_tol,
            backward_iters=backward_iters)
        opt.step()
        run.state["power"] = model.project(3, power=run.state["power"])
        return {"loss": loss, "psnr": 10 * math.log10(1.0 / max(loss, 1e-30)), "forward": forward,
                "backward": backward, "lam": lam_now}

    history = run.run(step, steps=steps, time_limit=time_limit, decay=decay, validate=validate if val else None,
                      validate_every=validate_every, checkpoint_every=checkpoint_every, progress=progress,
                      description="train CRR-NN (prox)", log=log)
    return model, history
