"""Extinction time of the TV flow of a disk: discrete vs continuum, on refining grids.

The continuum TV flow (Neumann boundary, zero-mean datum) of a disk of height 1 and radius r in a
square domain Omega is self-similar and vanishes at T = |D| (1 - |D|/|Omega|) / perimeter
= (r / 2) (1 - |D|/|Omega|).  This script measures recon's discrete extinction time (implicit steps,
isotropic TV, ``recon.solvers.gradient_flow``) for a binary (pixelated) disk and an anti-aliased one
(pixel value = covered area fraction) with r = n/4 on n x n grids, and writes one JSON line per case.

    python examples/tv_extinction.py --sizes 32 64 128 --output extinction.json
"""
import argparse
import json
import time

import numpy as np

from recon.functionals.tv import TV
from recon.solvers.gradient_flow import gradient_flow


def disk(n, r, supersample=1):
    s = supersample
    c = (np.arange(n * s) + 0.5) / s - n / 2
    yy, xx = np.meshgrid(c, c, indexing="ij")
    inside = (xx**2 + yy**2 <= r**2).astype(float)
    return inside.reshape(n, s, n, s).mean(axis=(1, 3))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[32, 64, 128])
    parser.add_argument("--steps", type=int, default=50, help="flow steps per continuum extinction time")
    parser.add_argument("--output", default=None)
    args = parser.parse_args()
    rows = []
    for n in args.sizes:
        r = n / 4
        for kind, ss in (("binary", 1), ("antialiased", 8)):
            u = disk(n, r, ss)
            a = u.mean()
            t_cont = (r / 2) * (1 - a)
            tv = TV(inner_tol=1e-6, inner_iters=5000)
            t0 = time.perf_counter()
            res = gradient_flow(tv, u, dt=t_cont / args.steps, iters=4 * args.steps, tol=1e-6, subtract_mean=True)
            row = {
                "n": n, "radius": r, "disk": kind, "dt": t_cont / args.steps,
                "extinction_time": res.extras["extinction_time"], "continuum": t_cont,
                # the flow is extinct after `steps` steps and not before: T lies in this bracket
                "bracket": [(res.iterations - 1) * t_cont / args.steps, res.iterations * t_cont / args.steps],
                "relative_deviation": res.extras["extinction_time"] / t_cont - 1,
                "rayleigh_bound": float(np.sum((u - a) ** 2) / tv(u)),
                "steps": res.iterations, "converged": res.converged, "seconds": time.perf_counter() - t0,
            }
            print(json.dumps(row), flush=True)
            rows.append(row)
    if args.output:
        with open(args.output, "w") as fh:
            json.dump(rows, fh, indent=1)


if __name__ == "__main__":
    main()
