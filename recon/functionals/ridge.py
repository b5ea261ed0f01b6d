r"""Learned ridge regularizers: CRR-NN (convex) and WCRR (weakly convex).

.. math::
    R(x) = \sum_{c=1}^{C} \sum_{p} \psi_c\bigl((Wx)_{c,p}\bigr), \qquad
    \psi_c(t) = \frac{\Phi(s_c t)}{s_c^2}, \qquad \psi_c'(t) = \frac{\varphi(s_c t)}{s_c},

with :math:`W` a :class:`~recon.operators.MultiConvolution` (e.g. 1 → 4 → 8 → 60 channels,
5×5 kernels), :math:`\varphi` a learned :class:`~recon.functionals.splines.LinearSpline`
(the activation, shared by all channels, or one per channel), :math:`\Phi` its exact integral with
:math:`\Phi(0) = 0` and :math:`s_c > 0` per-channel scales (1 for CRR-NN; for WCRR they depend
on the noise level, see :meth:`RidgeRegularizer.at_noise_level`).  Then

.. math::
    \nabla R(x) = W^{\top} \sigma(Wx), \qquad \sigma_c(t) = \varphi(s_c t)/s_c,

and, since :math:`\sigma_c' (t)= \varphi'(s_c t) \in [\varphi'_{\min}, \varphi'_{\max}]`,

* :math:`\nabla R` is Lipschitz with :math:`L = \|W\|^2 \max(\varphi'_{\max}, 0)`;
* :math:`R + \tfrac{\rho}{2}\|\cdot\|^2` is convex with :math:`\rho = \|W\|^2 \max(-\varphi'_{\min}, 0)`
  (:math:`\rho = 0`: CRR-NN, convex; WCRR is trained with :math:`\rho = 1`).

So the denoising objective :math:`\tfrac12\|x-y\|^2 + \lambda R(x)` is convex whenever
:math:`\lambda\rho \le 1`, with a gradient that is :math:`(1 + \lambda L)`-Lipschitz.

References
----------
Goujon, A., Neumayer, S., Bohra, P., Ducotterd, S., Unser, M. (2023). A neural-network-based convex
regularizer for inverse problems. *IEEE Trans. Comput. Imaging* 9, 781-795.
Goujon, A., Neumayer, S., Unser, M. (2024). Learning weakly convex regularizers for convergent
image-reconstruction algorithms. *SIAM J. Imaging Sci.* 17(1), 91-115.
"""
from __future__ import annotations

import math

import numpy as np

from .._checks import callable_or_none, finite, finite_or_none
from ..backend import array_namespace, asarray, check_finite, to_numpy
from ..operators.multiconv import MultiConvolution
from .base import Functional
from .splines import LinearSpline

__all__ = ["RidgeRegularizer"]


def _move(k, xp, dtype):
    """Kernel ``k`` as an array of ``xp`` (through NumPy when it comes from another library)."""
    if array_namespace(k) is not xp:
        k = to_numpy(k)
    if isinstance(dtype, str):
        dtype = getattr(xp, dtype)
    return xp.asarray(k, dtype=dtype)


class RidgeRegularizer(Functional):
    r"""Ridge regularizer :math:`R(x) = \sum_c \sum_p \psi_c((Wx)_{c,p})` (CRR-NN / WCRR).

    Parameters
    ----------
    kernels : sequence of arrays ``(c_l, c_{l-1}, K, K)``
        The layers of :math:`W` (see :class:`~recon.operators.MultiConvolution`), one input
        channel.  They fix the array library of the images.
    activation : LinearSpline
        :math:`\varphi`, the derivative of the (unscaled) potential: one spline shared by all
        channels (WCRR, the CRR-NN of the WCRR code), or one per output channel of :math:`W`
        (coefficients ``(C, K)``: the original CRR-NN), :math:`\varphi_c` in place of
        :math:`\varphi` in every formula above.
    scale : array_like of C floats > 0, optional
        Per-channel scales :math:`s_c` (default 1).
    noise_scaling : callable, optional
        ``sigma -> scale`` (C floats): the WCRR noise-level adaptation; used by
        :meth:`at_noise_level`.
    w_norm : float, optional
        :math:`\|W\|`.  Default: power iteration on a ``norm_shape`` image (cached).
    norm_shape : tuple of int, default (64, 64)
        Image size for that power iteration.  The norm of a zero-padded chain grows slightly
        with the image size; the published models fix it on 256×256 images, as here.

    Attributes
    ----------
    lipschitz : float
        :math:`\|W\|^2 \max(\varphi'_{\max}, 0)`, the Lipschitz constant of :meth:`grad`.
    weak_convexity : float
        :math:`\rho = \|W\|^2\max(-\varphi'_{\min}, 0)`: :math:`R + \frac\rho2\|\cdot\|^2` is convex.
    extras : dict
        Provenance only (published model's ``mu``, ``rho``, ``L``, the noise level ``sigma``).
    """

    def __init__(self, kernels, activation, *, scale=None, noise_scaling=None, w_norm=None, norm_shape=(64, 64)):
        if not isinstance(activation, LinearSpline):
            raise TypeError(f"activation must be a LinearSpline, got {type(activation).__name__}")
        self.kernels = list(kernels)
        MultiConvolution(self.kernels, (1, 1))  # validates the kernels now, at the boundary
        if self.kernels[0].shape[1] != 1:
            raise ValueError(f"kernels[0] must take 1 input channel, got {self.kernels[0].shape[1]}")
        self.channels = int(self.kernels[-1].shape[0])
        if activation.channels is not None and activation.channels != self.channels:
            raise ValueError(f"activation must have one spline per output channel ({self.channels}) or one shared "
                             f"spline, got {activation.channels} splines")
        self.activation = activation
        self.scale = self._check_scale(np.ones(self.channels) if scale is None else scale)
        self.noise_scaling = callable_or_none(noise_scaling, "noise_scaling")
        self._w_norm = finite_or_none(w_norm, "w_norm", gt=0)
        self.norm_shape = tuple(norm_shape)
        self._ops = {}
        self._scales = {}
        self.extras = {}  # provenance (e.g. the published model's mu, rho, L); not used in computations

    def _check_scale(self, scale):
        s = np.asarray(scale, dtype=np.float64).reshape(-1)
        if s.size != self.channels or not np.all(np.isfinite(s)) or not np.all(s > 0):
            raise ValueError(f"scale must hold {self.channels} finite numbers > 0, got {np.asarray(scale)!r}")
        return s

    # -- pieces -------------------------------------------------------------------------------
    def W(self, shape) -> MultiConvolution:
        """The multi-convolution on images of ``shape`` (cached per shape)."""
        shape = tuple(int(n) for n in shape)
        if shape not in self._ops:
            self._ops[shape] = MultiConvolution(self.kernels, shape)
        return self._ops[shape]

    @property
    def w_norm(self) -> float:
        """:math:`\\|W\\|` (given, or by power iteration on ``norm_shape``)."""
        if self._w_norm is None:
            self._w_norm = self.W(self.norm_shape).norm(iters=1000, rtol=1e-9)
        return self._w_norm

    @property
    def lipschitz(self) -> float:
        return self.w_norm**2 * max(self.activation.slope_max, 0.0)

    @property
    def weak_convexity(self) -> float:
        return self.w_norm**2 * max(0.0, -self.activation.slope_min)

    def at_noise_level(self, sigma) -> RidgeRegularizer:
        """The same regularizer with the scales :math:`s_c(\\sigma)` of the noise level ``sigma``.

        ``sigma`` is in the units ``noise_scaling`` expects (for published WCRR weights loaded by
        :func:`recon.learned.load_published`: the image's units, e.g. 25/255 on [0, 1] images).
        """
        if self.noise_scaling is None:
            raise ValueError("this regularizer has no noise_scaling; it does not depend on sigma")
        sigma = finite(sigma, "sigma", ge=0)
        out = RidgeRegularizer(self.kernels, self.activation, scale=self.noise_scaling(sigma),
                               noise_scaling=self.noise_scaling, w_norm=self._w_norm, norm_shape=self.norm_shape)
        out._ops = self._ops  # the operators do not depend on sigma
        out.extras = dict(self.extras, sigma=sigma)
        return out

    def to(self, backend=None, *, xp=None, dtype=None) -> RidgeRegularizer:
        """The same regularizer with its kernels in another array library (or dtype).

        Parameters
        ----------
        backend : {"numpy", "cupy"}, optional
            Where the kernels go (default backend if neither this nor ``xp`` is given).
        xp : array namespace, optional
            Instead of ``backend``: any array-API namespace, e.g. ``recon.backend.array_namespace(image)``.
        dtype : optional
            Kernel dtype in that namespace (default: kept, as far as the namespace has it).

        The kernels are a few thousand numbers; this is the one explicit copy (host to device
        for CuPy) that lets the regularizer act on images there.  ``w_norm``, the activation,
        the scales and the noise scaling are shared, not recomputed.
        """
        if xp is None:
            from ..backend import namespace

            xp = namespace(backend)
        elif backend is not None:
            raise ValueError("give backend or xp, not both")
        kernels = [_move(k, xp, dtype) for k in self.kernels]
        out = RidgeRegularizer(kernels, self.activation, scale=self.scale, noise_scaling=self.noise_scaling,
                               w_norm=self.w_norm, norm_shape=self.norm_shape)
        out.extras = dict(self.extras)
        return out

    def _scale_as(self, xp, dtype):
        key = (id(xp), dtype)
        if key not in self._scales:
            self._scales[key] = xp.reshape(asarray(self.scale, xp=xp, dtype=dtype), (self.channels, 1, 1))
        return self._scales[key]

    def _check_image(self, x, name="x"):
        if not hasattr(x, "ndim") or x.ndim != 2:
            raise ValueError(f"{name} must be a 2-D image, got {getattr(x, 'shape', type(x).__name__)}")
        try:
            return array_namespace(x, self.kernels[0])
        except TypeError as err:
            raise TypeError(f"{name} is a {type(x).__module__.split('.')[0]} array but this regularizer's kernels "
                            f"are {type(self.kernels[0]).__module__.split('.')[0]} arrays; move the regularizer "
                            "with reg.to('cupy') / reg.to(xp=recon.backend.array_namespace(x))") from err

    # -- Functional protocol ------------------------------------------------------------------
    def __call__(self, x) -> float:
        xp = self._check_image(x)
        s = self._scale_as(xp, x.dtype)
        return float(xp.sum(self.activation.integral(s * self.W(x.shape)(x)) / (s * s)))

    def potential_derivative(self, z):
        """:math:`\\sigma(z)`, channel-wise :math:`\\varphi(s_c z_c)/s_c` for ``z`` of shape (C, H, W)."""
        xp = array_namespace(z)
        s = self._scale_as(xp, z.dtype)
        return self.activation.scaled(z, s)

    def grad(self, x):
        r""":math:`\nabla R(x) = W^\top \sigma(Wx)`.

        Through :meth:`MultiConvolution.sandwich <recon.operators.MultiConvolution.sandwich>`:
        on NumPy, :math:`Wx` is formed, activated and sent back one block of rows at a time
        (the activation in one compiled pass when numba is installed).
        """
        xp = self._check_image(x)
        s = self._scale_as(xp, x.dtype)
        activation = self.activation

        def sigma(z):
            return activation.scaled(z, s, out=z) if isinstance(z, np.ndarray) else activation.scaled(z, s)

        return self.W(x.shape).sandwich(x, sigma)

    def prox(self, x, tau, *, tol=1e-4, iters=500, step=None):
        r"""Proximal denoiser :math:`\operatorname{argmin}_z \tfrac12\|z - x\|^2 + \tau R(z)`.

        Accelerated gradient descent (FISTA, no prox) with the gradient-based adaptive restart,
        the scheme of Goujon et al. (2023, 2024):

        .. math::
            z_{k+1} = y_k - \alpha\bigl(y_k - x + \tau\nabla R(y_k)\bigr),\quad
            y_{k+1} = z_{k+1} + \tfrac{t_k - 1}{t_{k+1}}(z_{k+1} - z_k),

        momentum reset (:math:`t = 1`, :math:`y = z`) when
        :math:`\langle \nabla F(y_k), z_{k+1} - z_k\rangle > 0`, start :math:`z_0 = x`, stop when
        :math:`\|z_{k+1} - z_k\| \le \mathrm{tol}\,\|z_{k+1}\|` or after ``iters`` steps.
        Default step :math:`\alpha = 1/(1 + \tau L)`.  The objective is convex (so this converges
        to the unique minimiser) when :math:`\tau\rho \le 1` (:attr:`weak_convexity`); beyond,
        the result is a critical point at best.
        """
        x_out, _ = self.prox_with_info(x, tau, tol=tol, iters=iters, step=step)
        return x_out

    def prox_with_info(self, x, tau, *, tol=1e-4, iters=500, step=None):
        """:meth:`prox`, also returning the number of iterations run."""
        xp = self._check_image(x)
        tau = finite(tau, "tau", gt=0)
        tol = finite(tol, "tol", ge=0)
        step = 1.0 / (1.0 + tau * self.lipschitz) if step is None else finite(step, "step", gt=0)
        check_finite(x, "x")
        z, y, t = x, x, 1.0
        for k in range(1, int(iters) + 1):
            g = (y - x) + tau * self.grad(y)
            z_new = y - step * g
            diff = z_new - z
            t_new = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
            if float(xp.sum(g * diff)) > 0:  # momentum points uphill: restart
                t_new, y = 1.0, z_new
            else:
                y = z_new + ((t - 1.0) / t_new) * diff
            t, z = t_new, z_new
            # the authors skip the test at the first step (the change there is the largest)
            if k > 1 and float(xp.sum(diff * diff)) <= (tol * tol) * float(xp.sum(z * z)):
                break
        return z, k

    def t_step(self, x, tau, t, *, step=None):
        r"""The t-step denoiser of CRR-NN training: :math:`t` plain gradient steps from :math:`x`.

        .. math::
            z_0 = x, \qquad z_{k+1} = z_k - \alpha\bigl(z_k - x + \tau\nabla R(z_k)\bigr),

        default :math:`\alpha = 1/(1 + \tau L)` (any :math:`\alpha < 2/(1+\tau L)` decreases the
        convex objective).
        """
        self._check_image(x)
        if int(t) != t or t < 0:
            raise ValueError(f"t must be an integer >= 0, got {t}")
        tau = float(tau)
        step = 1.0 / (1.0 + tau * self.lipschitz) if step is None else float(step)
        z = x
        for _ in range(int(t)):
            z = z - step * ((z - x) + tau * self.grad(z))
        return z

    def __repr__(self):
        chans = "→".join(str(c) for c in [1] + [k.shape[0] for k in self.kernels])
        return f"RidgeRegularizer(channels {chans}, {self.activation!r}, rho={self.weak_convexity:.3g})"
