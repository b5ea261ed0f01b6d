"""Blind dTV fusion of one 100x100 band at factor 4 (440x440 working domain): seconds per PALM iteration,
the same in 440x440 rfft2+irfft2 pairs measured in the same run, and the time to an objective within 1e-4
relative of the final one.  One JSON line per case.

Both wall-clock and CPU (process) time are reported: everything here is single-threaded, so on a machine
shared with other jobs the CPU-time ratio is the steadier one.  The FFT pair is timed before and after the
fusion (median of each) and the mean of the two is used.  Numba kernels are compiled (or loaded from their
disk cache) by a small warm-up run first; its time is reported as ``warmup_seconds``.

    python benchmarks/bench_fusion.py [--iters 100] [--dtype float64|float32] [--tol 0]

``--iters 300 --tol 1e-6`` is a full fusion with ``recon.fuse``'s defaults (it stops on the relative
objective decrease); the default ``--tol 0`` runs exactly ``--iters`` iterations.

Needs the shared data (../shared/data/fusion or $RECON_SHARED_DATA).

``--backend cupy`` fuses on the GPU (data and photo copied there first); the FFT-pair unit stays NumPy's and
SciPy's on the CPU, so on CuPy ``iteration_in_*`` compare a GPU iteration with CPU FFTs.  ``--quick`` crops the
case to a 25x25 band (100x100 photo) and runs 3 iterations.
"""
import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import scipy.fft
from backends import add_arguments, describe, select, sync, to_backend
from scipy.io import loadmat

from recon import fuse


def _fft_pair_seconds(shape, dtype, fft, repeats=20, clock=time.perf_counter):
    """Median over ``repeats`` of one rfft2+irfft2 pair (the median resists the other jobs on a shared machine)."""
    x = np.random.default_rng(0).random(shape).astype(dtype)
    fft.irfft2(fft.rfft2(x), s=shape)
    times = []
    for _ in range(repeats):
        t = clock()
        fft.irfft2(fft.rfft2(x), s=shape)
        times.append(clock() - t)
    return float(np.median(times))


def _pairs(dtype):
    """Wall and CPU seconds of one pair with numpy.fft and scipy.fft."""
    return {(name, clock.__name__): _fft_pair_seconds((440, 440), dtype, fft, clock=clock)
            for name, fft in (("numpy", np.fft), ("scipy", scipy.fft))
            for clock in (time.perf_counter, time.process_time)}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--case", default="trees1_shift_5px_disk")
    parser.add_argument("--tol", type=float, default=0.0)
    add_arguments(parser)
    args = parser.parse_args()
    select(args.backend)
    root = Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
    path = root / "fusion" / f"{args.case}.mat"
    if not path.is_file():
        raise SystemExit(f"{path}: no such file; the fusion cases live in the shared data (set RECON_SHARED_DATA)")
    d = loadmat(path)
    data, photo = d["data"], d["side_info"]
    if args.quick:
        data, photo, args.iters = data[:25, :25], photo[:100, :100], 3
    data, photo = to_backend(data, dtype=args.dtype), to_backend(photo, dtype=args.dtype)
    t = time.perf_counter()
    fuse(data[:20, :20], photo[:80, :80], 4, kernel_size=9, iters=2)  # compile / load the numba kernels
    sync()
    warmup = time.perf_counter() - t
    before = _pairs(args.dtype)
    load_before = os.getloadavg()[0]
    stamps = []
    t0, c0 = time.perf_counter(), time.process_time()

    def stamp(k, x):
        sync()
        stamps.append(time.perf_counter() - t0)
        return False

    res = fuse(data, photo, 4, iters=args.iters, tol=args.tol, callback=stamp)
    sync()
    total, cpu = time.perf_counter() - t0, time.process_time() - c0
    after = _pairs(args.dtype)
    pair = {key: 0.5 * (before[key] + after[key]) for key in before}
    obj = np.array([float(v) for v in res.history["objective"][1:]])
    reach = int(np.argmax(obj <= obj[-1] * (1 + 1e-4)))
    per_it, cpu_it = total / res.iterations, cpu / res.iterations
    shape = "x".join(str(v) for v in data.shape)
    print(json.dumps({
        "case": args.case, **describe(), "band_shape": shape, "dtype": args.dtype, "tol": args.tol,
        "iterations": res.iterations,
        "converged": res.converged, "seconds": round(total, 3),
        "cpu_seconds": round(cpu, 3), "warmup_seconds": round(warmup, 2),
        "seconds_per_iteration": round(per_it, 4), "cpu_seconds_per_iteration": round(cpu_it, 4),
        "fft_pair_seconds_440": round(pair["numpy", "perf_counter"], 5),
        "fft_pair_seconds_440_scipy": round(pair["scipy", "perf_counter"], 5),
        "fft_pair_cpu_seconds_440_scipy": round(pair["scipy", "process_time"], 5),
        "iteration_in_fft_pairs": round(per_it / pair["numpy", "perf_counter"], 1),
        "iteration_in_scipy_fft_pairs": round(per_it / pair["scipy", "perf_counter"], 1),
        "iteration_in_scipy_fft_pairs_cpu": round(cpu_it / pair["scipy", "process_time"], 1),
        "target_fft_pairs": 25, "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "mean_inner_iterations": float(np.mean(res.history["inner"][1:])) if "inner" in res.history else None,
        "final_objective": float(obj[-1]),
        "objective_at_seconds": {t: float(obj[np.searchsorted(stamps, t) - 1])
                                 for t in (2, 5, 10, 20) if stamps[0] <= t},
        "seconds_to_1e-4_of_final": round(stamps[reach], 3), "iteration_to_1e-4_of_final": reach + 1,
        "seconds_to_1e-3_of_final": round(stamps[int(np.argmax(obj <= obj[-1] * (1 + 1e-3)))], 3),
        "seconds_to_1e-2_of_final": round(stamps[int(np.argmax(obj <= obj[-1] * (1 + 1e-2)))], 3),
    }))


if __name__ == "__main__":
    main()
