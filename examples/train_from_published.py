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

``--random-kernels`` starts the convolutions from the trainer's random draw instead and learns only them,
holding the published activation, noise scaling and μ fixed (their rates 0): can this budget learn W
when the rest of the model is the authors'?  ``--batch`` sets the batch (default 32).
"""
import argparse
import math
import time

import numpy as np
import torch

import recon.learned.train_wcrr as trainer
from recon.learned import weights

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

    config, state = weights._read(args.checkpoint_folder)
    if float(config.get("rho_wcvx", 1)) != 0:
        raise SystemExit("checkpoint_folder must hold a convex model (rho_wcvx = 0), e.g. crr-nn-wcrr-repo")
    kernels = []
    for layer in range(len(config["multi_convolution"]["num_channels"]) - 1):
        k = state.get(f"conv_layer.conv_layers.{layer}.weight",
                      state.get(f"conv_layer.conv_layers.{layer}.parametrizations.weight.original"))
        kernels.append(k - k.mean(axis=(1, 2, 3), keepdims=True) if layer == 0 else k)
    kernels[0] = kernels[0] / math.sqrt(weights._power_method(kernels, 200))  # ||W|| = 1, as load_published
    spline = config["spline_activation"]
    mu = math.exp(float(state["mu_"]))
    print(f"published: mu {mu:.4g}, noise-scaling splines {state['spline_scaling.coefficients'].shape}", flush=True)

    build = trainer.TorchWCRR

    def published(start_kernels, *_, **__):  # train_wcrr builds its start through TorchWCRR: hand it the
        # published model (with train_wcrr's own random kernels under --random-kernels)
        return build(start_kernels if args.random_kernels else kernels,
                     state["activation_cvx.coefficients"].reshape(-1), state["activation_ccv.coefficients"].reshape(-1),
                     mu, state["spline_scaling.coefficients"],
                     x_min=spline["x_min"], x_max=spline["x_max"], rho=0.0, sigma_max=config["noise_range"][1] / 255)

    trainer.TorchWCRR = published
    start = time.time()

    def log(entry):
        if "validation_psnr" in entry:
            print(f"step {entry['step']}: validation {entry['validation_psnr']:.3f} dB "
                  f"({', '.join(f'{s:.3f}' for s in entry['validation_per_sigma'])}), {time.time() - start:.0f} s",
                  flush=True)

    s = args.lr_scale
    t = 0.0 if args.random_kernels else s
    _, history = trainer.train_wcrr(args.images, steps=args.steps, rho=0.0, validate_every=args.validate_every,
                                    batch=args.batch, lr=5e-3 * s, lr_spline=5e-5 * t, lr_scaling=5e-3 * t,
                                    lr_mu=1e-2 * t, log=log)
    train = history["train"]
    print(f"{len(train)} steps, {train[-1]['seconds'] / len(train):.2f} s/step, "
          f"mean forward iterations {np.mean([h['forward'] for h in train]):.0f}, final mu {train[-1]['mu']:.4g}")
