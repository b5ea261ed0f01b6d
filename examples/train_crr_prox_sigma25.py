"""Train a CRR-NN at σ = 25 only through its exact proximal denoiser (CPU, ≤ 60 minutes).

Usage (resumes from the checkpoint when re-run; ``--export-only`` just exports it)::

    python examples/train_crr_prox_sigma25.py ../shared/data/images/bsd400-train run/crr25prox.pt \
        run/crr_sigma25_prox.npz [--minutes 55] [--threads 1] [--export-only]

Recipe (:func:`recon.learned.train_prox.train_crr_prox`): the denoiser trained is the one
:func:`recon.denoise` runs, argmin ½‖x − y‖² + λR(x) (accelerated gradient, relative change 1e-3),
differentiated implicitly (conjugate gradients on I + λWᵀDW, relative residual 1e-2); MSE loss,
batches of 32 random 40×40 patches (flips, rotations) of 392 BSD images, 8 held out for validation
(96×96 centre crops, prox to 1e-4, every 100 steps; the best state is kept); Adam, learning rates
5e-3 (kernels), 5e-5 (spline), 5e-3 (log scales), 1e-2 (log λ), decaying tenfold over the run.
These defaults are the recipe of ``data/crr_sigma25_prox_cpu55min.npz``, the ``reg="crr"`` fallback
until the multi-noise ``recon/learned/models/crr_cpu55min.npz`` (``examples/train_wcrr.py --rho 0``) replaced it; its
model card, with the measurements, is in git history; ``--batch``, ``--lr`` … override them and are recorded in the ``.npz``.
λ is folded into the activation on export, so the ``.npz`` is used with weight 1.  A log of every
step goes to the checkpoint's folder (``<checkpoint>.log.jsonl``).
"""
import argparse
import json
import time
from pathlib import Path

import torch

from recon.learned import save_npz
from recon.learned.train import to_regularizer
from recon.learned.train_prox import train_crr_prox

CONFIG = dict(batch=32, patch=40, sigma=25 / 255, lam=20.0, scale=5.0, init_clip=0.05, lr=5e-3, lr_spline=5e-5,
              lr_scale=5e-3, lr_lam=1e-2, decay=0.1, channels=(1, 4, 8, 60), size=5, knots=101, x_range=0.1,
              forward_tol=1e-3, forward_iters=300, backward_tol=1e-2, validation_images=8, validation_crop=96,
              validate_every=100, checkpoint_every=25, seed=0)
TUNABLE = ("batch", "lr", "lr_spline", "lr_lam", "decay", "forward_tol", "seed")  # command-line overrides of CONFIG

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
                            help=f"train_crr_prox's {key} (default {CONFIG[key]})")
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
    config = dict(recipe, time_limit=args.minutes * 60, steps=0 if args.export_only else None)
    model, history = train_crr_prox(args.images, checkpoint=args.checkpoint, log=log, **config)
    wall = time.perf_counter() - start
    reg = to_regularizer(model)
    train = history["train"]
    meta = dict(recipe, recipe="recon.learned.train_prox.train_crr_prox", minutes=args.minutes,
                threads=args.threads, steps_done=len(train), wall_seconds_this_call=round(wall, 1),
                train_seconds=round(train[-1]["seconds"], 1) if train else 0.0, lam_learned=reg.extras["lam"],
                best_step=history["best"][0] if history["best"] else None,
                validation=history["validation"])
    save_npz(args.output, reg, meta)
    print(json.dumps(meta))
