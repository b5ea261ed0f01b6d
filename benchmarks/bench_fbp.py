"""FBP: recon.ct.fbp against skimage.transform.iradon on the same exact sinogram of Shepp–Logan.

Both get a 512x512 Shepp–Logan's Radon transform from recon (720 angles over [0, π), ``ceil(n√2)``
bins); both reconstruct with the ramp filter.  Best of ``--repeat`` runs each, in one process.
One JSON line per case: ``recon_s``, ``peer_s``, ``speedup`` = peer_s / recon_s (wall clock), the same from
process CPU time (``cpu_speedup``: less sensitive to other processes on a shared machine), the 1-minute load
average at the start, and each method's
relative L2 error against the phantom and the process's peak resident memory so far
(``peak_rss_mb``, both methods: an upper bound for recon's) (skimage's even-size rotation centre is half a pixel off the
geometric one, which adds to its error; the timing is the point here).

    python benchmarks/bench_fbp.py [--repeat 3] [--sizes 512:720] [--backend numpy|cupy] [--quick]

With ``--backend cupy`` the phantom, sinogram and recon's FBP live on the GPU (timed to the end of the GPU
work); skimage gets a NumPy copy of the sinogram.  ``--quick`` is ``--sizes 64:32 --repeat 1``.
"""
import argparse
import json
import math
import os
import resource
import time

import numpy as np
from backends import add_arguments, describe, select, sync, to_host
from skimage.transform import iradon

from recon import ct, data, metrics


def _peak_rss_mb():
    """Peak resident set size of this process so far, MB (Linux reports KB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", default="512:720", help="comma-separated n:angles")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat = "64:32", 1
    select(args.backend)
    for case in args.sizes.split(","):
        n, n_angles = (int(v) for v in case.split(":"))
        u = data.shepp_logan(n, dtype="float32")
        angles = ct.uniform_angles(n_angles)
        p = ct.sinogram(u, angles, n_detectors=math.ceil(n * math.sqrt(2)))
        p_host, deg = to_host(p), np.rad2deg(to_host(angles))
        load = os.getloadavg()[0]
        best = dict(recon=np.inf, peer=np.inf)
        cpu = dict(recon=np.inf, peer=np.inf)
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            ours = ct.fbp(p, angles, shape=(n, n))
            sync()
            best["recon"] = min(best["recon"], time.perf_counter() - t0)
            cpu["recon"] = min(cpu["recon"], time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            theirs = iradon(p_host.T, deg, filter_name="ramp", circle=False, output_size=n)
            best["peer"] = min(best["peer"], time.perf_counter() - t0)
            cpu["peer"] = min(cpu["peer"], time.process_time() - c0)
        print(json.dumps({
            "case": f"fbp {n}x{n}, {n_angles} angles, ramp filter, float32 data", **describe(),
            "recon_s": round(best["recon"], 4), "peer": "skimage.transform.iradon", "peer_s": round(best["peer"], 4),
            "speedup": round(best["peer"] / best["recon"], 2),
            "cpu_speedup": round(cpu["peer"] / cpu["recon"], 2), "load_avg_1min": round(load, 2),
            "recon_rel_error": round(metrics.relative_error(ours, u), 4),
            "peer_rel_error": round(metrics.relative_error(theirs, to_host(u)), 4),
            "peak_rss_mb": _peak_rss_mb(),
        }))


if __name__ == "__main__":
    main()
