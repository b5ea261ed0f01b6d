r"""Training through the exact proximal denoiser: the batched prox and its implicit gradient.

The denoiser is :math:`x^\ast(y;\theta) = \operatorname{argmin}_x \tfrac12\|x - y\|^2 + \lambda R_\theta(x)`.

**Forward** (:func:`prox_batch`): accelerated gradient with per-sample gradient restart, step
:math:`1/(1 + \lambda L)`, until every sample's relative change is below ``tol``; no graph kept.

**Backward** (:func:`implicit_gradient`, the implicit function theorem).  :math:`F(x, \theta) = x - y +
\lambda\nabla R_\theta(x) = 0` at :math:`x^\ast`, with :math:`\partial_x F = I + \lambda W^\top D W`,
:math:`D = \operatorname{diag}\varphi'(s\,Wx^\ast)`.  For a loss :math:`\ell(x^\ast)`, solve
:math:`(I + \lambda W^\top D W)\,v = \nabla\ell(x^\ast)` by conjugate gradients (:func:`cg`), then
:math:`\nabla_\theta \ell = -(\partial_\theta F)^\top v`: one backward pass through
:math:`\lambda\nabla R_\theta(x^\ast)` with :math:`x^\ast` held fixed.  The deep-equilibrium training of
Goujon, Neumayer, Unser (2024).  For a weakly convex model (:math:`\varphi' \ge -1`, :math:`\lambda = 1`,
:math:`\|W\| = 1`) the system matrix is still positive semi-definite.
"""
from __future__ import annotations

from .torch_ops import require_torch

__all__ = ["cg", "prox_batch", "implicit_gradient"]


def prox_batch(model, y, lam, lipschitz, *, tol=1e-3, iters=200):
    r"""argmin ½‖x − y‖² + λR(x) for a batch ``(B, 1, H, W)``: accelerated gradient, per-sample restart.

    ``model.grad_nograd(x)`` is :math:`\nabla R`; ``lipschitz`` bounds its Lipschitz constant.
    Returns the minimisers and the iterations run.
    """
    torch = require_torch()
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


def cg(apply, rhs, tol, iters):
    """Batched conjugate gradients for the SPD ``apply``, per-sample step sizes; ``(solution, iterations)``."""
    torch = require_torch()
    dims = (1, 2, 3)
    x = torch.zeros_like(rhs)
    r = rhs.clone()
    p = r.clone()
    rr = torch.sum(r * r, dim=dims, keepdim=True)
    target = (tol * tol) * rr
    k, iters = 0, int(iters)
    while k < iters:
        k += 1
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


def implicit_gradient(model, x, y, lam, lipschitz, penalty_grad, *, forward_tol, forward_iters, backward_tol,
                      backward_iters):
    r"""Accumulate :math:`\nabla_\theta` of the mean squared error of the prox denoiser into ``.grad``.

    ``x`` clean, ``y`` noisy batches; ``penalty_grad(x)`` is :math:`\lambda\nabla R_\theta(x)` with
    autograd (its θ-dependent part); ``model`` has ``conv``, ``conv_t``, ``slopes`` and
    ``grad_nograd``.  Returns the loss and the forward and conjugate-gradient iterations.
    """
    torch = require_torch()
    xs, forward = prox_batch(model, y, lam, lipschitz, tol=forward_tol, iters=forward_iters)
    residual = xs - x
    loss = float(torch.mean(residual**2))
    with torch.no_grad():
        d = model.slopes(model.conv(xs))
        v, backward = cg(lambda u: u + lam * model.conv_t(d * model.conv(u)), 2 * residual / residual.numel(),
                         backward_tol, backward_iters)
    torch.autograd.backward(penalty_grad(xs), grad_tensors=-v)
    return loss, forward, backward
