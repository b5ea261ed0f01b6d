"""Bregman iterations vs one plain TV denoising: what do warm starts buy?

Camera 512x512 in [0, 1] with Gaussian noise sigma = 0.1 (seed 0).  Plain: one TV prox
(weight w, cold start).  Bregman: 10 outer iterations with tau = 1/w, each a TV prox of the
"added back" data, warm-started from the previous dual variable (the TV object keeps it).  Same
inner tolerance for both.  Prints one JSON line per dtype (ratio = Bregman time / plain time;
the issue's target is <= 3) and, per Bregman step, the inner iterations.

    python benchmarks/bench_bregman.py [--weight 0.3] [--inner-tol 1e-4] [--output out.json] [--backend numpy|cupy]

``--size N`` crops the camera image to N x N; ``--quick`` is ``--size 64 --outer 2 --repeat 1``.
"""
import argparse
import json
import time

import numpy as np
from backends import add_arguments, describe, select, sync, to_backend
from skimage import data

from recon.functionals import TV
from recon.solvers import bregman


class CountingTV(TV):
    """TV whose prox keeps the inner iteration count of each call (benchmark bookkeeping only)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = []

    def _prox(self, x, tau):
        u, info = self.prox_with_info(x, tau)
        self.inner.append(info["iterations"])
        return u


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weight", type=float, default=0.3)
    parser.add_argument("--inner-tol", type=float, default=1e-4)
    parser.add_argument("--outer", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=512, help="crop the camera image to size x size")
    parser.add_argument("--output", default=None)
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.size, args.outer, args.repeat = 64, 2, 1
    select(args.backend)
    clean = data.camera()[: args.size, : args.size] / 255.0
    noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
    rows = []
    for dtype in (np.float32, np.float64):
        f = to_backend(noisy, dtype=dtype)
        plain_s, breg_s = [], []
        TV(inner_tol=args.inner_tol, inner_iters=10).prox(f, args.weight)  # compile the kernels (first use)
        for _ in range(args.repeat):
            tv = CountingTV(inner_tol=args.inner_tol, inner_iters=10000)
            t0 = time.perf_counter()
            tv.prox(f, args.weight)
            sync()
            plain_s.append(time.perf_counter() - t0)
            plain_iters = tv.inner[-1]
            tv = CountingTV(inner_tol=args.inner_tol, inner_iters=10000)
            t0 = time.perf_counter()
            res = bregman(None, f, tv, tau=1.0 / args.weight, iters=args.outer, tol=0.0)
            sync()
            inner = tv.inner
            breg_s.append(time.perf_counter() - t0)
        row = {
            "case": f"bregman_{args.outer}_vs_tv_prox_{args.size}", **describe(), "dtype": np.dtype(dtype).name,
            "weight": args.weight,
            "inner_tol": args.inner_tol, "plain_s": min(plain_s), "plain_inner_iterations": plain_iters,
            "bregman_s": min(breg_s), "bregman_inner_iterations": inner, "ratio": min(breg_s) / min(plain_s),
            "target_ratio": 3.0, "residuals": [float(r) for r in res.history["residual"]],
        }
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.output:
        with open(args.output, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
