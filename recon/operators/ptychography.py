r"""Ptychography's linear pieces: exit waves of a scanned probe, and far- and near-field propagation.

A ptychographic scan illuminates a complex object :math:`O` (shape :math:`M \times N`) with a probe
:math:`P` (shape :math:`m \times n`) at positions :math:`r_j`, and records the far-field intensities

.. math::
    I_j = |\mathcal F(P \odot S_{r_j} O)|^2, \qquad (S_r O)(x) = O(x + r),\ x \in \{0..m-1\}\times\{0..n-1\},

so :math:`r_j` is the (row, column) of the patch's upper-left corner in object pixels.  The maps
:math:`O \mapsto \{P \odot S_{r_j} O\}_j` (:class:`ExitWaves`), :math:`P \mapsto \{P \odot S_{r_j} O\}_j`
(:class:`ProbeExitWaves`) and the propagators :class:`FarField` and :class:`NearField` are linear;
the intensity :math:`|\cdot|^2` stays outside, in the data terms of :mod:`recon.functionals.ptycho_data`.

Positions are split as :math:`r = c + \delta` with :math:`c` the nearest integer and
:math:`|\delta| \le 1/2`; the integer part is a crop, the fractional part the unitary Fourier shift
:math:`T_\delta f = \mathcal F^{-1}[e^{2\pi i \langle k, \delta\rangle}\mathcal F f]` of the
patch (periodic within the patch, so exact only for band-limited patches, as every sub-pixel shift is).

All operators act on complex arrays (real input is promoted); complex64 stays complex64.  Inner
products are :math:`\operatorname{Re}\langle a, b\rangle`, so adjoints are conjugate transposes.

References
----------
Rodenburg, J. M. & Faulkner, H. M. L. (2004). A phase retrieval algorithm for shifting illumination.
*Appl. Phys. Lett.* 85, 4795.
Thibault, P., Dierolf, M., Bunk, O., Menzel, A. & Pfeiffer, F. (2009). Probe retrieval in
ptychographic coherent diffractive imaging. *Ultramicroscopy* 109, 338–343.
Goodman, J. W. (2005). *Introduction to Fourier Optics*, 3rd ed., §4.2 (Fresnel transfer function).
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import finite
from ..backend import array_namespace, asarray, check_finite, scatter_add, to_numpy
from .base import LinearOperator

__all__ = ["ExitWaves", "ProbeExitWaves", "FarField", "NearField", "check_positions"]

_AXES = (-2, -1)


def _complex_dtype(xp, dtype):
    """complex64 for float32/complex64, complex128 otherwise."""
    return xp.complex64 if dtype in (xp.float32, xp.complex64) else xp.complex128


def _as_complex(x):
    xp = array_namespace(x)
    if xp.isdtype(x.dtype, "complex floating"):
        return x
    if not xp.isdtype(x.dtype, "real floating"):
        raise TypeError(f"expected a floating or complex array, got dtype {x.dtype}")
    return xp.astype(x, _complex_dtype(xp, x.dtype))


def _frequencies(n: int) -> np.ndarray:
    """``numpy.fft.fftfreq(n)``: cycles per sample in FFT order."""
    return np.fft.fftfreq(n)


def check_positions(positions, probe_shape, object_shape, name: str = "positions") -> np.ndarray:
    """Validate scan positions; return them as a float64 NumPy array of shape ``(J, 2)``.

    Raises ``ValueError`` naming ``name`` if the array is not ``(J, 2)``, holds NaN, or if a
    patch (after rounding the corner to the nearest pixel) leaves the object.
    """
    pos = np.asarray(to_numpy(positions) if hasattr(positions, "shape") else positions, dtype=np.float64)
    if pos.ndim != 2 or pos.shape[1] != 2 or pos.shape[0] < 1:
        raise ValueError(f"{name} must have shape (J, 2) with J >= 1, got {pos.shape}")
    if not np.all(np.isfinite(pos)):
        raise ValueError(f"{name} contains NaN or infinity")
    corners = np.rint(pos).astype(np.int64)
    limit = np.array(object_shape) - np.array(probe_shape)
    bad = np.flatnonzero(np.any((corners < 0) | (corners > limit), axis=1))
    if bad.size:
        j = int(bad[0])
        raise ValueError(
            f"{name}[{j}] = {tuple(float(v) for v in pos[j])} puts the {tuple(probe_shape)} patch outside the "
            f"object of shape {tuple(object_shape)} ({bad.size} position(s) outside; corners must lie in "
            f"[0, {tuple(int(v) for v in limit)}])"
        )
    return pos


def _check_shape2(shape, name):
    shape = tuple(int(s) for s in shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"{name} must be two positive ints, got {shape}")
    return shape


class _Patches:
    """Crop-and-shift of the object onto the probe grid for every position, and its adjoint.

    Shared by :class:`ExitWaves` (linear in the object) and :class:`ProbeExitWaves`.
    """

    def __init__(self, positions, patch_shape, object_shape, xp, subpixel=None):
        self.positions = positions
        self.patch_shape, self.object_shape = patch_shape, object_shape
        self.xp = xp
        corners = np.rint(positions).astype(np.int64)
        self.corners = corners
        self.fraction = positions - corners
        self.subpixel = bool(np.any(self.fraction != 0)) if subpixel is None else bool(subpixel)
        m, n = patch_shape
        rows = corners[:, 0, None, None] + np.arange(m)[None, :, None]
        cols = corners[:, 1, None, None] + np.arange(n)[None, None, :]
        # One flat gather/scatter index for all patches: the object is read and written in one call.
        self.index = asarray((rows * object_shape[1] + cols).reshape(-1), xp=xp, dtype=xp.int64)
        self.ky, self.kx = _frequencies(m), _frequencies(n)
        self._ramps = {}

    def ramps(self, cdtype):
        """Separable phase ramps ``(e^{2πi k_y δ_y}, e^{2πi k_x δ_x})`` of shapes (J, m, 1), (J, 1, n)."""
        if cdtype not in self._ramps:
            ry = np.exp(2j * np.pi * self.fraction[:, 0, None] * self.ky[None, :])[:, :, None]
            rx = np.exp(2j * np.pi * self.fraction[:, 1, None] * self.kx[None, :])[:, None, :]
            self._ramps[cdtype] = (asarray(ry, xp=self.xp, dtype=cdtype), asarray(rx, xp=self.xp, dtype=cdtype))
        return self._ramps[cdtype]

    def gather(self, obj):
        """:math:`\\{S_{r_j} O\\}_j`, shape (J, m, n)."""
        xp = self.xp
        J, (m, n) = self.positions.shape[0], self.patch_shape
        patches = xp.reshape(xp.take(xp.reshape(obj, (-1,)), self.index), (J, m, n))
        if self.subpixel:
            ry, rx = self.ramps(patches.dtype)
            patches = xp.fft.ifftn(xp.fft.fftn(patches, axes=_AXES) * ry * rx, axes=_AXES)
        return patches

    def scatter(self, patches):
        """:math:`\\sum_j S_{r_j}^* v_j`: the adjoint of :meth:`gather`, shape of the object."""
        xp = self.xp
        if self.subpixel:
            ry, rx = self.ramps(patches.dtype)
            patches = xp.fft.ifftn(xp.fft.fftn(patches, axes=_AXES) * xp.conj(ry) * xp.conj(rx), axes=_AXES)
        flat = xp.reshape(patches, (-1,))
        size = self.object_shape[0] * self.object_shape[1]
        # The array API has no complex scatter-add (NumPy's bincount takes real weights): two real ones.
        re = scatter_add(self.index, xp.real(flat), size)
        im = scatter_add(self.index, xp.imag(flat), size)
        out = xp.astype(re, patches.dtype) + 1j * xp.astype(im, patches.dtype)
        return xp.reshape(out, self.object_shape)

    def derivatives(self, patches_unshifted_fft):
        """:math:`(\\partial_{r_y} S_r O, \\partial_{r_x} S_r O)` from the FFT of the integer-cropped patches."""
        xp = self.xp
        cd = patches_unshifted_fft.dtype
        ry, rx = self.ramps(cd)
        ky = asarray((2j * np.pi * self.ky)[None, :, None], xp=xp, dtype=cd)
        kx = asarray((2j * np.pi * self.kx)[None, None, :], xp=xp, dtype=cd)
        shifted = patches_unshifted_fft * ry * rx
        return xp.fft.ifftn(shifted * ky, axes=_AXES), xp.fft.ifftn(shifted * kx, axes=_AXES)


class ExitWaves(LinearOperator):
    r"""Exit waves of a scanned probe, linear in the object: :math:`O \mapsto \{P \odot S_{r_j} O\}_j`.

    Parameters
    ----------
    probe : array, shape (m, n)
        Complex (or real) probe :math:`P`; fixes the namespace and device.
    positions : array_like, shape (J, 2)
        Patch corners (row, column) in object pixels; non-integer values are sub-pixel shifts
        (Fourier phase ramp on the patch).  Every rounded corner must keep the patch inside the object.
    object_shape : tuple of 2 int
        Shape :math:`(M, N)` of the object.
    subpixel : bool, optional
        Force (``True``) or skip (``False``) the Fourier shift; default: only if some position is
        not an integer.

    Notes
    -----
    Forward :math:`\psi_j = P \odot T_{\delta_j} C_{c_j} O`; adjoint
    :math:`A^*\psi = \sum_j C_{c_j}^* T_{\delta_j}^* (\bar P \odot \psi_j)` (a scatter-add of all
    patches at once).  For integer positions :math:`A^*A` is the diagonal of the illumination
    :math:`\sum_j S_{r_j}^*|P|^2`, so :math:`\|A\|^2` is its maximum (see :meth:`illumination`).
    """

    def __init__(self, probe, positions, object_shape, *, subpixel=None):
        xp = array_namespace(probe)
        if probe.ndim != 2:
            raise ValueError(f"probe must be a 2-D array, got shape {tuple(probe.shape)}")
        check_finite(probe, "probe")
        object_shape = _check_shape2(object_shape, "object_shape")
        pos = check_positions(positions, tuple(probe.shape), object_shape)
        self.probe = _as_complex(probe)
        self.patches = _Patches(pos, tuple(probe.shape), object_shape, xp, subpixel)
        self.positions = pos
        super().__init__(object_shape, (pos.shape[0],) + tuple(probe.shape), xp=xp)
        self._probe_cast = {}

    def _probe(self, cdtype):
        if cdtype not in self._probe_cast:
            self._probe_cast[cdtype] = self.xp.astype(self.probe, cdtype)
        return self._probe_cast[cdtype]

    def _forward(self, obj):
        obj = _as_complex(obj)
        return self._probe(obj.dtype) * self.patches.gather(obj)

    def _adjoint(self, psi):
        psi = _as_complex(psi)
        return self.patches.scatter(self.xp.conj(self._probe(psi.dtype)) * psi)

    def illumination(self):
        r"""The overlap map :math:`\sum_j S_{r_j}^* |P|^2` (real, object shape)."""
        xp = self.xp
        a = xp.abs(self.probe) ** 2
        stackd = xp.broadcast_to(xp.astype(a, self.probe.dtype)[None, ...], self.shape_out)
        saved, self.patches.subpixel = self.patches.subpixel, False
        try:
            return xp.real(self.patches.scatter(stackd))
        finally:
            self.patches.subpixel = saved

    def _exact_norm(self):
        if self.patches.subpixel:
            return None
        return math.sqrt(float(self.xp.max(self.illumination())))

    def _norm_dtype(self, xp):
        return xp.complex128

    def position_gradient(self, obj, grad_psi) -> np.ndarray:
        r"""Gradient of a loss in the positions, given its gradient ``grad_psi`` in the exit waves.

        .. math::
            \frac{\partial L}{\partial r_{j,a}} = \operatorname{Re}\langle \nabla_{\psi_j} L,\
            P \odot \partial_{a} T_{\delta_j} C_{c_j} O\rangle, \qquad
            \partial_a T_\delta f = \mathcal F^{-1}[2\pi i k_a e^{2\pi i\langle k,\delta\rangle}\mathcal F f],

        returned as a float64 NumPy array of shape (J, 2) (row, column).
        """
        xp = self.xp
        obj = _as_complex(obj)
        J, (m, n) = self.positions.shape[0], self.patches.patch_shape
        crop = xp.reshape(xp.take(xp.reshape(obj, (-1,)), self.patches.index), (J, m, n))
        dy, dx = self.patches.derivatives(xp.fft.fftn(crop, axes=_AXES))
        p = self._probe(obj.dtype)
        g = xp.conj(_as_complex(grad_psi))
        gy = xp.sum(xp.real(g * p * dy), axis=_AXES)
        gx = xp.sum(xp.real(g * p * dx), axis=_AXES)
        return np.stack([to_numpy(gy), to_numpy(gx)], axis=1).astype(np.float64)


class ProbeExitWaves(LinearOperator):
    r"""Exit waves as a linear map of the probe: :math:`P \mapsto \{P \odot S_{r_j} O\}_j`.

    Adjoint :math:`\psi \mapsto \sum_j \overline{S_{r_j} O} \odot \psi_j`; norm
    :math:`\|\sum_j |S_{r_j} O|^2\|_\infty^{1/2}` (the map is a stack of diagonals).
    ``obj`` fixes the namespace; the patches are computed once.
    """

    def __init__(self, obj, positions, probe_shape, *, subpixel=None):
        xp = array_namespace(obj)
        if obj.ndim != 2:
            raise ValueError(f"obj must be a 2-D array, got shape {tuple(obj.shape)}")
        check_finite(obj, "obj")
        probe_shape = _check_shape2(probe_shape, "probe_shape")
        pos = check_positions(positions, probe_shape, tuple(obj.shape))
        self.obj_patches = _Patches(pos, probe_shape, tuple(obj.shape), xp, subpixel).gather(_as_complex(obj))
        self.positions = pos
        super().__init__(probe_shape, (pos.shape[0],) + probe_shape, xp=xp)

    def _cast(self, cdtype):
        p = self.obj_patches
        return p if p.dtype == cdtype else self.xp.astype(p, cdtype)

    def _forward(self, probe):
        probe = _as_complex(probe)
        return self._cast(probe.dtype) * probe[None, ...]

    def _adjoint(self, psi):
        psi = _as_complex(psi)
        return self.xp.sum(self.xp.conj(self._cast(psi.dtype)) * psi, axis=0)

    def _exact_norm(self):
        xp = self.xp
        return math.sqrt(float(xp.max(xp.sum(xp.abs(self.obj_patches) ** 2, axis=0))))

    def _norm_dtype(self, xp):
        return xp.complex128


def _check_wave_shape(shape):
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2 or min(shape) < 1:
        raise ValueError(f"shape must have at least two positive dimensions, got {shape}")
    return shape


class FarField(LinearOperator):
    r"""Centred unitary 2-D DFT over the last two axes (batched): Fraunhofer propagation.

    .. math::
        \mathcal F x = \operatorname{fftshift}(\operatorname{fft2}(\operatorname{ifftshift}(x)) / \sqrt{mn}),

    PtyLab's convention: zero frequency in the centre of the detector, the probe centred on its
    grid.  Unitary, so the adjoint is the inverse and :math:`\|\mathcal F\| = 1`.
    """

    def __init__(self, shape):
        shape = _check_wave_shape(shape)
        super().__init__(shape, shape)

    def _forward(self, x):
        xp = array_namespace(x)
        x = xp.fft.ifftshift(_as_complex(x), axes=_AXES)
        return xp.fft.fftshift(xp.fft.fftn(x, axes=_AXES, norm="ortho"), axes=_AXES)

    def _adjoint(self, y):
        xp = array_namespace(y)
        y = xp.fft.ifftshift(_as_complex(y), axes=_AXES)
        return xp.fft.fftshift(xp.fft.ifftn(y, axes=_AXES, norm="ortho"), axes=_AXES)

    def _exact_norm(self):
        return 1.0


class NearField(LinearOperator):
    r"""Fresnel propagation over a distance by its transfer function (batched over leading axes).

    .. math::
        \mathcal D_z x = \mathcal F^{-1}\bigl[H \odot \mathcal F x\bigr], \qquad
        H(f) = e^{-i\pi\lambda z (f_y^2 + f_x^2)},

    with :math:`f` the DFT frequencies of a grid of ``pixel_size`` (the constant phase
    :math:`e^{ikz}` is dropped).  :math:`|H| = 1`, so the operator is unitary and the adjoint
    propagates back by :math:`-z`.  Sampling is adequate when
    :math:`\lambda z \le N \Delta x^2` (Voelz & Roggemann 2009, Appl. Opt. 48, 6132).

    Parameters
    ----------
    shape : tuple of int
        Wave shape, ``(..., m, n)``.
    distance, wavelength, pixel_size : float
        Propagation distance :math:`z`, wavelength :math:`\lambda`, grid spacing (same length unit);
        ``wavelength`` and ``pixel_size`` must be > 0.
    """

    def __init__(self, shape, distance, wavelength, pixel_size):
        shape = _check_wave_shape(shape)
        finite(wavelength, "wavelength", gt=0)
        finite(pixel_size, "pixel_size", gt=0)
        finite(distance, "distance")
        super().__init__(shape, shape)
        fy = np.fft.fftfreq(shape[-2], d=float(pixel_size))[:, None]
        fx = np.fft.fftfreq(shape[-1], d=float(pixel_size))[None, :]
        self._h = np.exp(-1j * np.pi * float(wavelength) * float(distance) * (fy**2 + fx**2))
        self._cache = {}

    def transfer_function(self, xp, dtype):
        key = (xp.__name__, dtype)
        if key not in self._cache:
            self._cache[key] = asarray(self._h, xp=xp, dtype=dtype)
        return self._cache[key]

    def _apply(self, x, conj):
        xp = array_namespace(x)
        x = _as_complex(x)
        h = self.transfer_function(xp, x.dtype)
        return xp.fft.ifftn(xp.fft.fftn(x, axes=_AXES) * (xp.conj(h) if conj else h), axes=_AXES)

    def _forward(self, x):
        return self._apply(x, False)

    def _adjoint(self, y):
        return self._apply(y, True)

    def _exact_norm(self):
        return 1.0
