"""Train the CRR-NN that recon ships (data/crr_sigma25_<tag>.npz): a short CPU run, σ = 25.

Usage (2 CPU cores, ~25 minutes; resumes from the checkpoint when re-run)::

    nice -n 5 python examples/train_crr_sigma25.py ../shared/data/images/bsd400-train run/crr25.pt \
        data/crr_sigma25_cpu25min.npz

The recipe: t-step denoiser (t = 10) with a learned λ, batches of 16 patches of 40×40, Adam
(lr 2e-3), at most 23 minutes of training; then the weights go to a torch-free ``.npz``
(:func:`recon.learned.save_npz`).  The authors' full recipe (GPU) uses 6000 batches of 128.
"""
import json
import sys
import time

import torch

from recon.learned import save_npz
from recon.learned.train import to_regularizer, train_crr

CONFIG = dict(steps=3000, batch=16, patch=40, sigma=25 / 255, t=10, lam=5.0, learn_lam=True, lr=2e-3,
              channels=(1, 4, 8, 60), size=5, knots=101, checkpoint_every=25, time_limit=23 * 60, seed=0)

if __name__ == "__main__":
    images, checkpoint, out = sys.argv[1:4]
    torch.set_num_threads(1)  # leave the second core to the rest of the machine
    start = time.perf_counter()
    model, losses = train_crr(images, checkpoint=checkpoint, **CONFIG)
    wall = time.perf_counter() - start
    reg = to_regularizer(model)
    meta = dict(CONFIG, steps_done=len(losses), wall_seconds=round(wall, 1), sigma_trained=25 / 255,
                final_loss=sum(losses[-25:]) / max(len(losses[-25:]), 1))
    save_npz(out, reg, meta)
    print(json.dumps(meta))
