r"""Wavelet sparsity: the :math:`\ell^1` norm of orthogonal wavelet detail coefficients, with its exact prox."""
from __future__ import annotations

from ..operators.wavelet import Wavelet
from .base import Functional

__all__ = ["WaveletL1"]


class WaveletL1(Functional):
    r"""Sparsity of the wavelet detail coefficients, :math:`R(x) = \sum_{i \in \mathcal D} |(Wx)_i|`.

    :math:`W` is the orthogonal :class:`~recon.operators.Wavelet` transform and :math:`\mathcal D`
    the detail (non-approximation) coefficients; the coarse approximation is left free, so the
    prior does not pull the mean intensity towards zero.  For orthogonal :math:`W` the prox is
    exact:

    .. math::
        \operatorname{prox}_{\tau R}(x) = W^* S_\tau(W x), \qquad
        S_\tau(c)_i = \begin{cases}\operatorname{sign}(c_i)\max(|c_i| - \tau, 0) & i \in \mathcal D\\
        c_i & \text{otherwise.}\end{cases}

    ``levels`` defaults to the largest number of levels (up to pywavelets' maximum for the filter)
    for which every side of ``shape`` is divisible by :math:`2^{L}`: then :math:`W` is square and
    orthogonal and the formula above is the exact prox.  A side that is odd forces one level on a
    zero-padded grid; :math:`W^*W = I` still holds but :math:`WW^* \ne I`, and the result is the
    exact prox of the problem posed on the padded grid, cropped.

    Parameters
    ----------
    shape : tuple of int
        Image shape.
    wavelet : str, default "db4"
        Orthogonal pywavelets filter.
    levels : int, optional
        Decomposition levels (see above).

    Notes
    -----
    NumPy arrays only (pywavelets computes on the host); other libraries raise ``TypeError``.

    References
    ----------
    Donoho, D. L. & Johnstone, I. M. (1994). Ideal spatial adaptation by wavelet shrinkage.
    Biometrika 81(3), 425–455.
    """

    def __init__(self, shape, wavelet: str = "db4", *, levels: int | None = None):
        shape = tuple(int(n) for n in shape)
        if levels is None:
            levels = _unpadded_levels(shape, wavelet)
        self.W = Wavelet(shape, wavelet, levels=levels)
        # the approximation block sits first in pywavelets' packed layout
        self._approx = tuple(slice(0, n >> self.W.levels) for n in self.W.padded_shape)

    def __call__(self, x):
        c = self.W(x)
        total = float(abs(c).sum())
        return total - float(abs(c[self._approx]).sum())

    def _prox(self, x, tau):
        c = self.W(x)
        shrunk = c - c.clip(-float(tau), float(tau))
        shrunk[self._approx] = c[self._approx]
        return self.W.adjoint(shrunk)

    def __repr__(self):
        return f"WaveletL1(shape={self.W.shape_in}, wavelet={self.W.wavelet.name!r}, levels={self.W.levels})"


def _unpadded_levels(shape, wavelet) -> int:
    import pywt

    most = max(1, pywt.dwtn_max_level(shape, wavelet))
    levels = 0
    while levels < most and all(n % 2 ** (levels + 1) == 0 for n in shape):
        levels += 1
    return max(levels, 1)
