r"""Data terms of ptychography: amplitude (Gaussian) and Poisson, as functionals of the detector waves.

Both act on complex detector-plane waves :math:`z = \mathcal F\psi` (shape (J, m, n), the intensities'
shape) and compare :math:`|z|^2` with measured intensities :math:`I \ge 0`:

.. math::
    A(z) = \tfrac12\sum \bigl(|z| - \sqrt I\bigr)^2, \qquad
    \Pi(z) = \sum \bigl(|z|^2 + \varepsilon\bigr) - I\log\bigl(|z|^2 + \varepsilon\bigr) - (I - I\log I).

With the real inner product :math:`\operatorname{Re}\langle a, b\rangle` the gradient of a real function
of :math:`z` is twice its Wirtinger derivative, :math:`\nabla f = 2\,\partial f/\partial\bar z`:

.. math::
    \nabla A(z) = z - \sqrt I\,\frac{z}{|z|}, \qquad
    \nabla \Pi(z) = 2\Bigl(1 - \frac{I}{|z|^2 + \varepsilon}\Bigr) z,

(:math:`z/|z| := 0` at :math:`z = 0`, a subgradient).  Gradients in the exit waves, the object and the
probe follow by composing with the linear operators of :mod:`recon.operators.ptychography`,
e.g. ``(AmplitudeLoss(I) @ FarField(I.shape)).grad(psi)`` :math:`= \mathcal F^*\nabla A(\mathcal F\psi)`.

The amplitude loss has the closed-form prox (the relaxed Fourier-modulus projection of PIE-type
methods; :math:`\tau \to \infty` is the projection onto the measured modulus):

.. math::
    \operatorname{prox}_{\tau A}(x) = \frac{x}{|x|}\,\frac{|x| + \tau\sqrt I}{1 + \tau}.

References
----------
Thibault, P. & Guizar-Sicairos, M. (2012). Maximum-likelihood refinement for coherent diffractive
imaging. *New J. Phys.* 14, 063004.
Godard, P., Allain, M., Chamard, V. & Rodenburg, J. (2012). Noise models for low counting rate
coherent diffraction imaging. *Opt. Express* 20, 25914.
"""
from __future__ import annotations

from .._checks import finite
from ..backend import array_namespace, check_finite
from .base import Functional

__all__ = ["AmplitudeLoss", "PoissonLoss", "check_intensities"]


def check_intensities(intensities, name: str = "intensities"):
    """Raise ``ValueError`` naming ``name`` unless ``intensities`` is a finite, non-negative real array."""
    if not hasattr(intensities, "shape"):
        raise TypeError(f"{name} must be an array, got {type(intensities).__name__}")
    xp = array_namespace(intensities)
    if not xp.isdtype(intensities.dtype, "real floating"):
        raise TypeError(f"{name} must be a real floating array, got dtype {intensities.dtype}")
    check_finite(intensities, name)
    lowest = float(xp.min(intensities))
    if lowest < 0:
        raise ValueError(f"{name} must be >= 0, got a minimum of {lowest}")
    return intensities


class _DetectorLoss(Functional):
    def __init__(self, intensities):
        self.intensities = check_intensities(intensities)
        self.shape = tuple(intensities.shape)
        self._cast = {}

    def _check(self, z):
        if tuple(z.shape) != self.shape:
            raise ValueError(f"{type(self).__name__}: z has shape {tuple(z.shape)}, expected {self.shape}")

    def _data(self, key, make, dtype):
        """``make()`` cast to the real dtype matching ``dtype``, cached (Python scalars keep float32 in float32)."""
        xp = array_namespace(self.intensities)
        real = xp.float32 if dtype in (xp.float32, xp.complex64) else xp.float64
        if (key, real) not in self._cast:
            self._cast[(key, real)] = xp.astype(make(), real)
        return self._cast[(key, real)]


class AmplitudeLoss(_DetectorLoss):
    r"""Amplitude (Gaussian on :math:`\sqrt I`) loss :math:`\tfrac12\sum(|z| - \sqrt I)^2`.

    Parameters
    ----------
    intensities : array
        Measured intensities :math:`I \ge 0`, finite; its shape is the shape of ``z``.

    Notes
    -----
    Not differentiable where :math:`z = 0 \ne I`; :meth:`grad` returns a subgradient there.  Its
    gradient is 1-Lipschitz away from :math:`z = 0` only in the radial direction, so
    ``lipschitz`` is ``None``; PIE-type solvers use :meth:`prox` instead.
    """

    def amplitudes(self, dtype):
        xp = array_namespace(self.intensities)
        return self._data("sqrt", lambda: xp.sqrt(self.intensities), dtype)

    def __call__(self, z) -> float:
        self._check(z)
        xp = array_namespace(z)
        r = xp.abs(z) - self.amplitudes(z.dtype)
        return 0.5 * float(xp.sum(r * r))

    def _phase(self, z):
        xp = array_namespace(z)
        a = xp.abs(z)
        # z/|z| with 0 at z = 0: the subgradient that leaves zero waves where they are.
        return z / xp.where(a > 0, a, xp.ones_like(a)), a

    def grad(self, z):
        self._check(z)
        u, a = self._phase(z)
        return z - self.amplitudes(z.dtype) * u

    def _prox(self, z, tau):
        self._check(z)
        u, a = self._phase(z)
        tau = float(tau)
        return u * ((a + tau * self.amplitudes(z.dtype)) / (1.0 + tau))

    def project(self, z):
        """:math:`\\sqrt I\\, z/|z|`: the nearest wave with the measured modulus.

        It is the prox for :math:`\\tau\\to\\infty`.
        """
        self._check(z)
        u, _ = self._phase(z)
        return self.amplitudes(z.dtype) * u


class PoissonLoss(_DetectorLoss):
    r"""Poisson negative log-likelihood of counts :math:`I` with mean :math:`|z|^2 + \varepsilon`.

    .. math::
        \Pi(z) = \sum \mu - I\log\mu - (I - I\log I), \qquad \mu = |z|^2 + \varepsilon,

    zero at :math:`|z|^2 = I` when :math:`\varepsilon = 0` (with :math:`0\log 0 = 0`).

    Parameters
    ----------
    intensities : array
        Counts :math:`I \ge 0`, finite.
    eps : float, optional
        Background :math:`\varepsilon \ge 0` keeping the logarithm finite where :math:`z = 0`;
        default :math:`10^{-6}` times the mean count (0 if all counts are 0).
    """

    def __init__(self, intensities, eps=None):
        super().__init__(intensities)
        xp = array_namespace(intensities)
        if eps is None:
            eps = 1e-6 * float(xp.mean(intensities))
        eps = finite(eps, "eps", ge=0)
        self.eps = eps

    def _constant(self, dtype):
        xp = array_namespace(self.intensities)
        i = self.intensities
        return self._data("const", lambda: xp.sum(i - i * xp.log(xp.where(i > 0, i, xp.ones_like(i)))), dtype)

    def __call__(self, z) -> float:
        self._check(z)
        xp = array_namespace(z)
        mu = xp.real(z) ** 2 + xp.imag(z) ** 2 + self.eps
        i = self._data("I", lambda: self.intensities, z.dtype)
        with_counts = xp.where(i > 0, i * xp.log(mu), xp.zeros_like(mu))
        return float(xp.sum(mu - with_counts)) - float(self._constant(z.dtype))

    def grad(self, z):
        self._check(z)
        xp = array_namespace(z)
        mu = xp.real(z) ** 2 + xp.imag(z) ** 2 + self.eps
        i = self._data("I", lambda: self.intensities, z.dtype)
        # mu = 0 only where z = 0 and eps = 0; the gradient there is 0 * z whatever the ratio.
        return (2.0 * (1.0 - i / xp.where(mu > 0, mu, xp.ones_like(mu)))) * z
