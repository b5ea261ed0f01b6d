"""The numba switch: compiled CPU kernels, built on first use, and one way to turn them off.

Kernels are plain Python functions over NumPy arrays that numba compiles (nopython, ``nogil``,
fast-math without ``nnan``/``ninf``, cached on disk where writable).  Every caller keeps a
standard-only path that gives the same iterates, so kernels are an optimisation only.

``import recon`` never imports numba: :func:`lazy` returns a :class:`Kernel` that imports numba and
compiles at its first call, and :func:`enabled` asks whether numba is installed without importing it.

Switches
--------
* ``RECON_NUMBA=0`` (or ``false``/``no``/``off``) in the environment: no kernels in this process.
* ``set_enabled(False)`` / ``set_enabled(True)`` / ``set_enabled(None)`` (back to the environment), or
  ``with disabled(): ...`` (tests use this instead of monkeypatching kernel modules).

API
---
``enabled() -> bool``
    Kernels are on: the switch allows them and numba is importable (checked without importing it).
``set_enabled(flag: bool | None) -> None``, ``disabled()`` (context manager)
    The programmatic switch.
``lazy(func) -> Kernel | None``
    ``None`` when kernels are off at definition time, else a :class:`Kernel` compiled at first call.
    Callers test ``kernel is not None and enabled()`` before calling it (``usable`` functions).
``compiled(func) -> numba dispatcher | None``
    Compile now (imports numba); ``None`` when kernels are off.  For kernels that other compiled
    kernels call (numba needs real dispatchers there); call it on first use, not at import.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import threading

__all__ = ["enabled", "set_enabled", "disabled", "lazy", "compiled", "Kernel"]

# numba fast-math flags without "nnan"/"ninf": inputs are checked finite, and NaN or inf must still
# propagate through a kernel rather than be optimised away.
_FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}
_OFF = ("0", "false", "no", "off")
_override = [None]  # set_enabled's value; None: the environment decides
_installed = []
_COMPILING = threading.Lock()


def _numba_installed() -> bool:
    if not _installed:
        _installed.append(importlib.util.find_spec("numba") is not None)
    return _installed[0]


def enabled() -> bool:
    """Whether compiled kernels are on (switch on and numba installed; numba is not imported)."""
    flag = _override[0]
    if flag is None:
        flag = os.environ.get("RECON_NUMBA", "1").strip().lower() not in _OFF
    return bool(flag) and _numba_installed()


def set_enabled(flag: bool | None) -> None:
    """Turn kernels on (``True``) or off (``False``) in this process; ``None`` defers to ``RECON_NUMBA``."""
    if flag not in (True, False, None):
        raise ValueError(f"flag must be True, False or None, got {flag!r}")
    _override[0] = flag


@contextlib.contextmanager
def disabled():
    """``with disabled(): ...`` runs the standard-only paths."""
    previous = _override[0]
    _override[0] = False
    try:
        yield
    finally:
        _override[0] = previous


def _njit(func):
    import numba

    options = dict(nogil=True, fastmath=_FASTMATH, error_model="numpy")
    try:
        return numba.njit(cache=True, **options)(func)
    except RuntimeError:  # no writable cache location: compile per process instead
        return numba.njit(**options)(func)


def compiled(func):
    """``func`` compiled by numba now, or ``None`` when kernels are off (see the module docstring)."""
    return _njit(func) if enabled() else None


class Kernel:
    """A function compiled by numba at its first call (about a second per dtype, then cached on disk)."""

    def __init__(self, func):
        self.func = func
        self._dispatcher = None
        self.__name__ = getattr(func, "__name__", "kernel")
        self.__doc__ = func.__doc__

    def __call__(self, *args):
        if self._dispatcher is None:
            with _COMPILING:  # threads sharing a kernel (block_threads) compile it once
                if self._dispatcher is None:
                    self._dispatcher = _njit(self.func)
        return self._dispatcher(*args)


def lazy(func):
    """A :class:`Kernel` for ``func`` (compiled at first call), or ``None`` when kernels are off now."""
    return Kernel(func) if enabled() else None
