r"""The forward model of image fusion, :math:`f \approx S\,C\,(k * W u)`, linear in :math:`u` and in :math:`k`.

:math:`u` lives on the *working domain*: the side information's grid (:math:`H \times W`, ``factor``
times the data's) extended by a margin :math:`m` = ``kernel_size // 2`` on every side, as in
Bungert et al. (2018).  On it

* :math:`W` is an affine :class:`~recon.operators.Warp` (identity without registration);
* :math:`k * \cdot` is the convolution of ``scipy.signal.convolve(u, k, mode="same")`` (kernel centre at
  index ``kernel_size // 2``), computed as a circular convolution on the domain by one real FFT pair —
  exact on the kept centre, since there every output pixel reads only samples within :math:`m` of it;
* :math:`C` crops the margin back to :math:`H \times W`; :math:`S` is the mean over ``factor``×``factor``
  blocks (:class:`~recon.operators.Downsample`).

The FFT of :math:`W u` is reused by the kernel update, and the FFT of :math:`k` by the image update,
so each block of a PALM iteration costs one forward and one adjoint FFT pair (plus one per
backtracking trial).

References
----------
Bungert, L., Coomes, D. A., Ehrhardt, M. J., Rasch, J., Reisenhofer, R., Schönlieb, C.-B. (2018).
Blind image fusion for hyperspectral imaging with the directional total variation. Inverse
Problems 34(4), 044003.
"""
from __future__ import annotations

from ..backend import array_namespace, irfftn, pad_edge, rfftn
from ..operators.base import LinearOperator
from ..operators.sampling import Downsample

__all__ = ["FusionModel"]


class FusionModel:
    r"""Geometry and FFT kernels of :math:`f = S\,C\,(k * W u)` for data of ``data_shape``.

    Parameters
    ----------
    data_shape : tuple of two ints
        Shape :math:`(h, w)` of the low-resolution band.
    factor : int
        Resolution ratio; the side information has shape :math:`(f h, f w)`.
    kernel_size : int
        Odd side of the square kernel support; the margin is ``kernel_size // 2``.

    Attributes
    ----------
    image_shape, domain_shape, margin
    """

    def __init__(self, data_shape, factor: int, kernel_size: int):
        self.data_shape = tuple(int(n) for n in data_shape)
        self.factor, self.kernel_size = int(factor), int(kernel_size)
        self.margin = m = self.kernel_size // 2
        self.image_shape = tuple(self.factor * n for n in self.data_shape)
        self.domain_shape = tuple(n + 2 * m for n in self.image_shape)
        self.downsample = Downsample(self.image_shape, self.factor)
        self._crop = tuple(slice(m, m + n) for n in self.image_shape)

    # -- FFT building blocks --------------------------------------------------------------------------
    def rfft(self, x):
        return rfftn(x, axes=(0, 1))

    def irfft(self, xh):
        return irfftn(xh, s=self.domain_shape, axes=(0, 1))

    def kernel_spectrum(self, k):
        """Half-plane spectrum of ``k`` embedded in the domain with its centre at index 0."""
        xp = array_namespace(k)
        big = xp.zeros(self.domain_shape, dtype=k.dtype, device=k.device)
        big[: self.kernel_size, : self.kernel_size] = k
        return self.rfft(xp.roll(big, (-self.margin, -self.margin), axis=(0, 1)))

    def sample(self, blurred):
        """:math:`S C` applied to a domain-sized array."""
        return self.downsample._forward(blurred[self._crop])

    def sample_adjoint(self, r):
        """:math:`C^* S^*` of a data-sized array: a domain-sized array, zero on the margin."""
        m = self.margin
        return pad_edge(self.downsample._adjoint(r), ((m, m), (m, m)), mode="zero")

    def predict(self, kh, uh):
        r""":math:`S C (k * u)` from the spectra of :math:`k` and :math:`u`."""
        return self.sample(self.irfft(kh * uh))

    def correlate(self, ah, rh):
        r"""Domain array :math:`\mathcal F^{-1}(\bar{\hat a}\,\hat r)`: the adjoint of convolving with :math:`a`."""
        xp = array_namespace(ah, rh)
        return self.irfft(xp.conj(ah) * rh)

    def kernel_window(self, full):
        """The ``kernel_size``² window of a domain array indexed like :meth:`kernel_spectrum` (transpose of the embedding)."""
        xp = array_namespace(full)
        rolled = xp.roll(full, (self.margin, self.margin), axis=(0, 1))
        return rolled[: self.kernel_size, : self.kernel_size]

    # -- the two linear maps, as operators (for tests and users) ---------------------------------------
    def operator_u(self, kernel, warp=None) -> LinearOperator:
        r""":math:`u \mapsto S C (k * W u)` from the domain to the data."""
        return _ImageMap(self, kernel, warp)

    def operator_k(self, u) -> LinearOperator:
        r""":math:`k \mapsto S C (k * u)` from ``kernel_size``² kernels to the data (``u`` already warped)."""
        return _KernelMap(self, u)


class _ImageMap(LinearOperator):
    def __init__(self, model, kernel, warp):
        super().__init__(model.domain_shape, model.data_shape, xp=array_namespace(kernel))
        self.model, self.kernel, self.warp = model, kernel, warp

    def _spectrum(self, dtype):
        xp = self.xp
        k = self.kernel if self.kernel.dtype == dtype else xp.astype(self.kernel, dtype)
        return self.model.kernel_spectrum(k)

    def _forward(self, u):
        if self.warp is not None:
            u = self.warp._forward(u)
        return self.model.predict(self._spectrum(u.dtype), self.model.rfft(u))

    def _adjoint(self, r):
        m = self.model
        out = m.correlate(self._spectrum(r.dtype), m.rfft(m.sample_adjoint(r)))
        return out if self.warp is None else self.warp._adjoint(out)


class _KernelMap(LinearOperator):
    def __init__(self, model, u):
        xp = array_namespace(u)
        super().__init__((model.kernel_size,) * 2, model.data_shape, xp=xp)
        self.model, self.uh, self.dtype = model, model.rfft(u), u.dtype

    def _norm_dtype(self, xp):
        return self.dtype

    def _forward(self, k):
        return self.model.predict(self.model.kernel_spectrum(k), self.uh)

    def _adjoint(self, r):
        m = self.model
        return m.kernel_window(m.correlate(self.uh, m.rfft(m.sample_adjoint(r))))
