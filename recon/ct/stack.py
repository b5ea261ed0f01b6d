r"""Stacks of parallel-beam slices reconstructed one slice per task on Dask.

A 3-D parallel-beam scan with the rotation axis along the slices separates into independent 2-D
problems: slice :math:`k` of the volume depends only on sinogram :math:`k`.  :func:`reconstruct_stack`
hands each to :func:`recon.ct.reconstruct` as one Dask task (threads on this machine by default, or
any ``dask.distributed.Client``); a reconstruction itself stays in one process.  Public through
``recon.ct``; needs the ``dask`` extra.
"""
from __future__ import annotations

from .._checks import one_of, positive_int
from ..backend import array_namespace
from .variational import METHODS, reconstruct

__all__ = ["reconstruct_stack"]


def _dask():
    try:
        import dask
    except ImportError as err:
        raise ImportError("reconstruct_stack needs dask: pip install 'recon[dask]' (the dask extra)") from err
    return dask


def reconstruct_stack(sinograms, angles, method: str = "fbp", *, client=None, num_workers=None, **kwargs):
    r"""Reconstruct a stack of slices, ``(n_slices, n_angles, n_detectors)`` -> ``(n_slices, ny, nx)``.

    Slice :math:`k` is ``recon.ct.reconstruct(sinograms[k], angles, method=method, **kwargs)``, computed
    as one Dask task; the result equals the serial loop over the slices (same calls, same order of
    operations within each).

    Parameters
    ----------
    sinograms : array, shape (n_slices, n_angles, n_detectors)
        Real floating, on the host (NumPy or another array-API library that Dask can ship).
    angles : 1-D array_like
        Radians (degrees with ``degrees=True`` in ``kwargs``), shared by all slices.
    method : {"fbp", "landweber", "cgls", "tikhonov", "tv"}
        As in :func:`recon.ct.reconstruct`.
    client : dask.distributed.Client, optional
        Run on this cluster (local or remote).  Default: Dask's threaded scheduler in this process
        (NumPy releases the GIL in the heavy loops).
    num_workers : int, optional
        Threads for the default scheduler (default: Dask's, the number of cores); ignored with ``client``.
    **kwargs
        Passed to :func:`recon.ct.reconstruct` (``weight``, ``iters``, ``filter``, ``shape``, geometry,
        ...); ``return_result`` and ``callback``/``progress`` (per-slice state) are not accepted.

    Returns
    -------
    array, shape (n_slices, ny, nx)
        In the library of ``sinograms``, stacked along axis 0.

    Raises
    ------
    ImportError
        Without Dask, naming the ``dask`` extra.

    Examples
    --------
    >>> import numpy as np                                                  # doctest: +SKIP
    >>> from recon import ct, data                                         # doctest: +SKIP
    >>> angles = ct.uniform_angles(90)                                      # doctest: +SKIP
    >>> stack = np.stack([ct.sinogram(data.shepp_logan(64), angles)] * 4)  # doctest: +SKIP
    >>> ct.reconstruct_stack(stack, angles, "fbp").shape                    # doctest: +SKIP
    (4, 64, 64)
    """
    dask = _dask()
    if not hasattr(sinograms, "shape") or not hasattr(sinograms, "dtype"):
        raise TypeError(f"sinograms must be an array, got {type(sinograms).__name__}")
    if len(sinograms.shape) != 3 or sinograms.shape[0] < 1:
        raise ValueError(f"sinograms must be 3-D (n_slices >= 1, n_angles, n_detectors), got shape "
                         f"{tuple(sinograms.shape)}")
    one_of(method, "method", METHODS)
    for key in ("return_result", "callback", "progress"):
        if kwargs.get(key):
            raise ValueError(f"{key} is not supported by reconstruct_stack (per-slice state); got {kwargs[key]!r}")
    if num_workers is not None:
        num_workers = positive_int(num_workers, "num_workers")
    tasks = [dask.delayed(reconstruct, pure=True)(sinograms[k], angles, method, **kwargs)
             for k in range(sinograms.shape[0])]
    if client is not None:
        if not hasattr(client, "get") or not hasattr(client, "scheduler_info"):
            raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
        slices = dask.compute(*tasks, scheduler=client)
    else:
        slices = dask.compute(*tasks, scheduler="threads", num_workers=num_workers)
    xp = array_namespace(slices[0])
    return xp.stack(list(slices), axis=0)

