"""Ptychography, known probe, noiseless: object error vs wall time, recon and PtyLab on the same HDF5 file.

Case of issue 9: 256² object, 64² probe (disk of 40 px, defocus phase), 120 Fermat-spiral positions.
The scan is simulated by recon and written in PtyLab's CPM format; both programs read that file
(recon with ``recon.ptycho.load``, PtyLab with ``easyInitialize(file, engine=Engines.ePIE,
operationMode="CPM", dummyMonitor=True)``, ``params.gpuSwitch=False``).  Both get the true probe
and keep it (PtyLab: ``betaProbe = 0``; its ``betaObject`` stays at the default 0.25) and start
from a flat object.  The error is ``min_a ||a x - O|| / ||O||`` on pixels with >= 10% of the peak
illumination, evaluated after every sweep with the clock stopped.

Prints one JSON line per method, then a summary line with the same-run ratio
``ptylab_seconds_to_0.07 / recon_seconds_to_0.07``; writes ``ptycho_vs_ptylab.json`` and
``ptycho_vs_ptylab.png`` (error vs seconds, log scale) into ``--out``.

    python benchmarks/bench_ptycho.py [--iters 100] [--peer-iters 250] [--dtype float64] [--out DIR]

With ``--batches 1,4,16,...`` it instead times ``reconstruct(batch=...)`` on the same case (no peer):
per method and batch, the fastest of ``--reps`` interleaved runs (wall and CPU seconds per sweep,
seconds to errors 0.07 and 1e-3), with the same-run ratio to the method's default batch; writes
``ptycho_batch_<dtype>.json``.

    python benchmarks/bench_ptycho.py --batches 1,4,8,16,30,120 --iters 30 --reps 3 [--dtype float32]

``--backend cupy`` loads the scan onto the GPU and reconstructs there (errors are evaluated on a host copy
with the clock stopped); PtyLab stays on the CPU.  ``--quick`` is a 64² object, 32² probe, 20 positions
and 5 sweeps, written to ``benchmarks/results/scratch`` unless ``--out`` is given.
"""
import argparse
import contextlib
import io
import json
import os
import tempfile
import time

import numpy as np
from backends import add_arguments, describe, select, sync, to_host

from recon import ptycho

GEOMETRY = dict(wavelength=632.8e-9, zo=5e-2, dxd=28.8e-6)  # dxo = 17.2 µm for 64 px patterns


def smooth_object(M, seed=0):
    """A smooth complex object (the test suite's): amplitude in [0.6, 1], phase in [-0.5, 0.5] rad."""
    from skimage import data as skd
    from skimage.transform import resize

    amp = 0.6 + 0.4 * resize(skd.camera() / 255.0, (M, M), anti_aliasing=True)
    phase = resize(skd.moon() / 255.0, (M, M), anti_aliasing=True) - 0.5
    return amp * np.exp(1j * phase)


class Clock:
    """Wall time of the method alone: error evaluations run with the clock stopped."""

    def __init__(self, obj, mask):
        self.obj, self.mask, self.curve = obj, mask, []
        self.start, self.cpu_start, self.cpu = time.perf_counter(), time.process_time(), 0.0

    def record(self, k, x):
        sync()
        paused, cpu_paused = time.perf_counter(), time.process_time()
        self.cpu = cpu_paused - self.cpu_start  # process CPU seconds of the method alone
        self.curve.append((k, paused - self.start, ptycho.object_error(to_host(x), self.obj, self.mask)))
        self.start += time.perf_counter() - paused
        self.cpu_start += time.process_time() - cpu_paused


def run_recon(path, method, iters, dtype, obj, mask, batch=None, backend="numpy"):
    scan = ptycho.load(path, backend=backend)
    scan.intensities = scan.intensities.astype(dtype)
    clock = Clock(obj, mask)
    ptycho.reconstruct(scan, method=method, iters=iters, refine_probe=False, batch=batch,
                       callback=lambda k, x, p, r: clock.record(k, x))
    return clock


def run_ptylab(path, iters, probe, obj, mask):
    from PtyLab import Engines, easyInitialize

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        data, recon_, params, monitor, engine = easyInitialize(path, engine=Engines.ePIE, operationMode="CPM",
                                                               dummyMonitor=True)
        params.gpuSwitch = False
        # PtyLab sizes its object grid from the scan's extent; use the file's so the corners agree.
        recon_.No = obj.shape[0]
        recon_.initializeObjectProbe()
        recon_.probe = np.asarray(probe, dtype=recon_.probe.dtype).reshape(recon_.probe.shape)
        engine.betaProbe = 0.0
        engine.numIterations = iters
        J = data.ptychogram.shape[0]
        clock = None
        for loop, position in engine.reconstruct_stepwise():
            if clock is None:
                clock = Clock(obj, mask)  # after PtyLab's preparation, as recon's clock starts after loading
            if position == J - 1:
                clock.record(loop + 1, np.asarray(recon_.object).reshape(obj.shape))
    return clock.curve


def first(curve, level):
    return next((t for _, t, e in curve if e <= level), None)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--iters", type=int, default=100)
    parser.add_argument("--peer-iters", type=int, default=250)
    parser.add_argument("--dtype", default="float64", choices=["float32", "float64"])
    parser.add_argument("--out", default=None, help="folder for the JSON and PNG (default: benchmarks/results)")
    parser.add_argument("--batches", default=None, help="comma-separated batch sizes: time reconstruct(batch=...)")
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions per batch size (fastest kept)")
    add_arguments(parser)
    args = parser.parse_args()
    select(args.backend)
    M, m, J, diameter = 256, 64, 120, 40
    results_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    if args.quick:
        M, m, J, diameter, args.iters, args.peer_iters, args.reps = 64, 32, 20, 16, 5, 5, 1
        results_dir = os.path.join(results_dir, "scratch")
    args.out = args.out or results_dir
    obj = smooth_object(M)
    probe = ptycho.make_probe((m, m), diameter)
    positions = ptycho.fermat_spiral(J, (M, M), (m, m))
    mask = ptycho.illuminated(probe, positions, obj.shape)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "scan.hdf5")
        ptycho.simulate(obj, probe, positions, path=path, **GEOMETRY)
        if args.batches:
            return batches(path, args, obj, mask, f"known-probe {M}/{m}/{J} noiseless")
        curves = {f"recon {method}": run_recon(path, method, args.iters, args.dtype, obj, mask,
                                               backend=args.backend).curve
                  for method in ("rpie", "gd")}
        try:
            curves["PtyLab ePIE"] = run_ptylab(path, args.peer_iters, probe, obj, mask)
        except ImportError as err:
            print(json.dumps({"peer": "PtyLab", "skipped": str(err)}))
    case = f"known-probe {M}/{m}/{J} noiseless"
    for name, curve in curves.items():
        line = {"case": case, "method": name, **(describe() if name.startswith("recon") else {"backend": "cpu"}),
                "dtype": args.dtype if name.startswith("recon") else "PtyLab default",
                "sweeps": len(curve), "seconds_per_sweep": curve[-1][1] / len(curve),
                "seconds_to_0.07": first(curve, 0.07), "seconds_to_1e-3": first(curve, 1e-3),
                "final_error": curve[-1][2], "curve": [(k, round(t, 4), e) for k, t, e in curve]}
        results.append(line)
        print(json.dumps(line))
    peer = first(curves.get("PtyLab ePIE", []), 0.07)
    summary = {"case": case, **describe(), "ptylab_seconds_to_0.07": peer}
    for name in ("recon rpie", "recon gd"):
        ours = first(curves[name], 0.07)
        summary[f"{name} seconds_to_0.07"] = ours
        summary[f"ratio ptylab/{name.split()[1]} to 0.07"] = peer / ours if peer and ours else None
    print(json.dumps(summary))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "ptycho_vs_ptylab.json"), "w") as f:
        json.dump({"summary": summary, "methods": results}, f, indent=1)
    plot(curves, os.path.join(args.out, "ptycho_vs_ptylab.png"), case)


def batches(path, args, obj, mask, case):
    """Per method and batch size, the fastest of ``args.reps`` interleaved runs; JSON lines and ptycho_batch.json."""
    sizes = [int(b) for b in args.batches.split(",")]
    J = ptycho.load(path).intensities.shape[0]
    runs = [(method, b) for method in ("rpie", "gd") for b in sorted(set(sizes) | {1 if method == "rpie" else J})]
    best = {}
    for _ in range(args.reps):
        for method, b in runs:
            clock = run_recon(path, method, args.iters, args.dtype, obj, mask, batch=b, backend=args.backend)
            if (method, b) not in best or clock.curve[-1][1] < best[method, b].curve[-1][1]:
                best[method, b] = clock
    lines = []
    for method, b in runs:
        curve = best[method, b].curve
        default = best.get((method, 1 if method == "rpie" else J))
        per_sweep = curve[-1][1] / len(curve)
        line = {"case": case, **describe(), "method": method, "batch": b, "dtype": args.dtype, "sweeps": len(curve),
                "seconds_per_sweep": per_sweep, "cpu_seconds_per_sweep": best[method, b].cpu / len(curve),
                "default_batch_over_this_per_sweep":
                    (default.curve[-1][1] / len(default.curve)) / per_sweep if default else None,
                "seconds_to_0.07": first(curve, 0.07), "seconds_to_1e-3": first(curve, 1e-3),
                "final_error": curve[-1][2], "load_average": os.getloadavg()[0]}
        lines.append(line)
        print(json.dumps(line))
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"ptycho_batch_{args.dtype}.json"), "w") as f:
        json.dump(lines, f, indent=1)


def plot(curves, path, case):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for name, curve in curves.items():
        ax.semilogy([t for _, t, _ in curve], [e for _, _, e in curve], label=name)
    ax.axhline(0.07, color="gray", lw=0.5, ls="--")
    ax.axhline(1e-3, color="gray", lw=0.5, ls=":")
    ax.set_xlabel("wall time (s)")
    ax.set_ylabel("object error")
    ax.set_title(case, fontsize=9)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
