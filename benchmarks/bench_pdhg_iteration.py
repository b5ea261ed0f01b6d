"""Cost of one PDHG iteration for TV denoising, in units of one elementwise pass ``np.add(a, b, out=c)``.

Problem: min_x ½‖x − b‖² + λ‖∇x‖_{2,1} on an n×n image, written for ``pdhg`` as
f = λ L21 (its prox_conj is a projection), g = ½‖· − b‖² (``L2DataFidelity(b)``), K = Gradient.

One iteration is timed as the gap between consecutive ``callback`` calls (recording iterations
excluded), the unit as one ``np.add`` on arrays of the image's shape; both are medians over many
repeats measured in the same run, so the ratio is comparable across machines.  Beside it, the same
ratio for scikit-image's ``denoise_tv_chambolle`` (Chambolle's 2004 dual projection iteration,
the peer figure), timed as (t(2m) − t(m)) / m iterations.

    python benchmarks/bench_pdhg_iteration.py [--size 512] [--iters 200] [--output results.jsonl]

Prints one JSON line per dtype.  Target: ratio ≤ 15.
"""
from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from recon.functionals import L2DataFidelity, L21
from recon.operators import Gradient
from recon.solvers import pdhg


def unit_cost(shape, dtype, repeats):
    a = np.random.default_rng(0).random(shape).astype(dtype)
    b, c = a.copy(), np.empty_like(a)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.add(a, b, out=c)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def pdhg_iteration_cost(b, lam, iters):
    stamps = []

    def callback(k, x):
        stamps.append(time.perf_counter())

    record_every = iters + 1  # only the final iteration records (and is excluded below)
    res = pdhg(lam * L21(), L2DataFidelity(b), Gradient(b.shape), b, iters=iters, tol=0.0,
               record_every=record_every, callback=callback)
    assert res.x.dtype == b.dtype
    return float(np.median(np.diff(stamps[:-1])))


def skimage_iteration_cost(b, lam, iters):
    try:
        from skimage.restoration import denoise_tv_chambolle
    except ImportError:  # pragma: no cover - optional peer
        return None

    def run(m):
        t0 = time.perf_counter()
        denoise_tv_chambolle(b, weight=lam, eps=0.0, max_num_iter=m)
        return time.perf_counter() - t0

    m = max(iters // 4, 10)
    diffs = [(run(2 * m) - run(m)) / m for _ in range(3)]
    return float(np.median(diffs))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--iters", type=int, default=200)
    parser.add_argument("--weight", type=float, default=0.1)
    parser.add_argument("--output", default=None, help="also append the JSON lines to this file")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    clean = np.zeros((args.size, args.size))
    clean[args.size // 4: 3 * args.size // 4, args.size // 4: 3 * args.size // 4] = 1.0
    lines = []
    for dtype in (np.float32, np.float64):
        b = (clean + 0.1 * rng.standard_normal(clean.shape)).astype(dtype)
        unit_before = unit_cost(b.shape, dtype, 500)
        iteration = pdhg_iteration_cost(b, args.weight, args.iters)
        unit_after = unit_cost(b.shape, dtype, 500)
        unit = min(unit_before, unit_after)  # noise only ever adds time
        peer = skimage_iteration_cost(b, args.weight, args.iters)
        row = {
            "case": f"pdhg_tv_denoise_{args.size}x{args.size}_{np.dtype(dtype).name}",
            "iteration_s": iteration,
            "np_add_s": unit,
            "ratio": iteration / unit,
            "target_ratio": 15.0,
            "peer": "skimage.restoration.denoise_tv_chambolle (per iteration)",
            "peer_ratio": None if peer is None else peer / unit,
            "numpy": np.__version__,
            "machine": platform.processor() or platform.machine(),
        }
        lines.append(json.dumps(row))
        print(lines[-1], flush=True)
    if args.output:
        with open(args.output, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
