r"""Many hyperspectral bands fused against one photograph: one :func:`recon.fuse` per band, on Dask when installed.

Each band :math:`f_b` of a ``(bands, h, w)`` stack is its own problem
:math:`\min_{u_b, k_b, w_b} \tfrac12\|S C (k_b * W_{w_b} u_b) - f_b\|^2 + \lambda_u \mathrm{dTV}_v(u_b) + \dots`
against the same side information :math:`v`.  With ``shared=True`` the bands are assumed to share
the blur and the misregistration (one sensor, one optical path): the model is linear in
:math:`u`, so the band mean obeys it with the mean image,
:math:`\bar f = S C (k * W \bar u)`, and :math:`k, w` are estimated once from :math:`\bar f` (whose
noise is :math:`\sqrt{\text{bands}}` times smaller), then every band is fused with them fixed.

Bands are independent tasks: Dask's threaded scheduler by default (NumPy and ``scipy.fft`` release
the GIL in the array passes that dominate), any ``dask.distributed.Client`` when given, a plain loop
without Dask.  A fusion itself stays in one process.
"""
from __future__ import annotations

from .._checks import positive_int
from ._single import check_array, fuse_band
from .palm import FusionResult

__all__ = ["fuse_bands"]


def _dask():
    try:
        import dask
    except ImportError:
        return None
    return dask


def fuse_bands(data, side_info, factor: int = 4, *, shared: bool = False, client=None, num_workers=None,
               **kwargs) -> FusionResult:
    r"""Fuse every band of ``data`` (bands, h, w) with ``side_info``; what :func:`recon.fuse` does for a stack.

    Parameters
    ----------
    data : array (bands, h, w)
    side_info, factor
        As in :func:`recon.fuse`, shared by all bands.
    shared : bool, default False
        False: every band estimates its own kernel (``blind``) and warp (``registration``).  True: one
        kernel and warp for all bands, estimated from the band mean (see the module notes), then each
        band fused with them fixed.
    client : dask.distributed.Client, optional
        Run the bands on this cluster.  Default: Dask's threaded scheduler when Dask is installed,
        a serial loop otherwise; the result is the same (each band is the same sequence of operations).
    num_workers : int, optional
        Threads of the default scheduler (default: Dask's, the number of cores).
    **kwargs
        Passed to :func:`recon.fuse` (``kernel``, ``blind``, ``registration``, ``warp``, ``weight``,
        ``iters``, ...); ``callback`` and ``progress`` (per-band state) are refused.

    Returns
    -------
    FusionResult
        ``x`` (bands, H, W); ``kernel`` (bands, K, K), or (K, K) when shared; ``warp`` a list of
        :class:`~recon.operators.Warp` per band, or one when shared; ``iterations`` the largest,
        ``converged`` whether all did; ``history`` the per-band histories under ``"bands"``;
        ``extras["bands"]`` the per-band results (and ``extras["shared"]`` the band-mean run).
    """
    if not hasattr(data, "shape") or len(data.shape) != 3 or data.shape[0] < 1:
        raise ValueError(f"data must be a (bands, h, w) stack with bands >= 1, got shape "
                         f"{getattr(data, 'shape', None)}")
    xp = check_array(data, "data")
    for key in ("callback", "progress"):
        if kwargs.get(key):
            raise ValueError(f"{key} is not supported for a stack of bands (per-band state); got {kwargs[key]!r}")
    if client is not None and (not hasattr(client, "get") or not hasattr(client, "scheduler_info")):
        raise TypeError(f"client must be a dask.distributed.Client, got {type(client).__name__}")
    if num_workers is not None:
        num_workers = positive_int(num_workers, "num_workers")
    bands = data.shape[0]
    common = None
    if shared:
        common = fuse_band(xp.mean(data, axis=0), side_info, factor, **kwargs)
        kwargs = dict(kwargs, kernel=common.kernel, blind=False, registration=None, warp=common.warp)
    dask = _dask()
    if dask is None:
        results = [fuse_band(data[b, ...], side_info, factor, **kwargs) for b in range(bands)]
    else:
        side = dask.delayed(side_info, pure=True)  # one graph key: shipped once to a cluster
        tasks = [dask.delayed(fuse_band, pure=True)(data[b, ...], side, factor, **kwargs) for b in range(bands)]
        if client is not None:
            results = list(dask.compute(*tasks, scheduler=client))
        else:
            results = list(dask.compute(*tasks, scheduler="threads", num_workers=num_workers))
    x = xp.stack([r.x for r in results], axis=0)
    kernel = common.kernel if shared else xp.stack([r.kernel for r in results], axis=0)
    warp = common.warp if shared else [r.warp for r in results]
    extras = {"bands": results}
    if shared:
        extras["shared"] = common
    return FusionResult(x=x, iterations=max(r.iterations for r in results),
                        converged=all(r.converged for r in results),
                        history={"bands": [r.history for r in results]},
                        message=f"{bands} bands fused" + (" with a shared kernel and warp" if shared else ""),
                        extras=extras, kernel=kernel, warp=warp)
