"""recon: variational inverse problems on NumPy and CuPy.

A reconstruction is operators (what the instrument does) plus functionals (what we believe
about data and image) handed to a solver (how we minimise).  ``recon.denoise``, ``recon.deblur``,
``recon.ct.reconstruct``, ``recon.fuse`` and ``recon.ptycho.reconstruct`` do it end to end;
``recon.data`` and ``recon.metrics`` give test images and quality measures.

Layout::

    backend.py      array namespace of the inputs, default backend for created arrays, scatter-add
    _compiled.py    the numba switch (kernels compiled on first use; RECON_NUMBA=0 or disabled())
    _checks.py      argument validation with named errors
    vectors.py      arithmetic on arrays and tuples of arrays (block vectors)
    operators/      LinearOperator algebra and the generic forward models (tomography/ for CT)
    functionals/    Functional protocol, data terms and regularizers (TV, dTV, ridge, ...)
    solvers/        functions returning a Result, all on one iteration driver (_loop.py)
    ct/             computed tomography: sinograms, FBP, variational reconstruction, stacks
    ptycho/         ptychography: scans and files, engines/, positions, batches, simulation
    fusion/         dTV image fusion: model, PALM, registration pyramid, bands
    learned/        learned ridge regularizers: shipped and published models, training (torch)
    apps/           generic pipelines: denoise, deblur, TV eigenfunctions, spectral filtering
    cli/            the ``recon`` command, one module per subcommand (imported by nothing else)
    data.py, metrics.py, io.py

``import recon`` imports neither numba, torch, dask nor matplotlib; each is imported where it is used.
"""
__version__ = "0.1.0"

from . import backend, ct, data, functionals, io, learned, metrics, operators, ptycho, solvers
from .apps import deblur, denoise
from .fusion import fuse

__all__ = [
    "__version__",
    "backend",
    "ct",
    "data",
    "deblur",
    "denoise",
    "functionals",
    "fuse",
    "io",
    "learned",
    "metrics",
    "operators",
    "ptycho",
    "solvers",
]
