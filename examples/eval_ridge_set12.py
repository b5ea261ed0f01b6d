"""Set12 evaluations of a ridge regularizer, the way the model cards and the issue report them.

Denoising PSNR (the model cards)::

    python examples/eval_ridge_set12.py ../shared/data/images/set12 crr 25           # published convex model
    python examples/eval_ridge_set12.py ../shared/data/images/set12 data/crr_sigma25_cpu23min.npz 25

Noise: ``sigma/255`` Gaussian on the [0, 1] image, one NumPy draw per image
(``default_rng(index)``), the same for every model; denoiser: :func:`recon.denoise` (λ = 1,
accelerated gradient with restart, tol 1e-4).  Prints one JSON line.

Ridge regularizer against TV (issue 6, "beat TV by >= 0.5 dB")::

    python examples/eval_ridge_set12.py --versus-tv deblur ../shared/data/images/set12 data/crr_sigma25_cpu23min.npz
    python examples/eval_ridge_set12.py --versus-tv ct ../shared/data/images/set12 data/crr_sigma25_cpu23min.npz
    python examples/eval_ridge_set12.py --versus-tv ct-phantom - data/crr_sigma25_cpu23min.npz

* ``deblur``: 128×128 crops of Set12 (the centre of each image), Gaussian blur of standard
  deviation 1.5 px (periodic, the model the solver uses), Gaussian noise of standard deviation
  0.01 on [0, 1]; :func:`recon.deblur` (FISTA; CRR: FISTA on the smooth objective; 300 iterations
  or relative change 1e-5).
* ``ct``: the same crops, parallel beam, 30 angles over [0°, 180°), 1 % relative Gaussian noise
  (:func:`recon.ct.sinogram`); :func:`recon.ct.reconstruct` with ``method="tv"`` (PDHG, 500
  iterations) and ``"crr"`` (FISTA, 300 iterations), x >= 0.
* ``ct-phantom``: the same CT on the 128×128 Shepp–Logan phantom; tuned on the ``disks`` phantom.

The weight of each method is tuned on a held-out image (Set12 ``01``, or the disks phantom) by the
same rule for both: a 5-point grid with ratio 2 around a starting guess, extended by factors of 2
while the best value sits at the grid's edge, then the two ratio-√2 neighbours of the best.  The
tuned weights are then used unchanged on the other crops.  One JSON line per (method, image),
then a summary line.

``--methods`` picks among ``tv`` (the app's defaults), ``tv-converged`` (deblur only: TV prox to
inner relative gap 1e-8, FISTA to relative change 1e-7 or 1000 iterations; the default TV path can
stall after 60-70 iterations, and stopping early regularizes) and ``ridge``.  ``MODEL`` is a
``.npz`` (recon's own weights) or ``crr``/``wcrr`` (published, with ``--sigma``, the noise level in
/255 units that sets their scales; WCRR runs the monotone APG).
"""
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

from recon import ct, data, deblur, denoise, metrics
from recon.io import read_image
from recon.learned import load_npz
from recon.operators import Convolution
from recon.operators.convolution import gaussian_kernel

CROP = 128
BLUR, BLUR_NOISE = 1.5, 0.01
CT_ANGLES, CT_NOISE = 30, 0.01
START = {("deblur", "tv"): 2e-3, ("deblur", "ridge"): 1e-2, ("ct", "tv"): 0.2, ("ct", "ridge"): 0.2}


def _denoise_table(folder, model, level):
    reg = load_npz(model) if model.endswith(".npz") else model
    sigma = level / 255
    out, start = {}, time.perf_counter()
    for i, f in enumerate(sorted(Path(folder).glob("*.png"))):
        clean = np.asarray(read_image(f), dtype=np.float32)
        noisy = (clean + sigma * np.random.default_rng(i).standard_normal(clean.shape)).astype(np.float32)
        out[f.name] = round(float(metrics.psnr(denoise(noisy, reg=reg, sigma=sigma), clean, data_range=1.0)), 3)
    print(json.dumps({"model": model, "sigma": level, "psnr": out, "mean": round(float(np.mean(list(out.values()))), 3),
                      "seconds": round(time.perf_counter() - start, 1)}))


def _crop(path):
    img = np.asarray(read_image(path), dtype=np.float32)
    i, j = (img.shape[0] - CROP) // 2, (img.shape[1] - CROP) // 2
    return img[i : i + CROP, j : j + CROP]


def _problem(task, clean, seed, sigma):
    """Data and a ``solve(reg, weight)`` for one image (``reg``: "tv", "tv-converged", "crr", "wcrr")."""
    if task == "deblur":
        from recon.functionals.tv import TV

        k = gaussian_kernel(BLUR)
        y = Convolution(k, clean.shape)(clean)
        y = (y + BLUR_NOISE * np.random.default_rng(seed).standard_normal(y.shape)).astype(np.float32)

        def solve(reg, w):
            if reg == "tv-converged":
                return deblur(y, k, reg=TV(inner_iters=2000, inner_tol=1e-8), weight=w, iters=1000, tol=1e-7)
            return deblur(y, k, reg=reg, weight=w, sigma=sigma)

        return solve
    theta = ct.uniform_angles(CT_ANGLES)
    p = ct.sinogram(clean, theta, noise=CT_NOISE, seed=seed).astype(np.float32)
    return lambda reg, w: ct.reconstruct(p, theta, reg, weight=w, shape=clean.shape, sigma=sigma)


def _score(solve, clean, reg, weight):
    return float(metrics.psnr(solve(reg, weight), clean, data_range=1.0))


def _tune(solve, clean, reg, start):
    """The grid rule of the module docstring; returns (best weight, {weight: psnr})."""
    scores = {}

    def at(w):
        w = float(f"{w:.4g}")
        if w not in scores:
            scores[w] = _score(solve, clean, reg, w)
        return w

    grid = [at(start * 2.0**e) for e in range(-2, 3)]
    for _ in range(6):
        best = max(grid, key=scores.get)
        if best == grid[0]:
            grid.insert(0, at(grid[0] / 2))
        elif best == grid[-1]:
            grid.append(at(grid[-1] * 2))
        else:
            break
    best = max(scores, key=scores.get)
    at(best / math.sqrt(2)), at(best * math.sqrt(2))
    return max(scores, key=scores.get), scores


def _versus_tv(task, folder, model, methods, sigma):
    import recon.learned.weights as weights

    if model.endswith(".npz"):
        weights._loaded["crr"] = load_npz(model)  # what reg="crr" / method="crr" use, whatever is installed
        ridge = "crr"
    else:
        ridge = model
    sigma = None if sigma is None else sigma / 255
    kind = "ct" if task.startswith("ct") else task
    if task == "ct-phantom":
        tune_img, report = data.disks(CROP, dtype="float32"), {"shepp_logan": data.shepp_logan(CROP, dtype="float32")}
    else:
        files = sorted(Path(folder).glob("*.png"))
        tune_img, report = _crop(files[0]), {f.stem: _crop(f) for f in files[1:]}
    regs = {"tv": "tv", "tv-converged": "tv-converged", "ridge": ridge}
    tuned = {}
    for method in methods:
        t0 = time.perf_counter()
        start = START[(kind, "tv" if method.startswith("tv") else "ridge")]
        best, scores = _tune(_problem(task, tune_img, 0, sigma), tune_img, regs[method], start)
        tuned[method] = best
        print(json.dumps({"task": task, "stage": "tune", "method": method, "best_weight": best,
                          "psnr": {str(k): round(v, 3) for k, v in sorted(scores.items())},
                          "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
    rows = {m: {} for m in methods}
    for i, (name, clean) in enumerate(report.items()):
        solve = _problem(task, clean, i + 1, sigma)
        for method in methods:
            rows[method][name] = round(_score(solve, clean, regs[method], tuned[method]), 3)
        print(json.dumps({"task": task, "stage": "report", "image": name, **{m: rows[m][name] for m in methods}}),
              flush=True)
    mean = {m: round(float(np.mean(list(r.values()))), 3) for m, r in rows.items()}
    print(json.dumps({"task": task, "stage": "summary", "model": model, "sigma_255": None if sigma is None else
                      round(sigma * 255, 3), "weights": tuned, "mean_psnr": mean, "images": len(report)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--versus-tv":
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("--versus-tv", dest="task", choices=("deblur", "ct", "ct-phantom"))
        parser.add_argument("folder")
        parser.add_argument("model")
        parser.add_argument("--methods", default="tv,ridge")
        parser.add_argument("--sigma", type=float, default=None, help="/255 units (published models)")
        args = parser.parse_args()
        methods = args.methods.split(",")
        if not set(methods) <= {"tv", "tv-converged", "ridge"} or ("tv-converged" in methods and args.task != "deblur"):
            raise SystemExit(f"--methods: tv, tv-converged (deblur only), ridge; got {args.methods!r}")
        _versus_tv(args.task, args.folder, args.model, methods, args.sigma)
    else:
        _denoise_table(sys.argv[1], sys.argv[2], float(sys.argv[3]))
