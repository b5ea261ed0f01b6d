"""Train a WCRR-NN (or, with ``--rho 0``, a convex CRR-NN) for all noise levels σ ∈ [0, 30]/255 (CPU, ≤ 60 minutes).

Both models recon ships were made with it: ``recon/learned/models/wcrr_cpu55min.npz`` and, with
``--rho 0 --batch 64 --mu 100 --lr-mu 0 --lr-spline 0`` (μ and the Huber-shaped φ_cvx held, W and the noise
scaling learnt; 40 minutes), ``recon/learned/models/crr_cpu55min.npz`` (their model cards, the ``.md`` beside
each, give the commands and the Set12 PSNR).

Usage (resumes from the checkpoint when re-run; ``--export-only`` just exports it)::

    python examples/train_wcrr.py ../shared/data/images/bsd400-train run/wcrr.pt run/wcrr.npz \
        [--minutes 55] [--threads 1] [--rho 1] [--export-only]

Recipe (:func:`recon.learned.train_wcrr.train_wcrr` with :class:`~recon.learned.train_wcrr.WCRRConfig`, the
authors' multi-noise objective): every
patch gets its own noise level, uniform in [0, 30]/255; the denoiser trained is the one
:func:`recon.denoise` runs, argmin ½‖x − y‖² + R_σ(x) (accelerated gradient, relative change 1e-3),
differentiated implicitly (conjugate gradients, relative residual 1e-2); MSE loss, batches of 32
random 40×40 patches of 392 BSD images (flips, rotations), 8 held out for validation (96×96 centre
crops at σ = 5, 15, 25; the best mean is kept); Adam, learning rates 5e-3 (kernels), 5e-5 (splines),
5e-3 (noise scaling), 1e-2 (log μ), decaying tenfold over the run; φ_cvx starts at
clip(t, ±0.002), the published convex model's shape (``--init-clip``; against the library's default, 0.05, it
gave 0.3–0.45 dB more at σ = 25 and 0.4–0.65 dB less at σ = 5 on Set12, see the model cards).  The ``.npz`` keeps the noise
scaling: ``recon.learned.load_npz(path).at_noise_level(sigma)``, or ``recon.denoise(y, reg=..., sigma=...)``.
A log of every step goes to ``<checkpoint>.log.jsonl``.

``--ema 0.99`` validates, keeps and exports a moving average of the iterates instead of the last one
(Polyak–Ruppert averaging); on this recipe it gave the same model (``recon/learned/models/crr_cpu55min.md``), so it is off by default.

To train longer than one sitting, continue from an export with a fresh optimiser and smaller rates::

    python examples/train_wcrr.py IMAGES run2.pt run2.npz --init run1.npz --lr-scale 0.3 [same flags as run 1]
"""
import argparse
import dataclasses
import json
import math
import time
from pathlib import Path

import torch

from recon.learned import load_npz, save_npz
from recon.learned.train_wcrr import WCRRConfig, to_regularizer, train_wcrr

RECIPE = WCRRConfig(init_clip=0.002)  # the library's defaults but the published convex model's start for phi_cvx
CONFIG = {k: v for k, v in dataclasses.asdict(RECIPE).items() if k != "validation_sigmas"}  # what the meta records
TUNABLE = ("rho", "batch", "lr", "lr_spline", "lr_concave", "lr_scaling", "lr_mu", "decay", "mu", "scale", "init_clip",
           "seed", "ema")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images")
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    parser.add_argument("--minutes", type=float, default=55.0, help="training time limit (default 55)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    for key in TUNABLE:
        kind = int if isinstance(CONFIG[key], int) else float
        parser.add_argument("--" + key.replace("_", "-"), type=kind, default=CONFIG[key],
                            help=f"train_wcrr's {key} (default {CONFIG[key]})")
    parser.add_argument("--init", help="continue from this .npz export of an earlier run (fresh optimiser; "
                        "give smaller rates, e.g. --lr-scale 0.3)")
    parser.add_argument("--lr-scale", type=float, default=1.0, help="multiplies lr, lr-spline, lr-concave, "
                        "lr-scaling and lr-mu (default 1)")
    parser.add_argument("--export-only", action="store_true")
    args = parser.parse_args()
    if Path(args.output).exists() and not args.export_only:
        raise SystemExit(f"output exists, not overwritten: {args.output}")
    torch.set_num_threads(args.threads)
    logfile = open(str(args.checkpoint) + ".log.jsonl", "a")

    def log(entry):
        logfile.write(json.dumps(entry) + "\n")
        logfile.flush()

    start = time.perf_counter()
    recipe = dict(CONFIG, **{key: getattr(args, key) for key in TUNABLE})
    if not (args.lr_scale > 0 and math.isfinite(args.lr_scale)):
        raise SystemExit(f"--lr-scale must be a finite number > 0, got {args.lr_scale}")
    for key in ("lr", "lr_spline", "lr_concave", "lr_scaling", "lr_mu"):
        if recipe[key] is not None:
            recipe[key] *= args.lr_scale
    init = None
    if args.init:
        init = load_npz(args.init)
        recipe["init"] = str(args.init)
    config = dataclasses.replace(RECIPE, **{k: v for k, v in recipe.items() if k != "init"})
    model, history = train_wcrr(args.images, config, init=init, time_limit=args.minutes * 60,
                                steps=0 if args.export_only else None, checkpoint=args.checkpoint, log=log)
    wall = time.perf_counter() - start
    reg = to_regularizer(model)
    train = history["train"]
    meta = dict(recipe, recipe="recon.learned.train_wcrr.train_wcrr", lr_scale=args.lr_scale, minutes=args.minutes,
                threads=args.threads,
                steps_done=len(train), wall_seconds_this_call=round(wall, 1),
                train_seconds=round(train[-1]["seconds"], 1) if train else 0.0, mu_learned=reg.extras["mu"],
                best_step=history["best"][0] if history["best"] else None, validation=history["validation"])
    tmp = Path(str(args.output) + ".tmp.npz")
    save_npz(tmp, reg, meta)
    tmp.replace(args.output)  # atomic: a partial file never carries the output's name
    print(json.dumps({k: v for k, v in meta.items() if k != "validation"}))
