r"""The sweeps behind :func:`recon.apps.ptycho.reconstruct`: rPIE/ePIE and the overlap-normalised gradient step.

Both work on the exit-wave correction of the Fourier-modulus projection,

.. math::
    \Delta_j = \mathcal F^{-1}\Pi_{I_j}\mathcal F\psi_j - \psi_j, \qquad
    \Pi_I(z) = \sqrt I\, z/|z|, \qquad \psi_j = P\odot S_{r_j}O,

which is minus the Wirtinger gradient of the amplitude loss
:math:`L = \tfrac12\sum_j\|\,|\mathcal F\psi_j| - \sqrt{I_j}\|^2` in :math:`\psi_j`.  The PIE sweeps
(:func:`pie_sweep`) apply it one position at a time in random order; :func:`gd_sweep` applies all
of them at once, normalised by the overlap.  Both also return, when asked, the per-position
quantities :mod:`recon.apps.ptycho_positions` needs to refine the scan positions.
"""
from __future__ import annotations

import copy
import math

import numpy as np

from ..backend import array_namespace, asarray, is_numpy, scatter_add
from ..operators.ptychography import ExitWaves

__all__ = ["Problem", "pie_sweep", "gd_sweep", "overlap", "Momentum", "ObjectProx", "object_prior"]

_AXES = (-2, -1)


def _ffts(xp):
    """``(fft2, ifft2)`` over the last two axes, unnormalised.

    SciPy's pocketfft transforms both axes in one C++ call and keeps complex64 in single precision;
    on 64×64 complex64 patches it takes about half the time of ``numpy.fft.fftn``, whose 2-D
    transform loops over the axes in Python.  Other namespaces use their own ``fft`` extension.
    """
    if is_numpy(xp):
        import scipy.fft as sfft

        return (lambda x: sfft.fft2(x, axes=_AXES)), (lambda x: sfft.ifft2(x, axes=_AXES))
    return (lambda x: xp.fft.fftn(x, axes=_AXES)), (lambda x: xp.fft.ifftn(x, axes=_AXES))


class Problem:
    r"""Data in FFT order, so the sweeps skip the centring shifts.

    With :math:`\mathcal F = S\,\mathrm{fft}\,S^{-1}` (:math:`S` the fftshift, a circular shift),
    :math:`\mathcal F^{-1}\Pi_{I}\mathcal F\psi = \mathrm{ifft}\,\Pi_{S^{-1}I}\,\mathrm{fft}\,\psi`:
    the shifts only multiply the spectrum by unimodular phases, which the modulus projection
    lets through.  Amplitudes are scaled by :math:`\sqrt{mn}` for the unnormalised fft.
    """

    def __init__(self, intensities):
        xp = array_namespace(intensities)
        self.xp = xp
        J, m, n = intensities.shape
        self.total = float(xp.sum(intensities))
        self.scale = float(m * n)
        self.amplitudes = xp.fft.ifftshift(xp.sqrt(intensities), axes=_AXES) * math.sqrt(self.scale)
        self.fft, self.ifft = _ffts(xp)

    def project(self, psi, amplitudes):
        """``(ifft Π fft ψ, Σ(|fft ψ| - A)²)`` for one or a batch of exit waves."""
        xp = self.xp
        z = self.fft(psi)
        a = xp.abs(z)
        residual = xp.sum((a - amplitudes) ** 2)
        z = z * (amplitudes / xp.where(a > 0, a, xp.ones_like(a)))
        return self.ifft(z), residual

    def normalised(self, residual_sum) -> float:
        return float(residual_sum) / (self.scale * self.total) if self.total > 0 else 0.0


class Shifts:
    """Per-position Fourier sub-pixel shifts :math:`T_\\delta` of patches, and their adjoints."""

    def __init__(self, fraction, shape, problem, cdtype):
        xp = problem.xp
        ky, kx = np.fft.fftfreq(shape[0]), np.fft.fftfreq(shape[1])
        self.xp, self.fft, self.ifft = xp, problem.fft, problem.ifft
        self.ky = asarray(2j * np.pi * ky[:, None], xp=xp, dtype=cdtype)
        self.kx = asarray(2j * np.pi * kx[None, :], xp=xp, dtype=cdtype)
        ramp = np.exp(2j * np.pi * (fraction[:, 0, None, None] * ky[None, :, None]
                                    + fraction[:, 1, None, None] * kx[None, None, :]))
        self.ramps = asarray(ramp, xp=xp, dtype=cdtype)

    def apply(self, patch, j, adjoint=False):
        ramp = self.ramps[j, ...]
        return self.ifft(self.fft(patch) * (self.xp.conj(ramp) if adjoint else ramp))

    def derivatives(self, crop, j):
        """:math:`(\\partial_y T_\\delta C O, \\partial_x T_\\delta C O)` of one integer crop."""
        spectrum = self.fft(crop) * self.ramps[j, ...]
        return self.ifft(spectrum * self.ky), self.ifft(spectrum * self.kx)


def pie_sweep(problem, obj, probe, pos, method, alpha, beta, refine_probe, rng, system=None):
    """One ePIE/rPIE sweep over all positions in random order; returns ``(obj, probe, residual)``.

    With a :class:`~recon.apps.ptycho_positions.ShiftSystem`, each position's Gauss–Newton system
    in its shift is accumulated from the crop *before* that position's own update, so it measures
    how far the data of position :math:`j` disagree with the object the other positions built.
    """
    xp = problem.xp
    m, n = probe.shape
    corners = np.rint(pos).astype(np.int64)
    fraction = pos - corners
    subpixel = system is not None or bool(np.any(fraction != 0))
    shifts = Shifts(fraction, (m, n), problem, obj.dtype) if subpixel else None
    residual = 0.0

    def object_step(probe):
        p2 = xp.real(probe) ** 2 + xp.imag(probe) ** 2
        weight = (1.0 - alpha) * p2 + alpha * xp.max(p2) if method == "rpie" else xp.max(p2) / alpha
        return xp.conj(probe) / weight

    step = object_step(probe)  # fixed over the sweep unless the probe changes
    for j in rng.permutation(pos.shape[0]):
        r, c = int(corners[j, 0]), int(corners[j, 1])
        crop = obj[r:r + m, c:c + n]
        patch = shifts.apply(crop, j) if subpixel else crop
        psi = probe * patch
        target, res = problem.project(psi, problem.amplitudes[j, ...])
        residual += res
        delta = target - psi
        if system is not None:
            system.add(j, probe, shifts.derivatives(crop, j), delta)
        update = step * delta
        if refine_probe:
            o2 = xp.real(patch) ** 2 + xp.imag(patch) ** 2
            pweight = (1.0 - beta) * o2 + beta * xp.max(o2) if method == "rpie" else xp.max(o2) / beta
            probe = probe + xp.conj(patch) * delta / pweight
            step = object_step(probe)
        if subpixel:
            update = shifts.apply(update, j, adjoint=True)
        obj[r:r + m, c:c + n] = crop + update
    return obj, probe, residual


def gd_sweep(problem, obj, probe, pos, method, alpha, beta, refine_probe, rng, system=None):
    """One full-batch majorise-minimise step on the object, then on the probe (both overlap-normalised).

    ``system`` must be None: with position refinement ``reconstruct`` runs ``"gd"`` through
    :func:`~recon.apps.ptycho_batch.batch_sweep` with the patch-wise step.
    """
    xp = problem.xp
    A = ExitWaves(probe, pos, tuple(obj.shape))
    patches = A.patches.gather(obj)
    psi = probe * patches
    target, residual = problem.project(psi, problem.amplitudes)
    delta = target - psi
    illum = overlap(A, problem)
    obj = obj + A.patches.scatter(xp.conj(probe) * delta) / (illum + alpha * xp.max(illum))
    if refine_probe:
        patches = A.patches.gather(obj)
        o2 = xp.sum(xp.real(patches) ** 2 + xp.imag(patches) ** 2, axis=0)
        # Exact minimiser of the majoriser in P for the new object (target waves held fixed).
        probe = probe + xp.sum(xp.conj(patches) * (target - probe * patches), axis=0) / (o2 + beta * xp.max(o2))
    return obj, probe, residual


def overlap(A, problem):
    r"""A diagonal majoriser of :math:`A^*A`: the illumination, widened for sub-pixel shifts.

    For integer positions :math:`A^*A = \sum_j C_j^*|P|^2C_j` is diagonal.  A sub-pixel shift
    :math:`T_\delta` is a circular convolution with a periodic sinc :math:`t_\delta` that reaches the
    whole patch, so :math:`T_\delta^*|P|^2T_\delta` also couples pixels outside the probe, where the
    illumination is zero; divided by the plain illumination the step blows up (measured: spectral
    radius 109 instead of at most 1 on a 128² case).  By Gershgorin (row sums of absolute values),
    :math:`T^*DT \preceq \operatorname{diag}(\|t\|_1\,(|\tilde t| * |P|^2))`, with
    :math:`\tilde t` the symmetrised :math:`|t|`: a valid majoriser, so the step still decreases the
    loss, at the price of smaller steps: :math:`\|t\|_1` is 10 for a half-pixel shift along both
    axes of a 32×32 patch (13 at 64×64), and the measured spectral radius of the preconditioned
    :math:`A^*A` is 0.25, so gd converges more slowly with sub-pixel positions than with integer ones.
    """
    xp = problem.xp
    if not A.patches.subpixel:
        return xp.real(A.illumination())
    p2 = xp.real(A.probe) ** 2 + xp.imag(A.probe) ** 2
    ry, rx = A.patches.ramps(A.probe.dtype)
    t = xp.abs(problem.ifft(ry * rx))
    t = xp.maximum(t, xp.flip(xp.roll(t, (-1, -1), axis=_AXES), axis=_AXES))  # t(v) and t(-v)
    norm1 = xp.sum(t, axis=_AXES, keepdims=True)
    spectra = problem.fft(xp.astype(t, A.probe.dtype)) * problem.fft(xp.astype(p2, A.probe.dtype))
    widened = xp.real(problem.ifft(spectra))
    widened = xp.maximum(widened, xp.zeros_like(widened)) * norm1
    size = A.shape_in[0] * A.shape_in[1]
    return xp.reshape(scatter_add(A.patches.index, xp.reshape(widened, (-1,)), size), A.shape_in)


def _copy(x):
    return array_namespace(x).asarray(x, copy=True)


class Momentum:
    """Heavy-ball extrapolation of object and probe between sweeps (mPIE's momentum)."""

    def __init__(self, eta, probe=True):
        self.eta, self.probe = eta, probe
        self.previous = None
        self.velocity = None

    def step(self, obj, probe, refine_probe):
        if self.eta == 0.0:
            return obj, probe
        current = (obj, probe) if refine_probe and self.probe else (obj,)
        if self.previous is not None:
            changes = [x - p for x, p in zip(current, self.previous)]
            self.velocity = changes if self.velocity is None else [
                self.eta * v + d for v, d in zip(self.velocity, changes)]
            current = tuple(x + self.eta * v for x, v in zip(current, self.velocity))
        # Copies: PIE sweeps write the object in place.
        self.previous = tuple(_copy(x) for x in current)
        return current if len(current) == 2 else (current[0], probe)


class ObjectProx:
    r"""A real regulariser :math:`R` applied to the object by parts: :math:`R(\operatorname{Re}O) + R(\operatorname{Im}O)`.

    Its prox is separable, :math:`\operatorname{prox}(O) = \operatorname{prox}_{wR}(\operatorname{Re}O)
    + i\,\operatorname{prox}_{wR}(\operatorname{Im}O)`, each part with its own instance of ``R``
    (warm starts of an iterative prox, such as TV's, stay with their part).  Real and imaginary
    parts rather than amplitude and phase: the prox stays convex and exact, and a phase that wraps
    does not create false edges.
    """

    def __init__(self, make, weight):
        self.parts = (make(), make())
        self.weight = float(weight)

    def __call__(self, obj):
        xp = array_namespace(obj)
        re = self.parts[0].prox(xp.real(obj), self.weight)
        im = self.parts[1].prox(xp.imag(obj), self.weight)
        return xp.astype(re, obj.dtype) + 1j * xp.astype(im, obj.dtype)


def object_prior(reg, weight):
    """The :class:`ObjectProx` for ``reconstruct``'s ``reg`` and ``weight`` (None without a prior)."""
    if reg is None:
        return None
    if weight is None or not (float(weight) >= 0 and math.isfinite(float(weight))):
        raise ValueError(f"weight must be a finite number >= 0 when reg is given, got {weight}")
    if isinstance(reg, str):
        if reg != "tv":
            raise ValueError(f"reg must be None, 'tv' or a Functional with a prox, got {reg!r}")
        from ..functionals.tv import TV

        # One prox per sweep, warm-started: a loose inner tolerance suffices, as the sweeps move
        # the object by more than the prox error (measured, 1e3 photons, 64²: error 0.082 vs 0.081, 1.3 s vs 2.2 s).
        return ObjectProx(lambda: TV(inner_tol=1e-3, inner_iters=100), weight)
    if not hasattr(reg, "prox"):
        raise ValueError(f"reg must be None, 'tv' or a Functional with a prox, got {reg!r}")
    return ObjectProx(lambda: copy.deepcopy(reg), weight)
