"""Many bands: 16 bands of 100x100 at factor 4 fused against one photo, serial loop vs Dask threads, in the same run.
One JSON line: seconds of each, the speed-up, CPU seconds per wall second of each (above 1: threads ran
concurrently), cores and load average (the machine may be shared).

    python benchmarks/bench_fusion_bands.py [--bands 16] [--iters 5] [--workers N]

The bands are the trees1_shift_5px_disk band rescaled and with independent noise (needs the shared data,
../shared/data/fusion or $RECON_SHARED_DATA).  Blind, per-band kernels (shared=False).

``--backend cupy`` puts the band stack and the photo on the GPU (the Dask threads then share it);
``--quick`` is 2 bands of 25x25 (100x100 photo), 2 iterations.
"""
import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from backends import add_arguments, describe, select, sync, to_backend, to_host
from scipy.io import loadmat

import recon


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bands", type=int, default=16)
    parser.add_argument("--iters", type=int, default=5)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--processes", action="store_true",
                        help="also time a dask.distributed LocalCluster of --workers single-threaded processes")
    add_arguments(parser)
    args = parser.parse_args()
    select(args.backend)
    root = Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
    path = root / "fusion" / "trees1_shift_5px_disk.mat"
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; the fusion cases live in the shared data (set RECON_SHARED_DATA)")
    d = loadmat(path)
    band, photo = d["data"], d["side_info"]
    if args.quick:
        band, photo, args.bands, args.iters = band[:25, :25], photo[:100, :100], 2, 2
    rng = np.random.default_rng(0)
    stack = np.stack([band * rng.uniform(0.6, 1.4) + 0.01 * rng.standard_normal(band.shape)
                      for _ in range(args.bands)])
    stack, photo = to_backend(stack), to_backend(photo)
    t = time.perf_counter()
    recon.fuse(stack[0, :20, :20], photo[:80, :80], 4, kernel_size=9, iters=2)  # compile / load the numba kernels
    warmup = time.perf_counter() - t
    load_before = os.getloadavg()[0]
    t, c = time.perf_counter(), time.process_time()
    serial = [recon.fuse(stack[b], photo, 4, iters=args.iters, tol=0.0) for b in range(args.bands)]
    sync()
    t_serial, c_serial = time.perf_counter() - t, time.process_time() - c
    t, c = time.perf_counter(), time.process_time()
    res = recon.fuse(stack, photo, 4, iters=args.iters, tol=0.0, num_workers=args.workers)
    sync()
    t_dask, c_dask = time.perf_counter() - t, time.process_time() - c
    same = all(np.array_equal(to_host(res.x[b]), to_host(s.x)) for b, s in enumerate(serial))
    extra = {}
    if args.processes:
        from dask.distributed import Client

        with Client(n_workers=args.workers, threads_per_worker=1, dashboard_address=None) as client:
            t = time.perf_counter()
            res_p = recon.fuse(stack, photo, 4, iters=args.iters, tol=0.0, client=client)
            extra["dask_processes_seconds"] = round(time.perf_counter() - t, 2)  # includes shipping the photo
        extra["processes_speedup"] = round(t_serial / extra["dask_processes_seconds"], 2)
        extra["processes_equal_to_serial"] = all(np.array_equal(to_host(res_p.x[b]), to_host(s.x))
                                                   for b, s in enumerate(serial))
        extra["processes_max_abs_difference"] = max(float(np.abs(to_host(res_p.x[b]) - to_host(s.x)).max())
                                                       for b, s in enumerate(serial))
    print(json.dumps({
        **describe(), "bands": args.bands, "band_shape": list(band.shape), "iters": args.iters,
        "workers": args.workers, "cpu_count": os.cpu_count(),
        "serial_seconds": round(t_serial, 2), "dask_threads_seconds": round(t_dask, 2),
        "speedup": round(t_serial / t_dask, 2), "equal_to_serial": same, **extra,
        # CPU seconds of all threads per wall second: above 1 the threads ran at the same time (GIL released)
        "serial_cpu_per_wall": round(c_serial / t_serial, 2), "dask_threads_cpu_per_wall": round(c_dask / t_dask, 2),
        "warmup_seconds": round(warmup, 2), "load_average_1min_before": round(load_before, 2),
        "load_average_1min_after": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
