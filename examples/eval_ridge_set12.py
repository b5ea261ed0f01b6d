"""Set12 evaluations of a ridge regularizer, the way the model cards and the issue report them.

Denoising PSNR (the model cards)::

    python examples/eval_ridge_set12.py ../shared/data/images/set12 crr-published 25  # published convex model
    python examples/eval_ridge_set12.py ../shared/data/images/set12 recon/learned/models/crr_cpu55min.npz 25
    python examples/eval_ridge_set12.py ../shared/data/images/set12 ../shared/data/weights/crr-nn/Sigma_25_t_10 25 \
        11.3137 16   # an original CRR-NN checkpoint folder, with the denoiser's lambda and mu

Noise: ``sigma/255`` Gaussian on the [0, 1] image, one NumPy draw per image
(``default_rng(index)``), the same for every model; denoiser: :func:`recon.denoise` (λ = 1,
accelerated gradient with restart, tol 1e-4).  Prints one JSON line.

Ridge regularizer against TV (issue 6, "beat TV by >= 0.5 dB")::

    python examples/eval_ridge_set12.py --versus-tv deblur ../shared/data/images/set12 \
        recon/learned/models/crr_cpu55min.npz
    python examples/eval_ridge_set12.py --versus-tv ct ../shared/data/images/set12 wcrr-published \
        --methods tv-converged,ridge
    python examples/eval_ridge_set12.py --versus-tv ct-phantom - crr-published --methods tv-converged,ridge

* ``deblur``: 128×128 crops of Set12 (the centre of each image), Gaussian blur of standard
  deviation 1.5 px (periodic, the model the solver uses), Gaussian noise of standard deviation
  0.01 on [0, 1]; :func:`recon.deblur` (FISTA; WCRR: monotone APG; 300 iterations or relative
  change 1e-5, the app's defaults; ``--ridge-iters``/``--ridge-tol`` change them).
* ``ct``: the same crops, parallel beam, 30 angles over [0°, 180°), 1 % relative Gaussian noise
  (:func:`recon.ct.sinogram`); :func:`recon.ct.reconstruct`, x >= 0: ``"tv"`` (PDHG, the app's
  500 iterations), ``"tv-converged"`` (PDHG to relative change 1e-7 or 3000 iterations) and the
  ridge method (``"crr"``: FISTA, ``"wcrr"``: monotone APG; from the FBP, to relative change or
  relative stationarity 1e-6 or 3000 iterations, the app's defaults).
* ``ct-phantom``: the same CT on the 128×128 Shepp–Logan phantom; tuned on the ``disks`` phantom.

Tuning, on a held-out image only (Set12 ``01``, or the disks phantom), then the tuned parameters
are used unchanged on the others.  The weight of every method by one rule: a grid with ratio 2
around a starting guess (5 points for TV, 3 for the ridge weight at each noise level), extended
by factors of 2 while the best value sits at the grid's edge (so the optimum is bracketed), then
the two ratio-√2 neighbours of the best.  The published models (``MODEL`` = ``crr-published``/``wcrr-published``)
also have the noise level S (``at_noise_level(S/255)``): without ``--sigma`` it is tuned on the
same image, over ``--sigmas`` (default 5, 10, 15, 20, 25, 30), the grid extended by its end
steps while the best S sits at an end (halving below the first step, down to 1; up to 60; the
published models were trained on S in [0, 30]), each S with its weight tuned by
the rule above (starting from the previous S's best weight); the √2 neighbours are added at the
best S only.  One JSON line per tuning evaluation (PSNR, iterations, seconds, 1-minute load), per
(method, image) on the reported images, then a summary line.  ``--reuse FILE`` takes the tuning
evaluations of an earlier run's output instead of recomputing them (same task, model, options).

``--methods`` picks among ``tv`` (the app's defaults), ``tv-converged`` (deblur: TV prox to inner
relative gap 1e-8, FISTA to relative change 1e-7 or 1000 iterations; CT: as above) and ``ridge``.
``MODEL`` is a ``.npz`` (recon's own weights: a WCRR one, ``rho`` 1 in its meta, stands in for
``wcrr``, any other for ``crr``; one with a noise scaling has its S tuned like the published models)
or a name of :data:`recon.learned.NAMES`: ``crr``/``wcrr`` (the models recon ships), ``crr-published``/
``wcrr-published`` (the authors' checkpoints: torch and the shared data folder).
"""
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

from recon import ct, data, deblur, denoise, metrics
from recon.io import read_image
from recon.learned import load_npz, load_shipped
from recon.operators import Convolution
from recon.operators.convolution import gaussian_kernel

CROP = 128
BLUR, BLUR_NOISE = 1.5, 0.01
CT_ANGLES, CT_NOISE = 30, 0.01
START = {("deblur", "tv"): 2e-3, ("deblur", "ridge"): 1e-2, ("ct", "tv"): 0.2, ("ct", "ridge"): 10.0}
SIGMAS = (5, 10, 15, 20, 25, 30)
SIGMA_MIN, SIGMA_MAX = 1, 60
TV_CONVERGED_CT = dict(iters=3000, tol=1e-7)


def _load():
    return round(os.getloadavg()[0], 2)


def _denoise_table(folder, model, level, *lmbd_mu):
    if model.endswith(".npz"):
        reg = load_npz(model)
    elif Path(model).is_dir():  # a published checkpoint folder (original CRR-NN: optional lmbd, mu)
        from recon.learned import load_published

        reg = load_published(model, **dict(zip(("lmbd", "mu"), (float(v) for v in lmbd_mu))))
    else:
        reg = model
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


def _problem(task, clean, seed, options):
    """Data and ``solve(reg, weight, sigma) -> Result`` for one image (``reg``: "tv", "tv-converged", "crr", ...)."""
    if task == "deblur":
        from recon.functionals.tv import TV

        k = gaussian_kernel(BLUR)
        y = Convolution(k, clean.shape)(clean)
        y = (y + BLUR_NOISE * np.random.default_rng(seed).standard_normal(y.shape)).astype(np.float32)

        def solve(reg, w, sigma):
            if reg == "tv-converged":
                return deblur(y, k, reg=TV(inner_iters=2000, inner_tol=1e-8), weight=w, iters=1000, tol=1e-7,
                              return_result=True)
            if reg == "tv":
                return deblur(y, k, reg=reg, weight=w, return_result=True)
            return deblur(y, k, reg=reg, weight=w, sigma=sigma, return_result=True, **options)

        return solve
    theta = ct.uniform_angles(CT_ANGLES)
    p = ct.sinogram(clean, theta, noise=CT_NOISE, seed=seed).astype(np.float32)

    def solve(reg, w, sigma):
        if reg == "tv-converged":
            return ct.reconstruct(p, theta, "tv", weight=w, shape=clean.shape, return_result=True, **TV_CONVERGED_CT)
        if reg == "tv":
            return ct.reconstruct(p, theta, "tv", weight=w, shape=clean.shape, return_result=True)
        return ct.reconstruct(p, theta, reg, weight=w, shape=clean.shape, sigma=sigma, return_result=True, **options)

    return solve


def _run(solve, clean, reg, weight, sigma):
    t0 = time.perf_counter()
    result = solve(reg, weight, sigma)
    return {"psnr": float(metrics.psnr(result.x, clean, data_range=1.0)), "iterations": int(result.iterations),
            "converged": bool(result.converged), "seconds": round(time.perf_counter() - t0, 1)}


def _tune_weight(evaluate, start, points, refine=True):
    """The grid rule of the module docstring for the weight; returns (best weight, {weight: psnr})."""
    scores = {}

    def at(w):
        w = float(f"{w:.4g}")
        if w not in scores:
            scores[w] = evaluate(w)
        return w

    half = points // 2
    grid = [at(start * 2.0**e) for e in range(-half, half + 1)]
    for _ in range(8):
        best = max(grid, key=scores.get)
        if best == grid[0]:
            grid.insert(0, at(grid[0] / 2))
        elif best == grid[-1]:
            grid.append(at(grid[-1] * 2))
        else:
            break
    if refine:
        best = max(scores, key=scores.get)
        at(best / math.sqrt(2)), at(best * math.sqrt(2))
    return max(scores, key=scores.get), scores


def _tune(task, method, solve, clean, reg, start, sigma, sigmas, reuse=(), model=None):
    """Best (weight, sigma in /255 or None) on the held-out image, printing every evaluation."""
    t0 = time.perf_counter()
    if reg.startswith("tv"):
        sigma = None

    memo = {(d["weight"], d["sigma_255"]): d["psnr"] for d in reuse  # TV's do not depend on the model
            if d.get("stage") == "tune" and d.get("task") == task and d.get("method") == method
            and (reg.startswith("tv") or d.get("model") == model)}

    def evaluate(w, s):
        if (w, s) in memo:
            return memo[w, s]
        out = _run(solve, clean, reg, w, None if s is None else s / 255)
        print(json.dumps({"task": task, "stage": "tune", "method": method, "model": model, "weight": w,
                          "sigma_255": s, **out,
                          "load": _load()}), flush=True)
        memo[w, s] = out["psnr"]
        return out["psnr"]

    if reg.startswith("tv") or sigma is not None or sigmas is None:
        best, scores = _tune_weight(lambda w: evaluate(w, sigma), start, 5 if reg.startswith("tv") else 3)
        found = (best, sigma, scores[best])
    else:
        per_sigma = {}

        def tune_at(s, w0):
            if s not in per_sigma:
                w, scores = _tune_weight(lambda w: evaluate(w, s), w0, 3, refine=False)
                per_sigma[s] = (w, scores[w])
            return per_sigma[s]

        grid = sorted(sigmas)
        w0 = start
        for s in grid:
            w0 = tune_at(s, w0)[0]
        for _ in range(8):  # extend S while the best sits at an end of its grid
            best_s = max(grid, key=lambda s: per_sigma[s][1])
            if best_s == grid[0] and grid[0] > SIGMA_MIN:
                lower = grid[0] - (grid[1] - grid[0])
                grid.insert(0, max(lower if lower > 0 else grid[0] / 2, SIGMA_MIN))
                tune_at(grid[0], per_sigma[best_s][0])
            elif best_s == grid[-1] and grid[-1] + (grid[-1] - grid[-2]) <= SIGMA_MAX:
                grid.append(grid[-1] + (grid[-1] - grid[-2]))
                tune_at(grid[-1], per_sigma[best_s][0])
            else:
                break
        best_s = max(grid, key=lambda s: per_sigma[s][1])
        w, scores = _tune_weight(lambda w: evaluate(w, best_s), per_sigma[best_s][0], 3)  # the √2 neighbours
        found = (w, best_s, scores[w])
        edge = best_s in (grid[0], grid[-1])
        print(json.dumps({"task": task, "stage": "tune-sigma", "method": method, "best_sigma_255": best_s,
                          "sigma_at_grid_edge": edge, "per_sigma": {str(s): {"weight": v[0], "psnr": round(v[1], 3)}
                                                                    for s, v in sorted(per_sigma.items())}}),
              flush=True)
    print(json.dumps({"task": task, "stage": "tuned", "method": method, "weight": found[0], "sigma_255": found[1],
                      "psnr": round(found[2], 3), "seconds": round(time.perf_counter() - t0, 1), "load": _load()}),
          flush=True)
    return found[0], found[1]


def _preload_published(name):
    """The published checkpoint ``name`` ("crr-published" or "wcrr-published"; its power iteration timed apart)."""
    import recon.learned.weights as weights

    t0 = time.perf_counter()
    reg = weights.published_regularizer(name)
    print(json.dumps({"stage": "load", "model": name, "seconds": round(time.perf_counter() - t0, 1)}), flush=True)
    return reg


def _versus_tv(task, folder, model, methods, sigma, sigmas, options, reuse=()):
    import recon.learned.weights as weights

    if model.endswith(".npz"):
        reg = load_npz(model)
        if reg.noise_scaling is None:  # trained at one noise level: no S to tune
            sigmas = None
    else:  # a name: "crr"/"wcrr" (shipped) or "crr-published"/"wcrr-published"
        reg = load_shipped(model) if model in ("crr", "wcrr") else _preload_published(model)
    ridge = "wcrr" if reg.extras.get("rho", reg.extras.get("meta", {}).get("rho", 0)) else "crr"
    weights._loaded[ridge] = reg  # method=ridge ("crr"/"wcrr" in CT) runs this model in this process
    kind = "ct" if task.startswith("ct") else task
    if task == "ct-phantom":
        tune_img, report = data.disks(CROP, dtype="float32"), {"shepp_logan": data.shepp_logan(CROP, dtype="float32")}
    else:
        files = sorted(Path(folder).glob("*.png"))
        tune_img, report = _crop(files[0]), {f.stem: _crop(f) for f in files[1:]}
    regs = {"tv": "tv", "tv-converged": "tv-converged", "ridge": ridge}
    tuned, start_all = {}, time.perf_counter()
    for method in methods:
        start = START[(kind, "tv" if method.startswith("tv") else "ridge")]
        tuned[method] = _tune(task, method, _problem(task, tune_img, 0, options), tune_img, regs[method], start,
                              sigma, sigmas, reuse, model)
    rows = {m: {} for m in methods}
    for i, (name, clean) in enumerate(report.items()):
        solve = _problem(task, clean, i + 1, options)
        line = {}
        for method in methods:
            w, s = tuned[method]
            rows[method][name] = out = _run(solve, clean, regs[method], w, None if s is None else s / 255)
            line[method] = {k: round(v, 3) if k == "psnr" else v for k, v in out.items()}
        print(json.dumps({"task": task, "stage": "report", "image": name, **line, "load": _load()}), flush=True)
    summary = {}
    for m, r in rows.items():
        summary[m] = {"weight": tuned[m][0], "sigma_255": tuned[m][1],
                      "mean_psnr": round(float(np.mean([v["psnr"] for v in r.values()])), 3),
                      "mean_iterations": round(float(np.mean([v["iterations"] for v in r.values()])), 1),
                      "all_converged": all(v["converged"] for v in r.values()),
                      "report_seconds": round(sum(v["seconds"] for v in r.values()), 1)}
    tv = next((m for m in ("tv-converged", "tv") if m in summary), None)
    if tv is not None:
        for m in summary:
            summary[m]["margin_vs_" + tv] = round(summary[m]["mean_psnr"] - summary[tv]["mean_psnr"], 3)
    print(json.dumps({"task": task, "stage": "summary", "model": model, "images": len(report), "methods": summary,
                      "options": options, "seconds": round(time.perf_counter() - start_all, 1), "load": _load()}),
          flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--versus-tv":
        import argparse

        parser = argparse.ArgumentParser()
        parser.add_argument("--versus-tv", dest="task", choices=("deblur", "ct", "ct-phantom"))
        parser.add_argument("folder")
        parser.add_argument("model")
        parser.add_argument("--methods", default="tv,ridge")
        parser.add_argument("--sigma", type=float, default=None,
                            help="fix the published model's noise level S (/255 units) instead of tuning it")
        parser.add_argument("--sigmas", default=",".join(str(s) for s in SIGMAS),
                            help="S grid (/255 units) tuned over when --sigma is not given (default: %(default)s)")
        parser.add_argument("--ridge-iters", type=int, default=None, help="ridge solver: iteration cap (app default)")
        parser.add_argument("--ridge-tol", type=float, default=None, help="ridge solver: tolerance (app default)")
        parser.add_argument("--reuse", default=None,
                            help="JSON lines of an earlier run with the same task, model and options: its tuning "
                                 "evaluations are taken instead of recomputed (the tuning rule is deterministic)")
        args = parser.parse_args()
        reuse = []
        if args.reuse:
            reuse = [json.loads(line) for line in Path(args.reuse).read_text().splitlines() if line.startswith("{")]
        methods = args.methods.split(",")
        if not set(methods) <= {"tv", "tv-converged", "ridge"}:
            raise SystemExit(f"--methods: tv, tv-converged, ridge; got {args.methods!r}")
        sigmas = sorted(float(v) for v in args.sigmas.split(","))
        if len(sigmas) < 2 or sigmas[0] <= 0:
            raise SystemExit(f"--sigmas: at least two values > 0, got {args.sigmas!r}")
        options = {k: v for k, v in (("iters", args.ridge_iters), ("tol", args.ridge_tol)) if v is not None}
        _versus_tv(args.task, args.folder, args.model, methods, args.sigma, sigmas, options, reuse)
    else:
        _denoise_table(sys.argv[1], sys.argv[2], float(sys.argv[3]), *sys.argv[4:6])
