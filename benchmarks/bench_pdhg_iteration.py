"""Cost of one PDHG iteration for TV denoising, in units of one elementwise pass ``np.add(a, b, out=c)``.

Problem: min_x ½‖x − b‖² + λ‖∇x‖_{2,1} on an n×n image, written for ``pdhg`` as
f = λ L21 (its prox_conj is a projection), g = ½‖· − b‖² (``L2DataFidelity(b)``), K = Gradient.

One iteration is timed as (t(2m) − t(m)) / m of whole ``pdhg`` runs without a callback, the unit as
the median of 100 ``add(a, b, out=c)`` (NumPy's, or CuPy's with ``--backend cupy``) on arrays of the
image's shape timed right after; the median of the per-repeat ratios is reported, so both see the same
machine load.  Beside it, the same ratio for each piece timed alone (``parts_ratio``) and for
scikit-image's ``denoise_tv_chambolle`` (Chambolle's 2004 dual projection iteration, the peer figure,
on the CPU), timed as (t(2m) − t(m)) / m iterations.  With numba (installed with recon) Gradient, the
ball projection and pdhg's linear combinations run as compiled one-pass kernels; ``RECON_NUMBA=0``
times the array-API path.

    python benchmarks/bench_pdhg_iteration.py [--size 512] [--iters 200] [--output results.jsonl]
                                              [--backend numpy|cupy] [--quick]

Also timed: one inner iteration of ``TV().prox`` — the same Chambolle–Pock iteration on the same model
(Alg. 2, accelerated) — on whatever path recon takes (``tv_prox_iteration_ratio``): its fused compiled
kernel when numba is importable, the array-API path under ``RECON_NUMBA=0`` or on CuPy; ``compiled``
in the JSON line says which switch was set.  Run the script twice (with and without ``RECON_NUMBA=0``)
to compare the two paths.  ``--quick`` is ``--size 64 --iters 20`` with fewer repeats.

Prints one JSON line per dtype.  Target: ratio ≤ 15 (float32).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import time

import numpy as np
from backends import add_arguments, describe, library, select, sync, to_backend, to_host

from recon.functionals import L21, TV, L2DataFidelity
from recon.operators import Gradient
from recon.solvers import pdhg


def unit_cost(shape, dtype, repeats):
    """Median seconds of one ``add(a, b, out=c)`` on the selected backend (synchronised on a GPU)."""
    lib = library()
    a = to_backend(np.random.default_rng(0).random(shape).astype(dtype))
    b, c = a.copy(), lib.empty_like(a)
    lib.add(a, b, out=c)
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        lib.add(a, b, out=c)
        sync()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def pdhg_iteration_ratio(b, lam, iters, repeats=7):
    """One iteration of ``pdhg`` in ``np.add`` units: (t(2m) − t(m)) / m over the unit timed right after.

    No callback (pdhg then takes its in-place path: K xbar accumulated into y, x written into a spare
    buffer) and no recording except the last iteration, the same in both runs.  Median over repeats.
    """
    f = lam * L21()
    g, K = L2DataFidelity(b), Gradient(b.shape)

    def run(m):
        t0 = time.perf_counter()
        res = pdhg(f, g, K, b, iters=m, tol=0.0, record_every=m + 1)
        sync()
        t = time.perf_counter() - t0
        assert res.x.dtype == b.dtype
        return t

    return per_iteration_ratio(run, b, iters, repeats)


def per_iteration_ratio(run, b, iters, repeats):
    """Median over repeats of (t(2m) − t(m)) / m, ``run(m)`` timing m iterations, over the unit timed right after.

    Timing the unit (median of 100 adds) right after each pair lets both see the same machine load.
    """
    run(3)  # compile kernels
    m = max(iters // 2, 10)
    ratios = [((run(2 * m) - run(m)) / m) / unit_cost(b.shape, b.dtype, 100) for _ in range(repeats)]
    return float(np.median(ratios))


def breakdown(b, lam, repeats=50):
    """Median cost of each piece of one iteration, timed alone (seconds), through the public methods."""
    K, f, g = Gradient(b.shape), lam * L21(), L2DataFidelity(b)
    tau = 0.99 / K.norm()
    y, v = K(b), library().empty_like(b)

    def median(fn):
        fn()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            sync()
            times.append(time.perf_counter() - t0)
        return float(np.median(times))

    return {
        "K.forward_into": median(lambda: K.forward_into(b, y)),
        "K.adjoint_into": median(lambda: K.adjoint_into(y, v)),
        "f.prox_conj (lam * L21, new array)": median(lambda: f.prox_conj(y, tau)),
        "g.prox (L2DataFidelity)": median(lambda: g.prox(v, tau)),
    }


def tv_prox_iteration_ratio(b, lam, iters, repeats=7):
    """One inner iteration of ``TV().prox`` (Chambolle–Pock Alg. 2 on the same model) in ``add`` units.

    Timed by :func:`per_iteration_ratio`, on the path recon takes here (compiled kernel or array API).
    """
    def run(m):
        # no tolerance reachable and one gap check (at the last iteration), the same in both runs
        tv = TV(inner_tol=1e-30, inner_iters=m, check_every=10 * m, warm_start=False)
        t0 = time.perf_counter()
        tv.prox(b, lam)
        sync()
        return time.perf_counter() - t0

    return per_iteration_ratio(run, b, iters, repeats)


def skimage_iteration_cost(b, lam, iters):
    try:
        from skimage.restoration import denoise_tv_chambolle
    except ImportError:  # pragma: no cover - optional peer
        return None

    b = to_host(b)

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
    add_arguments(parser)
    args = parser.parse_args(argv)
    repeats = 7
    if args.quick:
        args.size, args.iters, repeats = 64, 20, 2
    select(args.backend)
    # what recon.backend's switch decides: numba importable, not turned off, and NumPy arrays
    compiled = (args.backend == "numpy" and importlib.util.find_spec("numba") is not None
                and os.environ.get("RECON_NUMBA", "1").strip().lower() not in ("0", "false", "no", "off"))

    rng = np.random.default_rng(0)
    clean = np.zeros((args.size, args.size))
    clean[args.size // 4: 3 * args.size // 4, args.size // 4: 3 * args.size // 4] = 1.0
    lines = []
    for dtype in (np.float32, np.float64):
        b = to_backend((clean + 0.1 * rng.standard_normal(clean.shape)).astype(dtype))
        unit_before = unit_cost(b.shape, dtype, 500)
        ratio = pdhg_iteration_ratio(b, args.weight, args.iters, repeats)
        tv_ratio = tv_prox_iteration_ratio(b, args.weight, args.iters, repeats)
        unit_after = unit_cost(b.shape, dtype, 500)
        unit = min(unit_before, unit_after)  # noise only ever adds time
        parts = breakdown(b, args.weight)
        peer = skimage_iteration_cost(b, args.weight, args.iters)
        row = {
            "case": f"pdhg_tv_denoise_{args.size}x{args.size}_{np.dtype(dtype).name}",
            **describe(),
            "compiled": compiled,
            "add_s": unit,
            "ratio": ratio,
            "target_ratio": 15.0,
            "parts_ratio": {name: t / unit for name, t in parts.items()},
            "tv_prox_iteration_ratio": tv_ratio,
            "peer": "skimage.restoration.denoise_tv_chambolle (per iteration)",
            "peer_ratio": None if peer is None else peer / unit,
            "numpy": np.__version__,
        }
        lines.append(json.dumps(row))
        print(lines[-1], flush=True)
    if args.output:
        with open(args.output, "a", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
