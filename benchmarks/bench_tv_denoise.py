"""TV denoising: time to a relative objective gap, recon's TV prox against skimage's denoise_tv_chambolle.

Problem: ``skimage.data.camera()`` (512×512) as float in [0, 1], Gaussian noise σ = 0.1 (seeded),
ROF model :math:`\\min_u w\\,\\mathrm{TV}(u) + \\tfrac12\\|u - f\\|^2` with :math:`w = 0.1`.
``denoise_tv_chambolle(f, weight=w)`` and ``recon.functionals.TV().prox(f, w)`` solve this same
problem (same forward differences, Neumann boundary, TV summed over pixels): the weight maps 1:1.

The optimum :math:`\\Phi^\\star` comes from recon's prox in float64 run to a relative duality gap of
1e-7 (a certificate, so :math:`\\Phi^\\star` is known to that accuracy), cross-checked against skimage at a
tiny ``eps``.  Objectives are evaluated in float64 with NumPy, independently of both solvers.
Then, in the same run: the wall time recon needs to certify a relative gap of 1e-3 (its
``inner_tol``), and the time skimage needs to get within 1e-3 of :math:`\\Phi^\\star` (``eps`` halved
from its default until it does); also both at their defaults.  Times are the best of ``--repeat``.

    python benchmarks/bench_tv_denoise.py --output tv.json [--dtypes float32 float64] [--repeat 3]

One JSON line per case on stdout; the list of all of them in ``--output``.

``--backend cupy`` runs recon's prox on the GPU (timed to the end of the GPU work; objectives on a host
copy); skimage stays on the CPU.  ``--size N`` crops the camera image; ``--quick`` is ``--size 64 --repeat 1``.
"""
from __future__ import annotations

import argparse
import json
import time

import numpy as np
from backends import add_arguments, describe, select, sync, to_backend, to_host
from skimage import data
from skimage.restoration import denoise_tv_chambolle

from recon.functionals import TV

WEIGHT, SIGMA, SEED, TARGET = 0.1, 0.1, 0, 1e-3


def objective(u, f, w=WEIGHT):
    u = np.asarray(u, dtype=np.float64)
    gx = np.zeros_like(u)
    gy = np.zeros_like(u)
    gx[:-1] = np.diff(u, axis=0)
    gy[:, :-1] = np.diff(u, axis=1)
    return w * float(np.sum(np.hypot(gx, gy))) + 0.5 * float(np.sum((u - f) ** 2))




def best_time(fn, repeat):
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        sync()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", required=True, help="JSON file for all cases")
    parser.add_argument("--dtypes", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--size", type=int, default=512, help="crop the camera image to size x size")
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.repeat = 64, 1
    select(args.backend)

    clean = data.camera()[: args.size, : args.size].astype(np.float64) / 255.0
    f = clean + SIGMA * np.random.default_rng(SEED).standard_normal(clean.shape)

    ref_tv = TV(inner_tol=1e-7, inner_iters=100000, warm_start=False)
    f_dev = to_backend(f)
    t0 = time.perf_counter()
    u_star, ref_info = ref_tv.prox_with_info(f_dev, WEIGHT)
    u_star = to_host(u_star)
    ref_time = time.perf_counter() - t0
    phi_star = objective(u_star, f)
    sk_tight = denoise_tv_chambolle(f, weight=WEIGHT, eps=1e-7, max_num_iter=100000)
    results = [{
        "case": "reference", **describe(), "size": args.size, "objective": phi_star,
        "recon_rel_gap_certified": ref_info.get("rel_gap"), "recon_iterations": ref_info.get("iterations"),
        "recon_s": ref_time,
        "skimage_eps_1e-7_rel_excess": (objective(sk_tight, f) - phi_star) / phi_star,
        "rel_diff_to_skimage_eps_1e-7": float(np.linalg.norm(sk_tight - u_star) / np.linalg.norm(u_star)),
    }]
    print(json.dumps(results[-1]), flush=True)

    def rel_gap(u):
        return (objective(u, f) - phi_star) / phi_star

    for name in args.dtypes:
        fd, fd_dev = f.astype(name), to_backend(f, dtype=name)

        def run_recon(tol, fd_dev=fd_dev):
            return TV(inner_tol=tol, warm_start=False).prox_with_info(fd_dev, WEIGHT)

        t_recon, (u, info) = best_time(lambda: run_recon(TARGET), args.repeat)
        u = to_host(u)
        eps, sk_gap = 2e-4, np.inf
        while eps > 1e-9:
            sk_gap = rel_gap(denoise_tv_chambolle(fd, weight=WEIGHT, eps=eps, max_num_iter=100000))
            if sk_gap <= TARGET:
                break
            eps /= 2
        def run_skimage(fd=fd, eps=eps):
            return denoise_tv_chambolle(fd, weight=WEIGHT, eps=eps, max_num_iter=100000)

        t_sk, _ = best_time(run_skimage, args.repeat)
        results.append({
            "case": f"tv_denoise_{args.size}_rel_gap_{TARGET:g}", **describe(), "dtype": name, "weight_skimage": WEIGHT,
            "weight_recon": WEIGHT, "recon_s": t_recon, "recon_iterations": info.get("iterations"),
            "recon_rel_gap_true": rel_gap(u), "recon_rel_gap_certified": info.get("rel_gap"),
            "skimage_s": t_sk, "skimage_eps": eps, "skimage_rel_gap_true": sk_gap, "speedup": t_sk / t_recon,
        })
        print(json.dumps(results[-1]), flush=True)

        t_recon_def, (u_def, info_def) = best_time(lambda: run_recon(TV().inner_tol), args.repeat)
        u_def = to_host(u_def)
        t_sk_def, u_sk_def = best_time(lambda fd=fd: denoise_tv_chambolle(fd, weight=WEIGHT), args.repeat)
        results.append({
            "case": f"tv_denoise_{args.size}_defaults", **describe(), "dtype": name, "recon_inner_tol": TV().inner_tol,
            "recon_s": t_recon_def, "recon_iterations": info_def.get("iterations"),
            "recon_rel_gap_true": rel_gap(u_def),
            "skimage_eps": 2e-4, "skimage_s": t_sk_def, "skimage_rel_gap_true": rel_gap(u_sk_def),
        })
        print(json.dumps(results[-1]), flush=True)

    with open(args.output, "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
