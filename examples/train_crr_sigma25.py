"""Train a CRR-NN with the t-step recipe (data/crr_sigma25_<tag>.npz, in git history): a short CPU run, σ = 25.

The t-step recipe of the model recon shipped before the prox-trained one
(``examples/train_crr_prox_sigma25.py``).  Usage (2 CPU cores, ~25 minutes; resumes from the
checkpoint when re-run)::

    nice -n 5 python examples/train_crr_sigma25.py ../shared/data/images/bsd400-train run/crr25.pt \
        run/crr_sigma25_tstep.npz [--export-only]

The recipe: t-step denoiser (t = 10) with a learned λ, batches of 16 patches of 40×40, Adam
(lr 2e-3; 2e-2 for log λ), at most 23 minutes of training.  Then λ is calibrated for the
*proximal* denoiser that :func:`recon.denoise` runs: the 10-step denoiser is trained with
step 1/(1 + λL), and λ grows (to ~130) until the 10 steps act mostly as gradient steps on R,
whereas the minimiser of ½‖x - y‖² + λR would then be far too smooth.  The factor on λ that
maximises the mean PSNR of the prox on 6 training images (not Set12) is folded into the activation.  The weights go to a torch-free
``.npz`` (:func:`recon.learned.save_npz`).  ``--export-only`` skips training and exports the
checkpoint.  The authors' full recipe (GPU) uses 6000 batches of 128 patches.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from recon import denoise, metrics
from recon.functionals import RidgeRegularizer
from recon.functionals.splines import LinearSpline
from recon.io import read_image
from recon.learned import save_npz
from recon.learned.train import to_regularizer, train_crr

CONFIG = dict(steps=3000, batch=16, patch=40, sigma=25 / 255, t=10, lam=5.0, learn_lam=True, lr=2e-3,
              channels=(1, 4, 8, 60), size=5, knots=101, checkpoint_every=25, time_limit=23 * 60, seed=0)
FACTORS = (0.04, 0.06, 0.08, 0.1, 0.13, 0.17, 0.22, 0.3)  # the learned lambda drifts high: see the model card


def calibrate(reg, images, sigma, n=6, seed=1):
    """The factor on λ maximising the mean prox-denoiser PSNR on ``n`` training images."""
    files = sorted(Path(images).glob("*.png"))
    picks = np.random.default_rng(seed).choice(len(files), n, replace=False)
    scores = {}
    for f in FACTORS:
        psnrs = []
        for i in picks:
            clean = np.asarray(read_image(files[i]), dtype=np.float32)
            noisy = (clean + sigma * np.random.default_rng(int(i)).standard_normal(clean.shape)).astype(np.float32)
            psnrs.append(metrics.psnr(denoise(noisy, reg=reg, weight=f), clean, data_range=1.0))
        scores[f] = float(np.mean(psnrs))
    best = max(scores, key=scores.get)
    a = reg.activation
    out = RidgeRegularizer(reg.kernels, LinearSpline(best * a.coefficients, a.x_min, a.x_max), scale=reg.scale,
                           w_norm=reg.w_norm, norm_shape=reg.norm_shape)
    return out, best, scores


if __name__ == "__main__":
    images, checkpoint, out = sys.argv[1:4]
    config = dict(CONFIG, steps=0) if "--export-only" in sys.argv[4:] else CONFIG
    torch.set_num_threads(1)  # leave the second core to the rest of the machine
    start = time.perf_counter()
    model, losses = train_crr(images, checkpoint=checkpoint, **config)
    wall = time.perf_counter() - start
    base = to_regularizer(model)
    reg, factor, scores = calibrate(base, images, CONFIG["sigma"])
    meta = dict(CONFIG, steps_done=len(losses), wall_seconds_this_call=round(wall, 1), lam_learned=base.extras["lam"], lam_factor=factor, calibration=scores,
                final_loss=float(np.mean(losses[-25:])))
    save_npz(out, reg, meta)
    print(json.dumps(meta))
