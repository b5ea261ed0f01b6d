"""``--backend numpy|cupy`` for the benchmark scripts: choosing, moving, synchronising, recording.

Every ``bench_*.py`` script adds the flag with :func:`add_arguments` and calls :func:`select` before it builds
its problem.  recon's arrays are then created on that backend (``recon.backend.set_default``) or moved there
with :func:`to_backend`; the peer libraries (scikit-image, astra, PtyLab, PyTorch) stay on the CPU and get
NumPy copies (:func:`to_host`).  GPU work is asynchronous, so every timed section ends with :func:`sync`.
Each JSON line carries :func:`describe`'s fields (``backend`` and the device).

NumPy is imported only inside the functions: ``bench_ridge.py --threads`` must set the BLAS thread
variables before NumPy loads.
"""
from __future__ import annotations

import os
import platform

BACKENDS = ("numpy", "cupy")
_chosen = {"name": "numpy"}


def add_arguments(parser, *, quick_help: str = "tiny sizes and one repeat: checks that the script runs"):
    """Add ``--backend numpy|cupy`` and ``--quick`` to an :class:`argparse.ArgumentParser`."""
    parser.add_argument("--backend", choices=BACKENDS, default="numpy",
                        help="where recon's arrays live (default: %(default)s); peers stay on the CPU")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    return parser


def select(name: str):
    """Make ``name`` recon's default backend for created arrays; return the array library (``numpy``/``cupy``).

    Raises
    ------
    SystemExit
        With a one-line message when ``name`` is ``"cupy"`` and CuPy is not installed or sees no GPU.
    """
    if name not in BACKENDS:
        raise SystemExit(f"--backend: must be one of {', '.join(BACKENDS)}, got {name!r}")
    if name == "cupy":
        try:
            import cupy
        except ImportError as err:
            raise SystemExit(f"--backend cupy: CuPy is not installed ({err}); install it with "
                             "pip install '.[gpu]' (cupy-cuda12x) or the CuPy wheel for your CUDA") from None
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as err:  # CUDARuntimeError without a driver
            raise SystemExit(f"--backend cupy: CuPy finds no usable GPU ({err})") from None
        if count < 1:
            raise SystemExit("--backend cupy: CuPy finds no GPU")
    from recon import backend

    backend.set_default(name)
    _chosen["name"] = name
    return library(name)


def library(name: str | None = None):
    """The array library itself (``numpy`` or ``cupy``), for calls like ``add(a, b, out=c)``."""
    if (name or _chosen["name"]) == "cupy":
        import cupy

        return cupy
    import numpy

    return numpy


def to_backend(x, dtype=None):
    """``x`` (NumPy or other) as an array of the selected backend: a host-to-device copy for CuPy."""
    from recon import backend

    return backend.asarray(x, dtype=dtype, backend=_chosen["name"])


def to_host(x):
    """A NumPy copy of ``x`` (device-to-host for CuPy), for peers and for checks outside the clock."""
    from recon import backend

    return backend.to_numpy(x)


def sync():
    """Wait for the GPU's queued work (no-op on NumPy): call before reading the clock."""
    if _chosen["name"] == "cupy":
        import cupy

        cupy.cuda.Device().synchronize()


def describe() -> dict:
    """``backend`` and ``device`` fields for a JSON line."""
    if _chosen["name"] == "cupy":
        import cupy

        props = cupy.cuda.runtime.getDeviceProperties(cupy.cuda.Device().id)
        name = props["name"]
        device = name.decode() if isinstance(name, bytes) else str(name)
        return {"backend": "cupy", "device": device, "cupy": cupy.__version__}
    return {"backend": "numpy", "device": platform.processor() or platform.machine(), "cpus": os.cpu_count()}
