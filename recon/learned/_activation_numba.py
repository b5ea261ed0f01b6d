"""Compiled backward pass of the scaled spline activation (numba, optional): the trainers' autograd step."""
from __future__ import annotations

from .._compiled import enabled, lazy

__all__ = ["activation_backward", "backward_kernel"]


def activation_backward(z, g, mul, shift, c, last, scale, channels, inv_h, grad_z, grad_c, grad_s):
    """Backward of ``phi(s z)/s`` on rows ``(R, n)`` (row r has scale index ``r % channels``), one pass.

    ``grad_z = g phi'(s z)``; ``grad_c[k], grad_c[k+1] += g (1 - f)/s, g f/s`` (``f`` the position in
    segment ``k``, outside [0, 1] on the linear extension, as in the forward formula); ``grad_s[ch] +=
    g (phi'(s z) z - phi(s z)/s)``, the derivative with respect to ``log s``.
    """
    for r in range(z.shape[0]):
        ch = r % channels
        m = mul[ch]
        inv = 1 / scale[ch]
        acc = 0.0
        for j in range(z.shape[1]):
            t = z[r, j] * m + shift
            u = t if t > 0 else 0 * t
            u = u if u < last else last
            k = int(u)
            f = t - k
            d = c[k + 1] - c[k]
            slope = d * inv_h
            gj = g[r, j]
            grad_z[r, j] = gj * slope
            grad_c[k] += gj * (1 - f) * inv
            grad_c[k + 1] += gj * f * inv
            acc += gj * (slope * z[r, j] - (c[k] + f * d) * inv)
        grad_s[ch] += acc


_KERNEL = lazy(activation_backward)


def backward_kernel():
    """:func:`activation_backward` compiled at its first call, or ``None`` when kernels are off (no numba,
    ``RECON_NUMBA=0``, or :func:`recon._compiled.disabled`)."""
    return _KERNEL if _KERNEL is not None and enabled() else None
