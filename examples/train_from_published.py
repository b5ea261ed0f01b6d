"""Diagnostic: run recon's multi-noise trainer from the published convex CRR-NN instead of a random start.

If recon's training objective and gradients agree with the authors', their trained model is close to
a stationary point of it, so a few steps at a small learning rate should keep its validation PSNR;
a large learning rate shows how far the step noise alone pushes a good model.

Usage::

    python examples/train_from_published.py ../shared/data/weights/crr-nn-wcrr-repo \
        ../shared/data/images/bsd400-train STEPS LR_SCALE [--validate-every 50] [--threads 2]

``LR_SCALE`` multiplies every learning rate of the recipe in ``examples/train_wcrr.py`` (which also
decays them tenfold over the ``STEPS``).  Prints the validation PSNR (mean and σ = 5, 15, 25 on the
8 held-out BSD crops of that recipe) after step 1 (``STEPS`` = 1, ``LR_SCALE`` ~ 0: the published model
itself) or every ``--validate-every`` steps.  Needs torch and the shared data folder.

The start is ``init=load_published(folder)`` (:func:`~recon.learned.wcrr_model.start_from` splits its activation).
``--random-kernels`` starts the convolutions from the trainer's random draw instead and learns only them,
holding the published activation, noise scaling and μ fixed (their rates 0): can this budget learn W
when the rest of the model is the authors'?  ``--batch`` sets the batch (default 32).
"""
import argparse
import math
import time

import numpy as np
import torch

from recon.functionals import RidgeRegularizer
from recon.learned import load_published
from recon.learned.train_wcrr import WCRRConfig, train_wcrr

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint_folder")
    parser.add_argument("images")
    parser.add_argument("steps", type=int)
    parser.add_argument("lr_scale", type=float)
    parser.add_argument("--validate-every", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--random-kernels", action="store_true",
                        help="random start for W, learn only W (published activation, scaling and mu held fixed)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    published = load_published(args.checkpoint_folder)  # ||W|| = 1 by the authors' 200 power steps
    if published.extras["rho"] != 0:
        raise SystemExit("checkpoint_folder must hold a convex model (rho_wcvx = 0), e.g. crr-nn-wcrr-repo")
    print(f"published: mu {published.extras['mu']:.4g}, noise-scaling splines "
          f"{published.noise_scaling.coefficients.shape}", flush=True)
    config = WCRRConfig(rho=0.0, batch=args.batch, validate_every=args.validate_every)
    start = published
    if args.random_kernels:  # train_wcrr's own random draw for W (its first use of the seed), the rest published
        rng = np.random.default_rng(config.seed)
        kernels = [rng.standard_normal((co, ci, config.size, config.size)) / (config.size * math.sqrt(ci))
                   for ci, co in zip(config.channels[:-1], config.channels[1:])]
        start = RidgeRegularizer(kernels, published.activation, noise_scaling=published.noise_scaling,
                                 norm_shape=published.norm_shape)
        start.extras = dict(published.extras)
    t0 = time.time()

    def log(entry):
        if "validation_psnr" in entry:
            print(f"step {entry['step']}: validation {entry['validation_psnr']:.3f} dB "
                  f"({', '.join(f'{s:.3f}' for s in entry['validation_per_sigma'])}), {time.time() - t0:.0f} s",
                  flush=True)

    s = args.lr_scale
    t = 0.0 if args.random_kernels else s
    _, history = train_wcrr(args.images, config, steps=args.steps, init=start, lr=5e-3 * s, lr_spline=5e-5 * t,
                            lr_scaling=5e-3 * t, lr_mu=1e-2 * t, log=log)
    train = history["train"]
    print(f"{len(train)} steps, {train[-1]['seconds'] / len(train):.2f} s/step, "
          f"mean forward iterations {np.mean([h['forward'] for h in train]):.0f}, final mu {train[-1]['mu']:.4g}")
