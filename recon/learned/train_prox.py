r"""Train a CRR-NN through its exact proximal denoiser (implicit differentiation).

The denoiser recon runs at test time is the minimiser

.. math::
    x^\ast(y;\theta) = \operatorname*{argmin}_x \tfrac12\|x - y\|^2 + \lambda R_\theta(x),
    \qquad R_\theta(x) = \sum_c \sum_p \psi_c((Wx)_{c,p}),
    \quad \psi_c'(t) = \varphi(s_c t)/s_c,

so this trainer fits :math:`\theta = (W, \varphi, s, \lambda)` to that map, not to a t-step
surrogate (:func:`~recon.learned.train.train_crr`), whose learned :math:`\lambda` does not carry
over to the prox (see the model card of the t-step file in git history, ``data/crr_sigma25_cpu23min.md``).

**Forward.** :math:`x^\ast` by accelerated gradient with per-sample gradient restart, step
:math:`1/(1 + \lambda\|W\|^2)` (slopes of :math:`\varphi` in [0, 1]), until every sample's
relative change is below ``forward_tol``; no graph is kept.

**Speed.** On CPU with numba, the forward solves' gradients use the compiled one-pass spline
kernel (:meth:`TorchRidge.grad_nograd`) and the backward pass a compiled forward/backward
activation (:meth:`TorchRidge.grad_compiled`); the convolutions are torch's.

**Backward** (implicit function theorem).  :math:`F(x, \theta) = x - y + \lambda\nabla R_\theta(x)
= 0` at :math:`x^\ast`, with :math:`\partial_x F = I + \lambda W^\top D W`, :math:`D =
\operatorname{diag}\varphi'(s\,Wx^\ast)` symmetric positive definite.  For a loss
:math:`\ell(x^\ast)`, solve :math:`(I + \lambda W^\top D W)\,v = \nabla\ell(x^\ast)` by conjugate
gradients (``backward_tol``), then :math:`\nabla_\theta \ell = -(\partial_\theta F)^\top v`, one
backward pass through :math:`\lambda\nabla R_\theta(x^\ast)` with :math:`x^\ast` held fixed.  This is
the deep-equilibrium training the WCRR authors use (Goujon, Neumayer, Unser 2024); the model
class is theirs for the convex case: one shared activation, per-channel scales :math:`s_c`.

After each Adam step the parameters go back onto the model class: zero-mean first-layer kernels,
activation slopes in [0, 1] with flat ends and odd symmetry, :math:`\|W\| = 1` (power iteration
on a 64×64 image, its vector kept between steps).  Learning rates decay geometrically to
``decay`` times their start over the run (over ``time_limit`` when given, so a time-limited run
still ends with small steps).  A validation set (the last ``validation_images`` training images,
held out, centre crops) is denoised with the exact prox every ``validate_every`` steps; the best
state is kept and returned.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from .train import TorchRidge, _torch
from .parametrization import project_activation

__all__ = ["train_crr_prox", "prox_batch"]


def prox_batch(model, y, lam, lipschitz, *, tol=1e-3, iters=200):
    r"""argmin ½‖x − y‖² + λR(x) for a batch ``(B, 1, H, W)``: accelerated gradient, per-sample restart.

    Returns the minimisers and the iterations run.  ``lipschitz`` bounds the gradient of R.
    """
    torch = _torch()
    step = 1.0 / (1.0 + float(lam) * lipschitz)
    with torch.no_grad():
        z, v = y.clone(), y.clone()
        t = torch.ones((y.shape[0], 1, 1, 1), dtype=y.dtype)
        k = 0
        for k in range(1, int(iters) + 1):
            g = (v - y) + lam * model.grad_nograd(v)
            z_new = v - step * g
            diff = z_new - z
            t_new = 0.5 * (1 + torch.sqrt(1 + 4 * t * t))
            restart = torch.sum(g * diff, dim=(1, 2, 3), keepdim=True) > 0
            t_new = torch.where(restart, torch.ones_like(t), t_new)
            v = torch.where(restart, z_new, z_new + ((t - 1) / t_new) * diff)
            t, z = t_new, z_new
            change = torch.sum(diff * diff, dim=(1, 2, 3)) / torch.clamp(torch.sum(z * z, dim=(1, 2, 3)), min=1e-30)
            if k > 1 and float(torch.max(change)) <= tol * tol:
                break
    return z, k


def _slopes(model, z):
    """φ'(s z) per element: the (piecewise-constant) slope of the activation's segment."""
    torch = _torch()
    c = model.coefficients.detach()
    tau = (model.scale.detach() * z - model.x_min) / model.step
    j = torch.clamp(torch.floor(tau), 0, c.numel() - 2).long()
    return (torch.diff(c) / model.step)[j]


def _cg(apply, rhs, tol, iters):
    """Batched conjugate gradients for the SPD ``apply``; per-sample step sizes."""
    torch = _torch()
    dims = (1, 2, 3)
    x = torch.zeros_like(rhs)
    r = rhs.clone()
    p = r.clone()
    rr = torch.sum(r * r, dim=dims, keepdim=True)
    target = (tol * tol) * rr
    k = 0
    for k in range(1, int(iters) + 1):
        ap = apply(p)
        alpha = rr / torch.clamp(torch.sum(p * ap, dim=dims, keepdim=True), min=1e-30)
        x = x + alpha * p
        r = r - alpha * ap
        rr_new = torch.sum(r * r, dim=dims, keepdim=True)
        if bool(torch.all(rr_new <= target)):
            break
        p = r + (rr_new / torch.clamp(rr, min=1e-30)) * p
        rr = rr_new
    return x, k


def _images(folder):
    from ..io import read_image

    files = sorted(Path(folder).glob("*.png"))
    if not files:
        raise FileNotFoundError(f"images must be a folder of PNG images, none in {folder}")
    return [np.asarray(read_image(f), dtype=np.float32) for f in files]


def _sample(images, size, count, rng):
    out = np.empty((count, 1, size, size), dtype=np.float32)
    for n in range(count):
        img = images[rng.integers(len(images))]
        if min(img.shape) < size:
            raise ValueError(f"patch must not exceed the image size, got {size} for an image of {img.shape}")
        i, j = rng.integers(img.shape[0] - size + 1), rng.integers(img.shape[1] - size + 1)
        p = img[i : i + size, j : j + size]
        p = np.rot90(p, int(rng.integers(4)))  # the eight symmetries of the square: augmentation
        out[n, 0] = p[:, ::-1] if rng.integers(2) else p
    return out


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
    torch = _torch()
    from ..solvers.result import progress_bar

    if steps is None and time_limit is None:
        raise ValueError("give steps or time_limit (or both), got neither")
    if steps is not None and (int(steps) != steps or steps < 0):
        raise ValueError(f"steps must be an integer >= 0, got {steps}")
    if time_limit is not None and not float(time_limit) > 0:
        raise ValueError(f"time_limit must be > 0 seconds, got {time_limit}")
    for name, value in (("lam", lam), ("scale", scale), ("init_clip", init_clip), ("sigma", sigma)):
        if not (float(value) > 0 and math.isfinite(float(value))):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
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
    val_noisy = [v + np.float32(sigma) * val_rng.standard_normal(v.shape).astype(np.float32) for v in val]

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    kernels = [rng.standard_normal((co, ci, size, size)) / (size * math.sqrt(ci))
               for ci, co in zip(channels[:-1], channels[1:])]
    grid = np.linspace(-x_range, x_range, knots)
    model = TorchRidge(kernels, np.clip(grid, -init_clip, init_clip), -x_range, x_range,
                       scale=np.full(channels[-1], float(scale)), learn_scale=True)
    model.log_lam = torch.nn.Parameter(torch.tensor(math.log(lam), dtype=model.coefficients.dtype))
    groups = [{"params": list(model.weights), "lr": lr}, {"params": [model.coefficients], "lr": lr_spline},
              {"params": [model.log_scale], "lr": lr_scale}, {"params": [model.log_lam], "lr": lr_lam}]
    opt = torch.optim.Adam(groups)
    base_lrs = [g["lr"] for g in groups]
    power = torch.randn(1, 1, 64, 64, dtype=model.coefficients.dtype, generator=torch.Generator().manual_seed(seed))

    def project(power, iters):
        with torch.no_grad():
            w0 = model.weights[0]
            w0 -= w0.mean(dim=(1, 2, 3), keepdim=True)
            proj = project_activation(model.coefficients.detach().double().numpy(), model.step)
            model.coefficients.copy_(torch.as_tensor(proj, dtype=model.coefficients.dtype))
            for _ in range(iters):
                power = model.conv_t(model.conv(power))
                power = power / torch.linalg.norm(power)
            norm2 = float(torch.linalg.norm(model.conv_t(model.conv(power))))
            for w in model.weights:
                w /= norm2 ** (0.5 / len(model.weights))
        return power

    power = project(power, 100)
    done, elapsed_before = 0, 0.0
    history = {"train": [], "validation": [], "best": None}
    best_state = None
    if checkpoint is not None and Path(checkpoint).is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        done, elapsed_before, history = state["step"], state["elapsed"], state["history"]
        best_state, power = state["best_state"], state["power"]
        rng = np.random.default_rng(seed + 1 + done)  # fresh patches after a resume

    def save(step, elapsed):
        if checkpoint is not None:
            tmp = Path(str(checkpoint) + ".tmp")
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                        "elapsed": elapsed, "history": history, "best_state": best_state, "power": power}, tmp)
            tmp.replace(checkpoint)

    def validate():
        psnrs = []
        with torch.no_grad():
            lam_now = float(torch.exp(model.log_lam.detach()))
            for clean, noisy in zip(val, val_noisy):
                y = torch.from_numpy(noisy).view(1, 1, *noisy.shape)
                x, _ = prox_batch(model, y, lam_now, 1.0, tol=1e-4, iters=500)
                mse = float(torch.mean((x[0, 0] - torch.from_numpy(clean)) ** 2))
                psnrs.append(10 * math.log10(1.0 / mse))
        return float(np.mean(psnrs)) if psnrs else float("nan")

    total = steps if steps is not None else 10**9
    bar = progress_bar((steps - done) if steps is not None else None, progress, "train CRR-NN (prox)")
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
        y = x + sigma * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
        lam_now = float(torch.exp(model.log_lam.detach()))
        xs, fwd = prox_batch(model, y, lam_now, 1.0, tol=forward_tol, iters=forward_iters)
        residual = xs - x
        loss = float(torch.mean(residual**2))
        with torch.no_grad():
            d = _slopes(model, model.conv(xs))
            v, bwd = _cg(lambda u: u + lam_now * model.conv_t(d * model.conv(u)), 2 * residual / residual.numel(),
                         backward_tol, backward_iters)
        opt.zero_grad()
        f = torch.exp(model.log_lam) * model.grad_compiled(xs)  # the θ-dependent part of F(x*, θ)
        torch.autograd.backward(f, grad_tensors=-v)
        opt.step()
        power = project(power, 3)
        step += 1
        entry = {"step": step, "loss": loss, "psnr": 10 * math.log10(1.0 / max(loss, 1e-30)), "forward": fwd,
                 "backward": bwd, "lam": lam_now, "seconds": elapsed_before + time.perf_counter() - start}
        history["train"].append(entry)
        if log is not None:
            log(entry)
        bar.update()
        if val and validate_every and (step % validate_every == 0 or step == total):
            score = validate()
            history["validation"].append((step, score))
            if history["best"] is None or score > history["best"][1]:
                history["best"] = (step, score)
                best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            if log is not None:
                log({"step": step, "validation_psnr": score})
        if checkpoint_every and step % checkpoint_every == 0:
            save(step, elapsed_before + time.perf_counter() - start)
    bar.close()
    if val and validate_every and (not history["validation"] or history["validation"][-1][0] != step) and step > 0:
        score = validate()
        history["validation"].append((step, score))
        if history["best"] is None or score > history["best"][1]:
            history["best"] = (step, score)
            best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
    save(step, elapsed_before + time.perf_counter() - start)
    if best_state is not None:
        model.load_state_dict(best_state)
    return model, history
