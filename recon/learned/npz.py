r"""recon's own torch-free file format for a :class:`~recon.functionals.RidgeRegularizer`: one ``.npz``.

The models recon ships (``recon/learned/models/*.npz``) are in this format; the trainers export to it.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..backend import asarray, namespace
from ..functionals.ridge import RidgeRegularizer
from ..functionals.splines import LinearSpline
from .parametrization import NoiseScaling

__all__ = ["save_npz", "load_npz", "NPZ_FORMAT"]

NPZ_FORMAT = 1


def save_npz(path, reg: RidgeRegularizer, meta=None) -> Path:
    r"""Write a :class:`~recon.functionals.RidgeRegularizer` with a fixed scale to a torch-free ``.npz``.

    Stored: the kernels (float32), the activation's coefficients and range, the per-channel
    scale, :math:`\|W\|` and its ``norm_shape``, and ``meta`` (a JSON-serialisable dict, e.g. the
    training recipe).  A noise scaling is stored when it is the published form
    :math:`s_c(\sigma) = \exp(S_c(\sigma/u))/(\sigma/u + 10^{-5})` (what :func:`load_published`
    and :func:`recon.learned.wcrr_model.to_regularizer` build): the splines' values, range and unit.

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
        if not isinstance(ns, NoiseScaling):
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
        meta=np.array(json.dumps({"format": NPZ_FORMAT, **(meta or {})})),
    )
    return path


def load_npz(path, *, backend=None, dtype="float32") -> RidgeRegularizer:
    """Read a regularizer written by :func:`save_npz` (NumPy only; no torch).

    Parameters
    ----------
    path : str, Path or importlib.resources.abc.Traversable
        The ``.npz`` file (a package resource too, e.g. :func:`~recon.learned.shipped_path`).
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
    if isinstance(path, str):
        path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path must be an .npz file written by save_npz, got {path}")
    with path.open("rb") as handle, np.load(handle, allow_pickle=False) as f:
        meta = json.loads(str(f["meta"]))
        if meta.get("format") != NPZ_FORMAT:
            raise ValueError(f"{path}: unknown format {meta.get('format')!r} (expected {NPZ_FORMAT})")
        n = sum(1 for k in f.files if k.startswith("kernel"))
        xp = namespace(backend)
        kernels = [asarray(f[f"kernel{i}"], xp=xp, dtype=getattr(xp, dtype)) for i in range(n)]
        x_min, x_max = (float(v) for v in f["x_range"])
        scaling = None
        if "scaling_coefficients" in f.files:
            lo, hi, unit = (float(v) for v in f["scaling_range"])
            scaling = NoiseScaling(f["scaling_coefficients"], lo, hi, unit)
        reg = RidgeRegularizer(kernels, LinearSpline(f["coefficients"], x_min, x_max), scale=f["scale"],
                               noise_scaling=scaling, w_norm=float(f["w_norm"]),
                               norm_shape=tuple(int(v) for v in f["norm_shape"]))
    reg.extras = {"meta": meta}
    return reg
