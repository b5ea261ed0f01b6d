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

from ..backend import asarray, namespace
from ..functionals.ridge import RidgeRegularizer
from ..functionals.splines import LinearSpline
from ..operators.multiconv import MultiConvolution

__all__ = ["load_published", "load_npz", "save_npz", "project_activation", "published_regularizer", "ridge_regularizer",
           "shared_data_root", "shipped_path", "unit_norm", "NORM_SHAPE"]

NORM_SHAPE = (256, 256)  # image size of the authors' power iteration for ||W||
_SCALING_EPS = 1e-5  # the authors' guard in exp(S(sigma)) / (sigma + eps)


def project_activation(coefficients, step, *, slope_min=0.0, slope_max=1.0):
    """The authors' projection of spline values: clipped slopes, flat ends, re-integrated, odd."""
    c = np.asarray(coefficients, dtype=np.float64).reshape(-1)
    slopes = np.clip(np.diff(c) / step, slope_min, slope_max)
    slopes[0] = slopes[-1] = 0.0
    c = np.concatenate([[0.0], np.cumsum(slopes) * step])
    return 0.5 * (c - c[::-1])


class _NoiseScaling:
    """``sigma -> exp(S_c(255 sigma)) / (255 sigma + eps)`` for the per-channel splines S_c."""

    def __init__(self, coefficients, x_min, x_max, unit):
        self.coefficients = np.asarray(coefficients, dtype=np.float64)
        if self.coefficients.ndim != 2 or self.coefficients.shape[1] < 2:
            raise ValueError(f"coefficients must be (channels, knots >= 2), got {self.coefficients.shape}")
        self.x_min, self.x_max, self.unit = float(x_min), float(x_max), float(unit)
        self.splines = [LinearSpline(row, x_min, x_max) for row in self.coefficients]

    def __call__(self, sigma):
        level = np.full(1, float(sigma) / self.unit)
        return np.array([math.exp(float(s(level)[0])) for s in self.splines]) / (level[0] + _SCALING_EPS)


def _read(path):
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


def _power_method(kernels, iters):
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
    for l in range(len(net["channels"]) - 1):
        k = state[f"conv_layer.conv_layers.{l}.parametrizations.weight.original"]
        kernels.append(k - k.mean(axis=(1, 2, 3), keepdims=True))
    channels, knots, r = int(net["channels"][-1]), int(act["n_knots"]), float(act["knots_range"])
    coefficients = state["activation.coefficients_vect"]
    if coefficients.size != channels * knots:
        raise ValueError(f"{path}: activation.coefficients_vect has {coefficients.size} values, expected "
                         f"{channels} channels x {knots} knots")
    phi = _monotone_clip(coefficients.reshape(channels, knots))
    lmbd = float(max(state["lmbd"], 1e-4)) if lmbd is None else float(lmbd)  # their clips at use
    mu = float(max(state["mu"], 1e-2)) if mu is None else float(mu)
    for name, value in (("lmbd", lmbd), ("mu", mu)):
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number > 0, got {value}")
    if L is None:
        L = _power_method(kernels, norm_iters)
    elif not (float(L) > 0 and math.isfinite(float(L))):
        raise ValueError(f"L must be a finite number > 0, got {L}")
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
    config, state = _read(path)
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
    for l in range(n_layers):
        key = f"conv_layer.conv_layers.{l}.weight"
        k = state.get(key, state.get(f"conv_layer.conv_layers.{l}.parametrizations.weight.original"))
        if l == 0:  # the zero-mean parametrisation of the first layer
            k = k - k.mean(axis=(1, 2, 3), keepdims=True)
        kernels.append(k)
    if L is None:
        L = _power_method(kernels, norm_iters)
    elif not (float(L) > 0 and math.isfinite(float(L))):
        raise ValueError(f"L must be a finite number > 0, got {L}")
    kernels[0] = kernels[0] / math.sqrt(L)

    spl = config["spline_activation"]
    step = (spl["x_max"] - spl["x_min"]) / (spl["num_knots"] - 1)
    cvx = project_activation(state["activation_cvx.coefficients"], step)
    ccv = project_activation(state["activation_ccv.coefficients"], step)
    phi = math.exp(float(state["mu_"])) * cvx - float(config.get("rho_wcvx", 1)) * ccv
    activation = LinearSpline(phi, spl["x_min"], spl["x_max"])

    lo, hi = config["noise_range"]
    scaling = _NoiseScaling(state["spline_scaling.coefficients"], lo, hi, unit=1.0 / 255.0)

    xp = namespace(backend)
    kernels = [asarray(k, xp=xp, dtype=getattr(xp, dtype)) for k in kernels]
    reg = RidgeRegularizer(kernels, activation, noise_scaling=scaling, w_norm=1.0, norm_shape=NORM_SHAPE)
    reg.extras = {"L": float(L), "mu": math.exp(float(state["mu_"])), "rho": float(config.get("rho_wcvx", 1))}
    return reg if sigma is None else reg.at_noise_level(sigma)


_NPZ_FORMAT = 1


def unit_norm(reg: RidgeRegularizer) -> RidgeRegularizer:
    r"""``reg`` with its kernels divided so that :math:`\|W\| = 1` on ``reg.norm_shape``; ``reg`` if already at most 1.

    :math:`\|W\|` of a zero-padded convolution grows with the image, so kernels kept at
    :math:`\|W\| = 1` on small training patches reach slightly above 1 on the 256×256 images the
    norm is measured on (the authors' test-time normalisation, :func:`load_published`).  Dividing
    each of the :math:`n` kernels by :math:`\|W\|^{1/n}` restores :math:`\|W\| = 1`, hence
    :attr:`~recon.functionals.RidgeRegularizer.weak_convexity` :math:`= \max(-\varphi'_{\min}, 0)`
    (at most :math:`\rho`); activation, scale and noise scaling are kept.  :math:`\|W\|` is
    measured again after the division (power iteration), not assumed.
    """
    if not isinstance(reg, RidgeRegularizer):
        raise TypeError(f"reg must be a RidgeRegularizer, got {type(reg).__name__}")
    norm = reg.w_norm
    if norm <= 1 + 1e-6:  # float32 kernels round ||W|| = 1 to within about 1e-7
        return reg
    c = norm ** (-1.0 / len(reg.kernels))
    out = RidgeRegularizer([k * k.dtype.type(c) for k in reg.kernels], reg.activation, scale=reg.scale,
                           noise_scaling=reg.noise_scaling, norm_shape=reg.norm_shape)
    out.extras = dict(reg.extras, w_norm_before=norm)
    return out


def save_npz(path, reg: RidgeRegularizer, meta=None) -> Path:
    r"""Write a :class:`~recon.functionals.RidgeRegularizer` with a fixed scale to a torch-free ``.npz``.

    Stored: the kernels (float32), the activation's coefficients and range, the per-channel
    scale, :math:`\|W\|` and its ``norm_shape``, and ``meta`` (a JSON-serialisable dict, e.g. the
    training recipe).  A noise scaling is stored when it is the published form
    :math:`s_c(\sigma) = \exp(S_c(\sigma/u))/(\sigma/u + 10^{-5})` (what :func:`load_published`
    and :func:`recon.learned.train_wcrr.to_regularizer` build): the splines' values, range and unit.

    Parameters
    ----------
    path : str or Path
        Output file (``.npz``).
    reg : RidgeRegularizer
        Without ``noise_scaling``, or with the published form of it.
    meta : dict, optional
        Provenance, stored as JSON.

    Returns
    -------
    Path
    """
    from ..backend import to_numpy

    if not isinstance(reg, RidgeRegularizer):
        raise TypeError(f"reg must be a RidgeRegularizer, got {type(reg).__name__}")
    arrays = {}
    ns = reg.noise_scaling
    if ns is not None:
        if not isinstance(ns, _NoiseScaling):
            raise ValueError("reg.noise_scaling must be None or the published form (exp(S(sigma))/sigma splines); "
                             f"an arbitrary callable cannot be stored, got {type(ns).__name__}")
        arrays.update(scaling_coefficients=ns.coefficients, scaling_range=np.array([ns.x_min, ns.x_max, ns.unit]))
    path = Path(path)
    arrays.update({f"kernel{i}": to_numpy(k).astype(np.float32) for i, k in enumerate(reg.kernels)})
    a = reg.activation
    np.savez_compressed(
        path, **arrays, coefficients=np.asarray(a.coefficients, dtype=np.float64),
        x_range=np.array([a.x_min, a.x_max]), scale=np.asarray(reg.scale, dtype=np.float64),
        w_norm=np.array(reg.w_norm), norm_shape=np.array(reg.norm_shape),
        meta=np.array(json.dumps({"format": _NPZ_FORMAT, **(meta or {})})),
    )
    return path


def load_npz(path, *, backend=None, dtype="float32") -> RidgeRegularizer:
    """Read a regularizer written by :func:`save_npz` (NumPy only; no torch).

    Parameters
    ----------
    path : str or Path
        The ``.npz`` file.
    backend : {"numpy", "cupy"}, optional
        Where the kernels live (default backend if omitted).
    dtype : {"float32", "float64"}
        Kernel dtype.

    Returns
    -------
    RidgeRegularizer
        With ``extras["meta"]``, the stored provenance.
    """
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be an .npz file written by save_npz, got {path}")
    with np.load(path, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        if meta.get("format") != _NPZ_FORMAT:
            raise ValueError(f"{path}: unknown format {meta.get('format')!r} (expected {_NPZ_FORMAT})")
        n = sum(1 for k in f.files if k.startswith("kernel"))
        xp = namespace(backend)
        kernels = [asarray(f[f"kernel{i}"], xp=xp, dtype=getattr(xp, dtype)) for i in range(n)]
        x_min, x_max = (float(v) for v in f["x_range"])
        scaling = None
        if "scaling_coefficients" in f.files:
            lo, hi, unit = (float(v) for v in f["scaling_range"])
            scaling = _NoiseScaling(f["scaling_coefficients"], lo, hi, unit)
        reg = RidgeRegularizer(kernels, LinearSpline(f["coefficients"], x_min, x_max), scale=f["scale"],
                               noise_scaling=scaling, w_norm=float(f["w_norm"]),
                               norm_shape=tuple(int(v) for v in f["norm_shape"]))
    reg.extras = {"meta": meta}
    return reg


# names accepted by recon.denoise / recon.deblur, and the published checkpoint folder of each
PUBLISHED = {"wcrr": "wcrr-nn", "crr": "crr-nn-wcrr-repo"}


def shared_data_root() -> Path:
    """``$RECON_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    import os

    return Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))


_moved = {}  # (name, namespace, device) -> the regularizer with its kernels there
_loaded = {}  # name -> regularizer: loading runs a 10-30 s power iteration, so do it once per process

# recon's own weights (both by examples/train_wcrr.py: --rho 0 and --rho 1; a model card beside each
# file), in the repository's data/
SHIPPED = {"crr": "crr_cpu55min.npz", "wcrr": "wcrr_cpu55min.npz"}


def shipped_path(name: str) -> Path:
    """The ``.npz`` file recon ships for ``name``.

    In a source checkout (or an editable install) it is the repository's ``data/``; a regular
    ``pip install`` copies ``data/*.npz`` and the model cards to ``<prefix>/share/recon/data``
    (``[tool.setuptools.data-files]`` in pyproject.toml).  The first that holds the file wins.
    """
    import sys

    if name not in SHIPPED:
        raise ValueError(f"name must be one of {sorted(SHIPPED)} (recon ships no other weights), got {name!r}")
    checkout = Path(__file__).resolve().parents[2] / "data" / SHIPPED[name]
    installed = Path(sys.prefix) / "share" / "recon" / "data" / SHIPPED[name]
    return checkout if checkout.is_file() or not installed.is_file() else installed


def published_regularizer(name: str) -> RidgeRegularizer:
    """The published checkpoint behind ``name`` (NumPy, float32 kernels), loaded once per process.

    Reads the shared data folder (:func:`shared_data_root`), which needs ``torch``.
    """
    if name not in PUBLISHED:
        raise ValueError(f"name must be one of {sorted(PUBLISHED)}, got {name!r}")
    if name not in _loaded:
        folder = shared_data_root() / "weights" / PUBLISHED[name]
        if not folder.is_dir():
            raise FileNotFoundError(
                f"reg={name!r} needs the published weights in {folder} (set RECON_SHARED_DATA), or pass a "
                "RidgeRegularizer instance"
            )
        _loaded[name] = load_published(folder)
    return _loaded[name]


def ridge_regularizer(name: str, *, like=None) -> RidgeRegularizer:
    r"""The regularizer behind ``reg="crr"`` / ``reg="wcrr"``, in this order of precedence.

    1. The published checkpoint (:func:`published_regularizer`), when the shared data folder
       holds it and ``torch`` is installed: the authors' multi-noise models, good at any
       :math:`\sigma` in [0, 30]/255.
    2. Otherwise the weights recon ships (:func:`shipped_path`, read by :func:`load_npz`, no
       torch; see the model card beside each file): a convex CRR-NN (``"crr"``) and a WCRR-NN
       (``"wcrr"``) recon trained with the authors' multi-noise objective
       (:mod:`recon.learned.train_wcrr`, :math:`\sigma \in [0, 30]/255`), each with the published
       noise scaling :math:`s_c(\sigma)`, so ``sigma`` selects the strength as for the published ones.

    ``like``: an image; the regularizer returned has its kernels in that image's array library
    (e.g. CuPy), converted once per library and process (:meth:`RidgeRegularizer.to`), so
    ``recon.denoise(cupy_image, reg="crr")`` runs on the GPU.  Default: NumPy kernels.

    Raises
    ------
    FileNotFoundError
        When neither is readable (e.g. an install without the ``data/`` files).
    """
    if like is not None:
        from ..backend import array_namespace

        xp = array_namespace(like)
        base = ridge_regularizer(name)
        if array_namespace(base.kernels[0]) is xp:
            return base
        key = (name, xp.__name__, str(getattr(like, "device", "")))
        if key not in _moved:
            _moved[key] = base.to(xp=xp)
        return _moved[key]
    if name not in PUBLISHED:
        raise ValueError(f"name must be one of {sorted(PUBLISHED)}, got {name!r}")
    if name in _loaded:
        return _loaded[name]
    try:
        import torch  # noqa: F401  (only to know whether the checkpoints are readable)
    except ImportError:
        has_torch = False
    else:
        has_torch = True
    if has_torch and (shared_data_root() / "weights" / PUBLISHED[name]).is_dir():
        return published_regularizer(name)
    if name in SHIPPED and shipped_path(name).is_file():
        _loaded[name] = load_npz(shipped_path(name))
        return _loaded[name]
    folder = shared_data_root() / "weights" / PUBLISHED[name]
    why = "torch is not installed" if not has_torch else f"{folder} is not a folder"
    own = f" or recon's own {shipped_path(name)} (absent)" if name in SHIPPED else ""
    raise FileNotFoundError(f"reg={name!r} needs the published checkpoint folder {folder} (config.json and "
                            f"checkpoint_*.pth, read with torch; {why}; set RECON_SHARED_DATA){own}, or pass a "
                            "RidgeRegularizer instance")
