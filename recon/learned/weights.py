r"""Which weights a name means: ``reg="crr"`` / ``"wcrr"`` (and CT's ``method=``) resolve here.

========================  ==================================================================  ==========
name                      model                                                               needs
========================  ==================================================================  ==========
``"crr"``                 the convex CRR-NN recon ships (``models/crr_cpu55min.npz``)          NumPy
``"wcrr"``                the WCRR-NN recon ships (``models/wcrr_cpu55min.npz``)               NumPy
``"crr-published"``       the authors' convex model (``<shared>/weights/crr-nn-wcrr-repo``)    torch
``"wcrr-published"``      the authors' WCRR-NN (``<shared>/weights/wcrr-nn``)                  torch
========================  ==================================================================  ==========

``"crr"`` and ``"wcrr"`` always mean the files shipped inside the package (read with
:mod:`importlib.resources`), whatever else is installed, so the same call gives the same image on
every machine.  The published checkpoints load only when asked for, by their ``-published`` name
(``<shared>`` is ``$RECON_SHARED_DATA`` or ``../shared/data`` beside the checkout) or from any
folder with :func:`~recon.learned.load_published`.  Each name is loaded once per process.
"""
from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ..functionals.ridge import RidgeRegularizer
from .npz import load_npz
from .published import load_published

__all__ = ["NAMES", "PUBLISHED", "SHIPPED", "load_shipped", "published_regularizer", "ridge_regularizer",
           "shared_data_root", "shipped_path"]

# recon's own weights (both by examples/train_wcrr.py: --rho 0 and --rho 1; a model card beside each file)
SHIPPED = {"crr": "crr_cpu55min.npz", "wcrr": "wcrr_cpu55min.npz"}
# the published checkpoint folder of each explicit name, under shared_data_root() / "weights"
PUBLISHED = {"crr-published": "crr-nn-wcrr-repo", "wcrr-published": "wcrr-nn"}
NAMES = (*SHIPPED, *PUBLISHED)

_loaded = {}  # name -> regularizer: a published model's power iteration takes 10-30 s, so load once
_moved = {}  # (name, namespace, device) -> the regularizer with its kernels there


def shared_data_root() -> Path:
    """``$RECON_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    return Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))


def shipped_path(name: str):
    """The ``.npz`` file recon ships for ``name`` ("crr" or "wcrr"): package data of :mod:`recon.learned`.

    Returns an :class:`importlib.resources.abc.Traversable` (a :class:`~pathlib.Path` in a regular
    or editable install); :func:`~recon.learned.load_npz` reads either.
    """
    if name not in SHIPPED:
        raise ValueError(f"name must be one of {sorted(SHIPPED)} (recon ships no other weights), got {name!r}")
    return resources.files("recon.learned") / "models" / SHIPPED[name]


def load_shipped(name: str, *, backend=None, dtype="float32") -> RidgeRegularizer:
    """The model recon ships for ``name`` ("crr" or "wcrr"), read with :func:`~recon.learned.load_npz` (no torch).

    A fresh object on every call (``reg="crr"`` shares one per process); ``backend`` and ``dtype`` as
    :func:`~recon.learned.load_npz`.  The model card beside each file gives its recipe and Set12 PSNR.
    """
    path = shipped_path(name)
    if not path.is_file():
        folder = shared_data_root() / "weights" / PUBLISHED[f"{name}-published"]
        raise FileNotFoundError(f"reg={name!r} is recon's own model, not the published checkpoint ({folder}, "
                                f"reg='{name}-published'), and its file {path} is missing: reinstall recon")
    return load_npz(path, backend=backend, dtype=dtype)


def published_regularizer(name: str) -> RidgeRegularizer:
    """The published checkpoint behind ``name`` ("crr-published" or "wcrr-published"), loaded once per process.

    Reads :func:`shared_data_root` ``/ "weights" / PUBLISHED[name]`` with
    :func:`~recon.learned.load_published` (NumPy, float32 kernels), which needs ``torch``.

    Raises
    ------
    ImportError
        torch is not installed.
    FileNotFoundError
        The checkpoint folder is absent.
    """
    if name not in PUBLISHED:
        raise ValueError(f"name must be one of {sorted(PUBLISHED)}, got {name!r}")
    if name not in _loaded:
        folder = shared_data_root() / "weights" / PUBLISHED[name]
        try:
            import torch  # noqa: F401  (checked first, so the message names what is missing)
        except ImportError:
            raise ImportError(f"reg={name!r} reads the published checkpoint {folder} with torch, which is not "
                              "installed: pip install 'recon[learn]'") from None
        if not folder.is_dir():
            raise FileNotFoundError(f"reg={name!r} needs the published checkpoint folder {folder} (config.json "
                                    "and checkpoint_*.pth; set RECON_SHARED_DATA), or pass a RidgeRegularizer "
                                    "instance, e.g. recon.learned.load_published(path)")
        _loaded[name] = load_published(folder)
    return _loaded[name]


def ridge_regularizer(name: str, *, like=None) -> RidgeRegularizer:
    r"""The regularizer behind ``reg=name``: one of :data:`NAMES` (see the module table).

    ``"crr"`` / ``"wcrr"``: the models recon ships (:func:`load_shipped`): a convex CRR-NN and a
    WCRR-NN recon trained with the authors' multi-noise objective
    (:mod:`recon.learned.train_wcrr`, :math:`\sigma \in [0, 30]/255`), each with the published
    noise scaling :math:`s_c(\sigma)`, so ``sigma`` selects the strength.  ``"crr-published"`` /
    ``"wcrr-published"``: the authors' checkpoints (:func:`published_regularizer`).

    ``like``: an image; the regularizer returned has its kernels in that image's array library
    (e.g. CuPy), converted once per library and process (:meth:`RidgeRegularizer.to`), so
    ``recon.denoise(cupy_image, reg="crr")`` runs on the GPU.  Default: NumPy kernels.

    Raises
    ------
    ValueError
        An unknown name.
    FileNotFoundError, ImportError
        The shipped file is missing (a broken install), or a published name without its folder or torch.
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
    if name not in NAMES:
        raise ValueError(f"name must be one of {list(NAMES)}, got {name!r}")
    if name not in _loaded:
        _loaded[name] = load_shipped(name) if name in SHIPPED else published_regularizer(name)
    return _loaded[name]
