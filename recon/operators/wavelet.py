r"""Orthogonal discrete wavelet transform (pywavelets), as a linear operator with exact adjoint.

NumPy only: pywavelets computes on the host.  A CuPy or other array raises a ``TypeError``
naming its library rather than being copied behind the caller's back.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..backend import array_namespace, is_numpy
from .base import LinearOperator

__all__ = ["Wavelet"]


def _pywt():
    try:
        import pywt
    except ImportError as err:  # pragma: no cover - pywavelets is a dependency
        raise ImportError("Wavelet needs pywavelets: pip install PyWavelets") from err
    return pywt


class Wavelet(LinearOperator):
    r"""Multilevel orthogonal wavelet transform :math:`W = D P` of arrays of ``shape``.

    :math:`P` pads each axis with zeros at the end up to the next multiple of
    :math:`2^{L}` (``L = levels``), and :math:`D` is the ``L``-level periodized discrete
    wavelet transform (``pywt.wavedecn(..., mode="periodization")``) on the padded grid,
    its coefficients packed into one array by ``pywt.coeffs_to_array`` (approximation
    first).  On a grid divisible by :math:`2^L` and for an orthogonal filter bank :math:`D` is
    an orthogonal matrix, so

    .. math::
        W^* = P^* D^{-1}, \qquad W^* W = I, \qquad W W^* = D P P^* D^{-1} \ (= I \text{ when no padding}),

    with :math:`P^*` the crop back to ``shape``, and :math:`\|W\| = 1`.  The padding keeps the
    dot test exact for every shape: pywavelets' own handling of odd lengths (repeating the
    last sample) is not an isometry.

    Parameters
    ----------
    shape : tuple of int
        Shape of the image (any dimension, odd or non-square sizes allowed).
    wavelet : str, default "db4"
        Name of an orthogonal pywavelets wavelet (Daubechies ``dbN``, ``symN``, ``coifN``,
        ``haar``, ...).  Biorthogonal ones are rejected: their transform is not orthogonal.
    levels : int, optional
        Number of decomposition levels (>= 1); default ``pywt.dwtn_max_level`` of ``shape``
        (at least 1).
    mode : {"periodization"}
        Signal extension; only periodization gives an orthogonal transform.

    Attributes
    ----------
    padded_shape : tuple of int
        Shape of the coefficient array (``shape`` rounded up to multiples of :math:`2^L`).

    References
    ----------
    Mallat, S. (2009). *A Wavelet Tour of Signal Processing: The Sparse Way*, 3rd ed.,
    Academic Press, ch. 7 (orthogonal wavelet bases, periodic wavelets).
    """

    def __init__(self, shape, wavelet: str = "db4", levels: int | None = None, mode: str = "periodization"):
        pywt = _pywt()
        shape = tuple(int(n) for n in shape)
        if not shape or any(n < 1 for n in shape):
            raise ValueError(f"shape must be a non-empty tuple of positive ints, got {shape}")
        if mode != "periodization":
            raise ValueError(f"mode must be 'periodization' (the only orthogonal extension), got {mode!r}")
        try:
            filters = pywt.Wavelet(wavelet)
        except (ValueError, TypeError) as err:
            raise ValueError(f"wavelet must be a discrete pywavelets wavelet name, got {wavelet!r}") from err
        if not filters.orthogonal:
            raise ValueError(f"wavelet must be orthogonal, got {wavelet!r} (biorthogonal); try 'db4' or 'sym4'")
        if levels is None:
            levels = max(1, pywt.dwtn_max_level(shape, filters))
        if int(levels) != levels or levels < 1:
            raise ValueError(f"levels must be an int >= 1, got {levels}")
        levels = int(levels)
        block = 2**levels
        padded = tuple(block * math.ceil(n / block) for n in shape)
        super().__init__(shape, padded)
        self.wavelet = filters
        self.levels = levels
        self.mode = mode
        self.padded_shape = padded
        # the packing layout depends only on the shape: computed once
        _, self._slices = pywt.coeffs_to_array(self._decompose(np.zeros(padded)))

    def _decompose(self, x):
        with warnings.catch_warnings():
            # pywt warns about boundary effects at deep levels; periodization has none
            warnings.simplefilter("ignore", UserWarning)
            return _pywt().wavedecn(x, self.wavelet, mode=self.mode, level=self.levels)

    def _check_numpy(self, x):
        if not is_numpy(array_namespace(x)):
            library = type(x).__module__.split(".")[0]
            raise TypeError(
                f"Wavelet works on NumPy arrays only (pywavelets), got a {library} array; "
                "convert with recon.backend.to_numpy and back with recon.backend.asarray"
            )

    def _forward(self, x):
        self._check_numpy(x)
        padded = np.zeros(self.padded_shape, dtype=x.dtype)
        padded[tuple(slice(0, n) for n in self.shape_in)] = x
        coeffs, _ = _pywt().coeffs_to_array(self._decompose(padded))
        return coeffs.astype(x.dtype, copy=False)

    def _adjoint(self, c):
        self._check_numpy(c)
        pywt = _pywt()
        coeffs = pywt.array_to_coeffs(c, self._slices, output_format="wavedecn")
        x = pywt.waverecn(coeffs, self.wavelet, mode=self.mode)
        return x[tuple(slice(0, n) for n in self.shape_in)].astype(c.dtype, copy=False)

    def _exact_norm(self):
        return 1.0
