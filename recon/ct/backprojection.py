r"""Filtered backprojection (FBP), the analytic inverse of the parallel-beam Radon transform.

:func:`fbp` filters the projections with :func:`~recon.operators.tomography.filter_sinogram`, weighs the
angles with :func:`~recon.operators.tomography.angular_weights` and backprojects with the exact adjoint
of :class:`~recon.operators.tomography.Radon`; public as :func:`recon.ct.fbp`.
"""
from __future__ import annotations

from .._checks import finite, one_of, positive_int
from ..backend import asarray
from ..operators.tomography import FILTERS, Radon, angular_weights, filter_sinogram
from .geometry import check_sinogram, image_shape

__all__ = ["fbp"]

# Fixed-point steps per data bin in FBP's backprojection: positions off by <= 3/64 bin move FBP's error on the
# noiseless 256² Shepp-Logan by < 1e-4 (0.09957 vs 0.09949 at 64, ram-lak), and the table (32 entries per bin
# of 8 floats: Radon._adjoint) stays in a core's L2, 1.5x faster at 512², 720 angles.
_FBP_SUBBINS = 32


def fbp(sinogram, angles, *, filter: str = "ram-lak", shape=None, padding: bool = True, oversampling=None,
        detector_spacing=1.0, center=None, degrees: bool = False):
    r"""Filtered backprojection :math:`u = \int_0^\pi (h * p_\theta)(x\cos\theta + y\sin\theta)\,d\theta`.

    .. math::
        u = A^*\bigl(\Delta\theta \odot (h * p)\bigr),

    with :math:`h` the (windowed) ramp filter of :func:`~recon.operators.tomography.filter_sinogram` in
    units of bins, :math:`\Delta\theta_a` the quadrature weights of
    :func:`~recon.operators.tomography.angular_weights` (:math:`\pi/N` for :math:`N` uniform angles) and
    :math:`A^*` the exact adjoint of :class:`~recon.operators.tomography.Radon` (linear-interpolation
    backprojection, which carries the :math:`1/\Delta s` of the integral; positions in fixed point to
    1/32 of a bin).  For noiseless data of a
    smooth image sampled finely enough, this reproduces the image's values (not a scaled copy).

    Parameters
    ----------
    sinogram : array, shape (n_angles, n_detectors)
        Line integrals, real floating, finite; NumPy, CuPy or any array-API array.
    angles : 1-D array_like
        Radians (degrees with ``degrees=True``), ``n_angles`` of them.
    filter : {"ram-lak", "shepp-logan", "cosine", "hamming", "hann"}
        Window on the ramp; smoother windows trade resolution for noise.
    shape : (int, int), optional
        Output image shape; default the largest square inside the detector's field of view,
        :math:`\lfloor (n_d - 1)\Delta s/\sqrt2\rfloor` (the original size for default detectors).
    padding : bool, default True
        Zero-pad projections before filtering (no wrap-around).
    oversampling : int, optional
        Backproject from the filtered projections interpolated band-limited (zero-padded spectrum)
        onto a detector ``oversampling`` times finer, then linearly; see Notes.  Default 2 for
        ``"cosine"``, ``"hamming"``, ``"hann"``, 1 for ``"ram-lak"`` and ``"shepp-logan"``.
    detector_spacing, center, degrees
        Geometry, as in :class:`~recon.operators.tomography.Radon`.

    Notes
    -----
    Linear interpolation in the backprojection multiplies the filtered projection's spectrum by
    :math:`\operatorname{sinc}^2(\nu/o)` on average over pixel positions (:math:`o` the
    oversampling; 0.41 at Nyquist for :math:`o = 1`, 0.81 for :math:`o = 2`), a second apodisation
    on top of the window.  The cosine, Hamming and Hann windows vanish (nearly) at Nyquist, so their
    projections are band-limited and interpolating them on a finer detector first removes that
    extra blur: on the noiseless 256 x 256 Shepp–Logan from 360 angles the error drops by 7-9 %
    (cosine 0.135 -> 0.122).  The ramp and the Shepp–Logan window (0.64 at Nyquist) keep the
    aliased top of the spectrum of an image with edges, which the hat's damping holds down: there
    :math:`o = 1` is the more accurate (ram-lak 0.099 against 0.109) and the less noisy.

    References
    ----------
    Kak, A. C., Slaney, M. (1988). *Principles of Computerized Tomographic Imaging*. IEEE Press, ch. 3.

    Examples
    --------
    >>> from recon import ct, data
    >>> u = data.shepp_logan(64)
    >>> angles = ct.uniform_angles(180)
    >>> rec = ct.fbp(ct.sinogram(u, angles), angles)
    >>> rec.shape, bool(abs(rec - u).mean() < 0.05)
    ((64, 64), True)
    """
    one_of(filter, "filter", FILTERS)
    default = 2 if filter in ("cosine", "hamming", "hann") else 1  # windows that vanish at Nyquist (Notes)
    o = positive_int(default if oversampling is None else oversampling, "oversampling")
    xp, theta = check_sinogram(sinogram, angles, degrees)
    n_det, ds = sinogram.shape[1], finite(detector_spacing, "detector_spacing", gt=0)
    # the fine detector: bin k of the data is fine bin o k, the spacing Δs / o, the same rotation axis
    A = Radon(image_shape(shape, n_det, ds), theta, n_detectors=o * (n_det - 1) + 1,
              detector_spacing=ds / o, center=None if center is None else o * float(center),
              subbins=max(2, _FBP_SUBBINS // o))
    q = filter_sinogram(sinogram, filter, padding=padding, oversampling=o)
    # the adjoint's 1 / (Δs / o) is o times the integral's 1 / Δs: one factor 1 / o in the weights
    dtheta = asarray(angular_weights(theta)[:, None] / o, xp=xp, dtype=sinogram.dtype)
    return A.adjoint(q * dtheta)
