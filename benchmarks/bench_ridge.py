"""WCRR denoising on a 512×512 image: recon (NumPy) against a PyTorch implementation of the same model.

Model: the published WCRR-NN (``../shared/data/weights/wcrr-nn`` or ``$RECON_SHARED_DATA``; read
with torch), or, when that is absent, a random model of the same architecture (1 → 4 → 8 → 60
channels, 5×5, 101-knot activation; iteration counts then mean little).  The PyTorch peer is
:func:`recon.learned.train.from_regularizer`: ``conv2d``/``conv_transpose2d`` and a gathered linear
spline, the model recon's trainer uses, run with the same float32 data and the same accelerated
gradient with restart (λ = 1, tol 1e-4).

Problem: ``skimage.data.camera()`` in [0, 1], Gaussian noise σ = 25/255 (seeded).  Cases:
``grad`` (one evaluation of ∇R = Wᵀσ(Wx), best of ``--repeat``) and ``denoise`` (the full prox,
best of ``--repeat``), each with the PyTorch time beside recon's and ``ratio = recon / torch``
(below 1: recon faster).  Also the PSNR of both results and their largest difference.

    python benchmarks/bench_ridge.py [--repeat 3] [--threads N]

One JSON line per case on stdout.  The machine may be shared: compare ratios from the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from recon.data import camera
from recon.metrics import psnr

SIGMA = 25 / 255


def _model():
    from recon.learned.weights import load_published, shared_data_root

    folder = shared_data_root() / "weights" / "wcrr-nn"
    if folder.is_dir():
        return load_published(folder).at_noise_level(SIGMA), "published wcrr-nn"
    from recon.functionals import LinearSpline, RidgeRegularizer

    rng = np.random.default_rng(0)
    ks = [rng.standard_normal(s).astype(np.float32) / 10 for s in [(4, 1, 5, 5), (8, 4, 5, 5), (60, 8, 5, 5)]]
    grid = np.linspace(-0.1, 0.1, 101)
    return RidgeRegularizer(ks, LinearSpline(np.clip(grid, -0.05, 0.05), -0.1, 0.1)), "random, same architecture"


def _best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args()
    import torch

    from recon.learned.train import from_regularizer

    if args.threads:
        torch.set_num_threads(args.threads)
    reg, source = _model()
    clean = camera(dtype="float32")
    noisy = (clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)
    twin = from_regularizer(reg).requires_grad_(False)
    tnoisy = torch.from_numpy(noisy)[None, None]
    common = {"model": source, "shape": list(noisy.shape), "dtype": "float32", "torch": torch.__version__,
              "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count()}

    reg.grad(noisy), twin.grad(tnoisy)  # warm-up: caches, allocator, oneDNN primitives
    t_recon, g = _best(lambda: reg.grad(noisy), args.repeat)
    with torch.no_grad():
        t_torch, tg = _best(lambda: twin.grad(tnoisy), args.repeat)
    print(json.dumps({"case": "grad", **common, "recon_s": round(t_recon, 4), "torch_s": round(t_torch, 4),
                      "ratio": round(t_recon / t_torch, 3),
                      "max_abs_diff": float(np.max(np.abs(g - tg[0, 0].numpy())))}), flush=True)

    t_recon, (x, k) = _best(lambda: reg.prox_with_info(noisy, 1.0, tol=1e-4), args.repeat)
    t_torch, (tx, tk) = _best(lambda: twin.prox(tnoisy, 1.0, tol=1e-4), args.repeat)
    tx = tx[0, 0].numpy()
    print(json.dumps({"case": "denoise", **common, "sigma": "25/255", "lambda": 1.0, "tol": 1e-4,
                      "recon_s": round(t_recon, 3), "torch_s": round(t_torch, 3), "ratio": round(t_recon / t_torch, 3),
                      "recon_iterations": k, "torch_iterations": tk, "recon_psnr": round(psnr(x, clean, data_range=1), 3),
                      "torch_psnr": round(psnr(tx, clean, data_range=1), 3),
                      "max_abs_diff": float(np.max(np.abs(x - tx)))}), flush=True)


if __name__ == "__main__":
    main()
