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
backtracking trial).  When the margin is a multiple of ``factor`` (the default 41-pixel kernel at
factor 4), the sampling happens in Fourier space on the coarse grid (:meth:`FusionModel.predict`,
:meth:`FusionModel.sample_adjoint_spectrum`), which replaces the full-size FFT on either side of
:math:`S C` by one of ``factor``² times fewer samples.

References
----------
Bungert, L., Coomes, D. A., Ehrhardt, M. J., Rasch, J., Reisenhofer, R., Schönlieb, C.-B. (2018).
Blind image fusion for hyperspectral imaging with the directional total variation. Inverse
Problems 34(4), 044003.
"""
from __future__ import annotations

import numpy as np

from ..backend import array_namespace, asarray, irfftn, is_numpy, pad_edge, rfftn
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
        # sampling in Fourier space needs the blocks of S aligned with the domain's
        self.folds = m % self.factor == 0
        self._fold_cache = {}

    # -- FFT building blocks --------------------------------------------------------------------------
    def rfft(self, x):
        return rfftn(x, axes=(0, 1))

    def irfft(self, xh):
        return irfftn(xh, s=self.domain_shape, axes=(0, 1))

    def kernel_spectrum(self, k):
        """Half-plane spectrum of ``k`` embedded in the domain with its centre at index 0.

        Pruned: the real FFT along the rows runs on the ``kernel_size`` non-zero rows only, then the
        complex FFT along the columns on the whole half plane (about 55% of a full ``rfft2``).
        """
        xp = array_namespace(k)
        K, m = self.kernel_size, self.margin
        (N, M) = self.domain_shape
        rows = xp.zeros((K, M), dtype=k.dtype, device=k.device)
        rows[:, :K] = k
        rh = rfftn(xp.roll(rows, -m, axis=1), axes=(1,))
        full = xp.zeros((N, rh.shape[1]), dtype=rh.dtype, device=rh.device)
        full[: K - m, :] = rh[m:, :]
        full[N - m:, :] = rh[:m, :]
        return _fft0(full, inverse=False)

    def sample(self, blurred):
        """:math:`S C` applied to a domain-sized array."""
        return self.downsample._forward(blurred[self._crop])

    def sample_adjoint(self, r):
        """:math:`C^* S^*` of a data-sized array: a domain-sized array, zero on the margin."""
        m = self.margin
        return pad_edge(self.downsample._adjoint(r), ((m, m), (m, m)), mode="zero")

    def predict(self, kh, uh):
        r""":math:`S C (k * u)` from the spectra of :math:`k` and :math:`u`.

        With aligned blocks (``folds``), by :meth:`sample_spectrum`: no full-size inverse FFT.
        """
        if self.folds:
            return self.sample_spectrum(kh * uh)
        return self.sample(self.irfft(kh * uh))

    def sample_adjoint_spectrum(self, r):
        r"""Half-plane spectrum of :math:`C^* S^* r`: ``rfft(sample_adjoint(r))``.

        With aligned blocks, :math:`C^*S^*r` is the coarse array :math:`R` (``r / factor²`` with a margin of
        zeros) repeated over ``factor``×``factor`` blocks, whose spectrum is :math:`\hat R` (periodic on the
        coarse grid) times the conjugate of the block's transfer function :math:`H`: one FFT of the coarse
        grid instead of the domain.
        """
        if not self.folds:
            return self.rfft(self.sample_adjoint(r))
        xp = array_namespace(r)
        f = self._folding(xp, r.dtype, r.device)
        m = self.margin // self.factor
        coarse = pad_edge(r * (1.0 / self.factor**2), ((m, m), (m, m)), mode="zero")
        rh = rfftn(coarse, axes=(0, 1))
        full = xp.where(f["adj_mask"], xp.take(rh, f["adj_cols"], axis=1),
                        xp.conj(xp.take(xp.take(rh, f["neg_rows"], axis=0), f["adj_mirror"], axis=1)))
        n0c, c = full.shape
        out = xp.reshape(full, (1, n0c, c)) * f["adj_weight"]
        return xp.reshape(out, (self.factor * n0c, c))

    def sample_spectrum(self, xh):
        r""":math:`S C` of the domain array with half-plane spectrum ``xh`` (aligned blocks only).

        The block mean of :math:`y = \mathcal F^{-1}x` on the coarse grid has the spectrum
        :math:`\frac{1}{s^4}\sum_{j}\hat x(k' + N'j) H(k' + N'j)` (aliases :math:`j` of each coarse
        frequency :math:`k'`, :math:`H` the transfer function of the sum over a block, :math:`s` the
        factor); rows are folded first, then columns, whose aliases beyond the stored half plane are
        the conjugates of mirrored entries.
        """
        xp = array_namespace(xh)
        f = self._folding(xp, xp.float32 if xh.dtype == xp.complex64 else xp.float64, xh.device)
        s = self.factor
        n0, c = xh.shape
        rows = xp.sum(xp.reshape(xh, (s, n0 // s, c)) * f["row_weight"], axis=0)
        cols = xp.where(f["fwd_mask"], xp.take(rows, f["fwd_cols"], axis=1),
                        xp.conj(xp.take(xp.take(rows, f["neg_rows"], axis=0), f["fwd_mirror"], axis=1)))
        n0c = rows.shape[0]
        folded = xp.sum(xp.reshape(cols * f["col_weight"], (n0c, s, -1)), axis=1)
        coarse_shape = tuple(n // s for n in self.domain_shape)
        coarse = irfftn(folded, s=coarse_shape, axes=(0, 1))
        m = self.margin // s
        return coarse[m: m + self.data_shape[0], m: m + self.data_shape[1]]

    def _folding(self, xp, dtype, device):
        """Index arrays and transfer-function weights of :meth:`sample_spectrum` and its adjoint, per dtype."""
        key = (xp.__name__, str(dtype), str(device))
        if key in self._fold_cache:
            return self._fold_cache[key]
        s = self.factor
        (N, M), (Nc, Mc) = self.domain_shape, tuple(n // s for n in self.domain_shape)
        C, Cc = M // 2 + 1, Mc // 2 + 1

        def transfer(k, n):  # sum over a block of s samples, as seen at frequency k of an n-periodic grid
            return np.exp(2j * np.pi * np.outer(k, np.arange(s)) / n).sum(axis=1)

        H0, H1 = transfer(np.arange(N), N), transfer(np.arange(M), M)
        # forward: coarse column k' gathers the fine columns k' + Mc j, j < s (mirrored beyond M / 2)
        k1 = (np.arange(Cc)[None, :] + Mc * np.arange(s)[:, None]).ravel()  # j-major, then k'
        fwd_mask = k1 <= M // 2
        # adjoint: fine column k1 < C reads the coarse spectrum at k1 mod Mc (mirrored beyond Mc / 2)
        a1 = np.arange(C) % Mc
        adj_mask = a1 < Cc
        cdt = xp.complex64 if dtype in (xp.float32, xp.complex64) else xp.complex128
        ints = xp.int64

        def put(a, dt=None):
            return asarray(a, xp=xp, dtype=dt)

        f = {
            "neg_rows": put((-np.arange(Nc)) % Nc, ints),
            "row_weight": put(H0.reshape(s, Nc, 1) / s**4, cdt),
            "fwd_mask": put(fwd_mask[None, :]), "fwd_cols": put(np.where(fwd_mask, k1, 0), ints),
            "fwd_mirror": put(np.where(fwd_mask, 0, M - k1), ints), "col_weight": put(H1[k1 % M][None, :], cdt),
            "adj_mask": put(adj_mask[None, :]), "adj_cols": put(np.where(adj_mask, a1, 0), ints),
            "adj_mirror": put(np.where(adj_mask, 0, (Mc - a1) % Mc), ints),
            "adj_weight": put(np.conj(np.outer(H0, H1[:C])).reshape(s, Nc, C), cdt),
        }
        if device is not None and hasattr(f["neg_rows"], "to_device"):
            f = {k: v.to_device(device) if hasattr(v, "to_device") else v for k, v in f.items()}
        self._fold_cache[key] = f
        return f

    def correlate(self, ah, rh):
        r"""Domain array :math:`\mathcal F^{-1}(\bar{\hat a}\,\hat r)`: the adjoint of convolving with :math:`a`."""
        xp = array_namespace(ah, rh)
        return self.irfft(xp.conj(ah) * rh)

    def correlate_window(self, ah, rh):
        r""":meth:`kernel_window` of :meth:`correlate`: the inverse FFT along the columns on the whole half
        plane, then along the rows only for the ``kernel_size`` rows of the window."""
        xp = array_namespace(ah, rh)
        K, m = self.kernel_size, self.margin
        (N, M) = self.domain_shape
        y = _fft0(xp.conj(ah) * rh, inverse=True)
        real = irfftn(xp.concat([y[N - m:, :], y[: K - m, :]], axis=0), s=(M,), axes=(1,))
        return xp.concat([real[:, M - m:], real[:, : K - m]], axis=1)

    def kernel_window(self, full):
        """The ``kernel_size``² window of a domain array indexed like :meth:`kernel_spectrum`.

        The transpose of the embedding.
        """
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
        out = m.correlate(self._spectrum(r.dtype), m.sample_adjoint_spectrum(r))
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
        return m.correlate_window(self.uh, m.sample_adjoint_spectrum(r))


def _fft0(x, inverse):
    """Complex FFT (or its inverse) along axis 0.

    ``scipy.fft`` on NumPy (single precision kept), as :func:`recon.backend.rfftn`.
    """
    xp = array_namespace(x)
    if is_numpy(xp):  # both callers hand over a temporary, so it may be overwritten
        from scipy import fft

        return fft.ifft(x, axis=0, overwrite_x=True) if inverse else fft.fft(x, axis=0, overwrite_x=True)
    return xp.fft.ifft(x, axis=0) if inverse else xp.fft.fft(x, axis=0)
