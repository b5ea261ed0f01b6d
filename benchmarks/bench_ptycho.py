"""Ptychography, known probe, noiseless: object error vs wall time for recon's methods (one JSON line each).

Case of issue 9: 256² object, 64² probe (disk of 40 px, defocus phase), 120 Fermat-spiral positions.
The error is min_a ||a x - O|| / ||O|| on pixels with >= 10% of the peak illumination.  The peer
(PtyLab ePIE on the same HDF5 file) is not run here yet; ``peer_issue_figure`` quotes the issue's
measurement on another machine (0.070 after 6.8 s) and is NOT a same-run ratio.

    python benchmarks/bench_ptycho.py [--iters 100] [--dtype float32]
"""
import argparse
import json
import os
import sys
import time

import numpy as np

from recon import ptycho

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from tests.apps.test_ptycho import _object  # noqa: E402  (the test object, shared)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    args = parser.parse_args()
    M, m, J = 256, 64, 120
    obj = _object(M)
    probe = ptycho.make_probe((m, m), 40)
    positions = ptycho.fermat_spiral(J, (M, M), (m, m))
    scan = ptycho.simulate(obj, probe, positions)
    scan.intensities = scan.intensities.astype(args.dtype)
    mask = ptycho.illuminated(probe, positions, obj.shape)
    for method in ("rpie", "gd", "epie"):
        curve, t0 = [], [0.0]
        def callback(k, x, p, r):
            paused = time.perf_counter()
            curve.append((k, paused - t0[0], ptycho.object_error(x, obj, mask)))
            t0[0] += time.perf_counter() - paused  # error evaluation is not charged to the method
        t0[0] = time.perf_counter()
        ptycho.reconstruct(scan, method=method, iters=args.iters, refine_probe=False, callback=callback)
        def first(level):
            return next((t for _, t, e in curve if e <= level), None)
        print(json.dumps({"case": f"known-probe {M}/{m}/{J}", "method": method, "dtype": args.dtype,
                          "seconds_per_sweep": curve[-1][1] / len(curve), "seconds_to_0.07": first(0.07),
                          "seconds_to_1e-3": first(1e-3), "final_error": curve[-1][2],
                          "peer_issue_figure": {"ptylab_epie_seconds_to_0.070": 6.8},
                          "curve": [(k, round(t, 4), e) for k, t, e in curve]}))


if __name__ == "__main__":
    main()
