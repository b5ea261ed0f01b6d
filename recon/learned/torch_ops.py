r"""The torch pieces both trainers' models share (``torch`` needed; imported only by the trainers).

* :func:`require_torch`: torch, or an ImportError that names the extra to install.
* :func:`convolve`, :func:`conv_transpose`: the chain of 'same' zero-padded ``conv2d`` layers of
  :math:`W` and its adjoint, differentiable in the kernels.
* :func:`activation_nograd`, :func:`spline_activation`: :math:`\varphi(s z)/s` for a linear spline
  :math:`\varphi` and scales :math:`s` per (sample, channel), as one compiled pass over the
  responses (numba's kernel behind :func:`recon.functionals.splines.numba_scaled_rows`, threads over the batch)
  without and with autograd (a compiled backward pass, :mod:`recon.learned._activation_numba`).
  :func:`compiled_ready` says whether they apply (numba present, CPU float tensors).
"""
from __future__ import annotations

import itertools

import numpy as np

from ._activation_numba import backward_kernel

__all__ = ["require_torch", "convolve", "conv_transpose", "rescale_to_unit_norm", "compiled_ready", "activation_nograd",
           "spline_activation"]


def require_torch():
    """The ``torch`` module; ImportError naming the ``learn`` extra when it is not installed."""
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("recon's trainers need torch: pip install 'recon[learn]'") from err
    return torch


def convolve(x, weights):
    """The chain of 'same' zero-padded correlations ``conv2d(·, w, padding=K//2)``, first layer first."""
    torch = require_torch()
    for w in weights:
        x = torch.nn.functional.conv2d(x, w, padding=w.shape[-1] // 2)
    return x


def conv_transpose(y, weights):
    r"""Adjoint of the chain of 'same' zero-padded correlations ``conv2d(·, w, padding=K//2)``.

    Each layer's adjoint is again a 'same' correlation, with the kernel flipped in space and its
    channel axes swapped (odd ``K``); written as ``conv2d`` it is the same linear map as
    ``conv_transpose2d(·, w, padding=K//2)`` (to rounding) and 20-25 % faster on CPU (torch 2.13,
    batch 64 of 60 × 40 × 40: 43 against 57 ms on one thread).  Differentiable in ``weights``.
    """
    torch = require_torch()
    for w in reversed(list(weights)):
        y = torch.nn.functional.conv2d(y, torch.flip(w, (-2, -1)).transpose(0, 1), padding=w.shape[-1] // 2)
    return y


def rescale_to_unit_norm(weights, power, iters):
    r"""Divide the kernels in place so that the chain :math:`W` has :math:`\|W\| = 1`; returns the power vector.

    :math:`\|W\|^2` is estimated by ``iters`` power iterations of :math:`W^T W` from ``power`` (a
    ``(1, 1, n, n)`` tensor: random, or the vector a previous call returned, so the estimate improves across
    training steps); every layer is divided by the same factor :math:`\|W\|^{1/L}`.  Call under ``no_grad``.
    """
    import torch

    for _ in range(iters):
        power = conv_transpose(convolve(power, weights), weights)
        power = power / torch.linalg.norm(power)
    norm2 = float(torch.linalg.norm(conv_transpose(convolve(power, weights), weights)))
    for w in weights:
        w /= norm2 ** (0.5 / len(weights))
    return power


def compiled_ready(z) -> bool:
    """Whether the compiled activation applies to ``z``: numba usable, a float32/float64 CPU tensor."""
    from ..functionals.splines import compiled_rows_available

    torch = require_torch()
    return (backward_kernel() is not None and compiled_rows_available() and z.device.type == "cpu"
            and z.dtype in (torch.float32, torch.float64))


_POOL = []  # one thread pool per process, grown to the widest request


def _rows(z, log_scale):
    """``z`` as NumPy rows ``(B C, n)`` and the scale of each row (float64)."""
    torch = require_torch()
    zn = z.detach().contiguous().numpy()
    batch, channels = zn.shape[:2]
    s = torch.exp(log_scale.detach()).expand(batch, channels, 1, 1).reshape(-1).double().numpy()
    return zn, zn.reshape(batch * channels, -1), s


def activation_nograd(z, c, log_scale, x_min, step):
    r""":math:`\varphi(s z)/s` without autograd: one compiled pass (check :func:`compiled_ready` first).

    ``z`` ``(B, C, H, W)``; ``c`` the spline's values on the grid ``x_min + k step``; ``log_scale``
    broadcastable to ``(B, C, 1, 1)``.  Threads (``torch.get_num_threads()``) over the batch.
    """
    from ..functionals.splines import numba_scaled_rows

    torch = require_torch()
    zn, rows, s = _rows(z, log_scale)
    dtype = zn.dtype
    cn = c.detach().double().cpu().numpy()
    d = np.diff(cn)
    a = (cn[:-1] - np.arange(cn.size - 1) * d).astype(dtype)
    b, mul, scale = d.astype(dtype), (s / step).astype(dtype), s.astype(dtype)
    shift, last = dtype.type(-x_min / step), dtype.type(cn.size - 2)
    out = np.empty_like(rows)

    def part(i, j):
        numba_scaled_rows(rows[i:j], mul[i:j], shift, a, b, last, scale[i:j], out[i:j])

    batch, channels = zn.shape[:2]
    workers = max(1, min(torch.get_num_threads(), batch))
    if workers == 1:
        part(0, rows.shape[0])
    else:
        from concurrent.futures import ThreadPoolExecutor

        if not _POOL or _POOL[0]._max_workers < workers:
            _POOL[:] = [ThreadPoolExecutor(workers)]
        cuts = [channels * (batch * k // workers) for k in range(workers + 1)]
        for job in [_POOL[0].submit(part, i, j) for i, j in itertools.pairwise(cuts) if j > i]:
            job.result()
    return torch.from_numpy(out.reshape(zn.shape))


_FUNCTION = []


def _function():
    torch = require_torch()

    class SplineActivation(torch.autograd.Function):
        """``phi(s z)/s`` with compiled forward and backward; gradients for ``z``, ``c`` and ``log s``."""

        @staticmethod
        def forward(ctx, z, c, log_scale, x_min, step):
            ctx.save_for_backward(z, c, log_scale)
            ctx.x_min, ctx.step = x_min, step
            return activation_nograd(z, c, log_scale, x_min, step)

        @staticmethod
        def backward(ctx, g):
            z, c, log_scale = ctx.saved_tensors
            zn, rows, s = _rows(z, log_scale)
            dtype = zn.dtype
            batch, channels = zn.shape[:2]
            gn = g.detach().contiguous().numpy().reshape(rows.shape).astype(dtype, copy=False)
            cn = c.detach().double().numpy()
            grad_z = np.empty_like(rows)
            grad_c = np.zeros(cn.size, np.float64)
            grad_s = np.zeros(rows.shape[0], np.float64)
            backward_kernel()(rows, gn, (s / ctx.step).astype(dtype), dtype.type(-ctx.x_min / ctx.step),
                              cn.astype(dtype), dtype.type(cn.size - 2), s.astype(dtype), rows.shape[0],
                              dtype.type(1 / ctx.step), grad_z, grad_c, grad_s)
            grad_log = torch.from_numpy(grad_s).view(batch, channels, 1, 1)
            if log_scale.shape[0] == 1 and batch > 1:  # one scale for the whole batch: sum over it
                grad_log = grad_log.sum(dim=0, keepdim=True)
            return (torch.from_numpy(grad_z.reshape(zn.shape)), torch.from_numpy(grad_c).to(c.dtype),
                    grad_log.to(log_scale.dtype).view(log_scale.shape), None, None)

    return SplineActivation


def spline_activation(z, c, log_scale, x_min, step):
    """:func:`activation_nograd` with autograd (compiled backward); check :func:`compiled_ready` first."""
    if not _FUNCTION:
        _FUNCTION.append(_function())
    return _FUNCTION[0].apply(z.contiguous(), c, log_scale, x_min, step)
