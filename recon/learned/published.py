r"""Published CRR-NN / WCRR checkpoints as recon :class:`~recon.functionals.RidgeRegularizer` objects.

The checkpoints of Goujon, Neumayer, Unser (2024) (``weakly_convex_ridge_regularizer``,
``trained_models/WCRR-CNN`` and ``CRR-CNN``) are PyTorch state dicts beside a ``config.json``.
Reading them needs ``torch`` (the ``learn`` extra); the regularizer built from them does not.

How each tensor maps (what the authors' model does at inference, reproduced here):

``conv_layer.conv_layers.{l}.weight`` (``...0.parametrizations.weight.original`` for the first)
    The layers of :math:`W` (``conv2d``, padding ``K//2``: :class:`~recon.operators.MultiConvolution`).
    The first layer is parametrised to have zero-mean kernels: its stored tensor is the raw
    parameter, and the kernel used is ``original - mean(original, axis=(1, 2, 3))``.
``L`` (and the authors' test-time power method)
    :math:`W` is normalised to :math:`\|W\| = 1`: both the forward and the transposed chain are
    divided by :math:`\sqrt{L}` with :math:`L = \lambda_{\max}(W^\top W)` by power iteration on a
    256×256 image.  recon recomputes :math:`L` the same way (the stored ``L`` is a training-time
    Fourier estimate) and divides the first layer's kernels by :math:`\sqrt L`.
``activation_cvx.coefficients``, ``activation_ccv.coefficients`` (1 × 101 each, knots on
:math:`[-0.1, 0.1]`)
    Each is *projected* before use, as the authors do at every evaluation: slopes
    :math:`(c_{k+1}-c_k)/h` clipped to :math:`[0, 1]`, first and last slope set to 0, values
    re-integrated from 0, then antisymmetrised :math:`c \leftarrow \tfrac12(c - c_{\text{reversed}})`.
``mu_``, config ``rho_wcvx``
    The activation is :math:`\varphi = e^{\mu\_}\,\varphi_{\text{cvx}} - \rho\,\varphi_{\text{ccv}}`
    (one :class:`~recon.functionals.splines.LinearSpline` on the common grid; :math:`\rho = 0`
    for the convex CRR-CNN model, 1 for WCRR).
``spline_scaling.coefficients`` (60 × 11, knots on the config's ``noise_range`` [0, 30], noise in
/255 units; not projected, linear extension)
    Per-channel scales :math:`s_c(\sigma) = \exp(S_c(255\sigma)) / (255\sigma + 10^{-5})`, so
    :math:`\psi_c(t) = \Phi(s_c t)/s_c^2`; ``noise_scaling`` of the returned regularizer, used by
    :meth:`~recon.functionals.RidgeRegularizer.at_noise_level` with :math:`\sigma` in the units of
    a [0, 1] image (25/255 for the usual ":math:`\sigma = 25`").

The original CRR-NN checkpoints of Goujon et al. (2023) (``convex_ridge_regularizers``,
``trained_models/Sigma_*_t_*``; config keys ``net_params``, ``activation_params``) map differently:

``conv_layer.conv_layers.{l}.parametrizations.weight.original`` (1 → 8 → 32 channels, 7×7)
    Every layer is zero-mean parametrised (``original - mean(original, axis=(1, 2, 3))``); the
    kernels are used as they are (not normalised): :math:`\|W\|` is computed by the same
    256×256 power method and only enters the step size.
``activation.coefficients_vect`` (32 × 21 values, knots on :math:`[-r, r]`, ``knots_range`` r)
    One spline per channel, :math:`C \times K` row by row, projected as the authors do at every
    evaluation: slopes clipped to :math:`\ge 0` (no upper bound), first and last slope 0,
    re-integrated, shifted to 0 at the middle knot.
``lmbd``, ``mu``
    Their denoiser solves :math:`\min_x \tfrac12\|x-y\|^2 + \tfrac{\lambda}{\mu}R(\mu x)`,
    gradient :math:`x - y + \lambda W^\top\varphi_c(\mu Wx)`.  recon folds both in: activation
    :math:`\lambda\mu\,\varphi_c`, scale :math:`s_c = \mu`, so :math:`\sigma_c(t) =
    \lambda\varphi_c(\mu t)` and ``recon.denoise`` with weight 1 is their denoiser.  The stored
    values are the ones learnt for the t-step denoiser of training; for the *proximal* denoiser
    the authors pick :math:`(\lambda, \mu)` on validation images, so :func:`load_published`
    takes ``lmbd`` and ``mu`` to override them.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .._checks import finite
from ..backend import asarray, namespace
from ..functionals.ridge import RidgeRegularizer
from ..functionals.splines import LinearSpline
from ..operators.multiconv import MultiConvolution
from .parametrization import NORM_SHAPE, NoiseScaling, project_activation

__all__ = ["load_published", "read_checkpoint", "power_method"]


def read_checkpoint(path):
    """``(config, state)`` of a published checkpoint: its ``config.json`` and its tensors as float64 NumPy arrays."""
    try:
        import torch
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("reading PyTorch checkpoints needs torch: pip install 'recon[learn]'") from err
    path = Path(path)
    folder = path if path.is_dir() else path.parent
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(f"path must be a checkpoint folder or file with config.json beside it, got {path}")
    if path.is_dir():
        candidates = sorted(folder.glob("*.pth"), key=lambda p: int("".join(ch for ch in p.stem if ch.isdigit()) or 0))
        if not candidates:
            raise FileNotFoundError(f"no .pth checkpoint in {folder}")
        path = candidates[-1]
    config = json.loads(config_file.read_text())
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    state = checkpoint.get("state_dict", checkpoint)
    return config, {k: v.detach().double().numpy() for k, v in state.items() if hasattr(v, "detach")}


def power_method(kernels, iters):
    """lambda_max(W^T W) on a 256x256 image: ``iters`` float32 power steps from a seeded normal start.

    This is the authors' test-time procedure (200 steps); the spectrum of W^T W is clustered at its
    top, so 200 steps stop about 1e-3 (relative) below the true value, as theirs do, and that is
    the normalisation their published PSNRs were measured with.
    """
    W = MultiConvolution([np.asarray(k, dtype=np.float32) for k in kernels], NORM_SHAPE)
    u = np.random.default_rng(0).standard_normal(NORM_SHAPE).astype(np.float32)
    value = 0.0
    for _ in range(int(iters)):
        u = W.adjoint(W(u))
        value = float(np.linalg.norm(u))
        u /= value
    return value


def _monotone_clip(coefficients):
    """The original CRR-NN projection of its (C, K) spline values: slopes >= 0, flat ends, 0 at the middle knot."""
    c = np.asarray(coefficients, dtype=np.float64)
    d = np.clip(np.diff(c, axis=1), 0.0, None)
    d[:, 0] = d[:, -1] = 0.0
    out = np.concatenate([np.zeros((c.shape[0], 1)), np.cumsum(d, axis=1)], axis=1)
    return out - out[:, c.shape[1] // 2 : c.shape[1] // 2 + 1]


def _load_crr_original(path, config, state, backend, dtype, L, norm_iters, lmbd, mu):
    net, act = config["net_params"], config["activation_params"]
    kernels = []
    for layer in range(len(net["channels"]) - 1):
        k = state[f"conv_layer.conv_layers.{layer}.parametrizations.weight.original"]
        kernels.append(k - k.mean(axis=(1, 2, 3), keepdims=True))
    channels, knots, r = int(net["channels"][-1]), int(act["n_knots"]), float(act["knots_range"])
    coefficients = state["activation.coefficients_vect"]
    if coefficients.size != channels * knots:
        raise ValueError(f"{path}: activation.coefficients_vect has {coefficients.size} values, expected "
                         f"{channels} channels x {knots} knots")
    phi = _monotone_clip(coefficients.reshape(channels, knots))
    lmbd = float(max(state["lmbd"], 1e-4)) if lmbd is None else float(lmbd)  # their clips at use
    mu = float(max(state["mu"], 1e-2)) if mu is None else float(mu)
    lmbd, mu = finite(lmbd, "lmbd", gt=0), finite(mu, "mu", gt=0)
    L = power_method(kernels, norm_iters) if L is None else finite(L, "L", gt=0)
    xp = namespace(backend)
    reg = RidgeRegularizer([asarray(k, xp=xp, dtype=getattr(xp, dtype)) for k in kernels],
                           LinearSpline(lmbd * mu * phi, -r, r), scale=np.full(channels, mu),
                           w_norm=math.sqrt(float(L)), norm_shape=NORM_SHAPE)
    reg.extras = {"L": float(L), "lmbd": lmbd, "mu": mu, "rho": 0.0, "layout": "crr-nn (per-channel splines)"}
    return reg


def load_published(path, *, backend=None, dtype="float32", sigma=None, L=None, norm_iters=200, lmbd=None,
                   mu=None) -> RidgeRegularizer:
    r"""Build the recon regularizer of a published WCRR / CRR checkpoint (see the module notes).

    Parameters
    ----------
    path : str or Path
        A checkpoint folder (``config.json`` and ``checkpoint_*.pth``; the latest is read) or a
        ``.pth`` file with ``config.json`` beside it, e.g. ``../shared/data/weights/wcrr-nn``.
    backend : {"numpy", "cupy"}, optional
        Where the kernels live (default backend if omitted); images must live there too.
    dtype : {"float32", "float64"}
        Kernel dtype (computations follow the image's dtype anyway).
    sigma : float, optional
        Fix the noise level now (image units, e.g. 25/255); otherwise call
        :meth:`~recon.functionals.RidgeRegularizer.at_noise_level` later.
    L : float, optional
        :math:`\lambda_{\max}(W^\top W)` of the zero-mean raw kernels, if known; skips the power
        method (which takes 10-30 s on two cores).  ``load_published(...).extras["L"]`` gives it.
    norm_iters : int, default 200
        Power steps for :math:`L` (the authors' 200).
    lmbd, mu : float, optional
        Original CRR-NN checkpoints only: the denoiser's :math:`\lambda` and :math:`\mu`
        (default: the checkpoint's, learnt for its t-step denoiser; see the module notes).

    Returns
    -------
    RidgeRegularizer
        WCRR-style checkpoints: with ``w_norm = 1`` (the normalisation is folded into the
        kernels) and ``noise_scaling`` set.  Original CRR-NN checkpoints: per-channel splines,
        :math:`\lambda` and :math:`\mu` folded in, no noise scaling (``sigma`` must be omitted).

    References
    ----------
    Goujon, A., Neumayer, S., Unser, M. (2024). Learning weakly convex regularizers for
    convergent image-reconstruction algorithms. *SIAM J. Imaging Sci.* 17(1), 91-115.
    """
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    config, state = read_checkpoint(path)
    if "net_params" in config and "activation.coefficients_vect" in state:
        if sigma is not None:
            raise ValueError("sigma must be omitted for an original CRR-NN checkpoint (trained at one noise "
                             "level, no noise scaling); pass lmbd/mu to change its strength")
        return _load_crr_original(path, config, state, backend, dtype, L, norm_iters, lmbd, mu)
    if lmbd is not None or mu is not None:
        raise ValueError("lmbd and mu apply to original CRR-NN checkpoints only; the WCRR-style model's mu is "
                         "learnt and its strength follows sigma")
    if "multi_convolution" not in config or "mu_" not in state:
        raise ValueError(f"{path}: neither a WCRR-style checkpoint nor an original CRR-NN one "
                         f"(config keys {sorted(config)}, state keys {sorted(state)[:6]})")
    n_layers = len(config["multi_convolution"]["num_channels"]) - 1
    kernels = []
    for layer in range(n_layers):
        key = f"conv_layer.conv_layers.{layer}.weight"
        k = state.get(key, state.get(f"conv_layer.conv_layers.{layer}.parametrizations.weight.original"))
        if layer == 0:  # the zero-mean parametrisation of the first layer
            k = k - k.mean(axis=(1, 2, 3), keepdims=True)
        kernels.append(k)
    L = power_method(kernels, norm_iters) if L is None else finite(L, "L", gt=0)
    kernels[0] = kernels[0] / math.sqrt(L)

    spl = config["spline_activation"]
    step = (spl["x_max"] - spl["x_min"]) / (spl["num_knots"] - 1)
    cvx = project_activation(state["activation_cvx.coefficients"], step)
    ccv = project_activation(state["activation_ccv.coefficients"], step)
    phi = math.exp(float(state["mu_"])) * cvx - float(config.get("rho_wcvx", 1)) * ccv
    activation = LinearSpline(phi, spl["x_min"], spl["x_max"])

    lo, hi = config["noise_range"]
    scaling = NoiseScaling(state["spline_scaling.coefficients"], lo, hi, unit=1.0 / 255.0)

    xp = namespace(backend)
    kernels = [asarray(k, xp=xp, dtype=getattr(xp, dtype)) for k in kernels]
    reg = RidgeRegularizer(kernels, activation, noise_scaling=scaling, w_norm=1.0, norm_shape=NORM_SHAPE)
    reg.extras = {"L": float(L), "mu": math.exp(float(state["mu_"])), "rho": float(config.get("rho_wcvx", 1))}
    return reg if sigma is None else reg.at_noise_level(sigma)
