"""WCRR denoising on a 512×512 image: recon (NumPy) against a PyTorch implementation of the same model.

Model: the published WCRR-NN (``../shared/data/weights/wcrr-nn`` or ``$RECON_SHARED_DATA``; read
with torch) at σ = 25/255 when readable; otherwise the WCRR-NN recon ships (``data/wcrr_cpu55min.npz``,
same architecture: 1 → 4 → 8 → 60 channels of 5×5 filters, one shared activation, 1-weakly convex) at
the same σ.  The PyTorch peer is
:func:`recon.learned.train.from_regularizer`: ``conv2d`` (its transpose as ``conv2d`` with flipped kernels,
:func:`recon.learned.train.conv_transpose`) and a gathered linear
spline, the model recon's trainer uses.

Problem: ``skimage.data.camera()`` in [0, 1], Gaussian noise σ = 25/255 (seeded), float32.  Cases:

* ``grad``: one evaluation of ∇R = Wᵀσ(Wx), best of ``--repeat``, interleaved with the PyTorch runs;
* ``denoise``: the proximal denoiser (λ = 1, accelerated gradient with gradient restart, the same
  step 1/(1 + λL) for both) for exactly ``--iters`` iterations (tol 0, so both run the same
  number of steps), best of ``--denoise-repeat`` (interleaved); ``per_iteration_s`` is total / iterations;
* ``denoise_tol`` (with ``--tol-case``): the same until relative change 1e-4 (iteration counts may
  then differ by rounding).

Each line has the PyTorch time beside recon's and ``ratio = recon / torch`` (below 1: recon faster),
the PSNR of both results and their largest difference, the thread counts and the 1-minute load.

Threads: ``--threads N`` gives both sides N threads: ``torch.set_num_threads(N)`` and, for recon,
``OPENBLAS_NUM_THREADS``/``MKL_NUM_THREADS``/``OMP_NUM_THREADS`` set before NumPy loads (recon runs
the row blocks of its multi-convolution on as many threads as the BLAS is set to, see
``recon/operators/block_threads.py``; that needs threadpoolctl, else one thread).  Without it,
each side takes its library's default (all cores for both).  ``blas_threads`` reports the BLAS
setting.

    nice python benchmarks/bench_ridge.py [--repeat 3] [--iters 100] [--denoise-repeat 1] [--threads N]
                                          [--backend numpy|cupy] [--quick]

``--backend cupy`` moves the regularizer and the image to the GPU (``reg.to("cupy")``) and times recon
there; the PyTorch peer stays on the CPU.  ``--quick`` crops the image to 64x64 with 3 iterations, one repeat.

One JSON line per case on stdout.  The machine may be shared: compare ratios from the same run.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from backends import add_arguments, describe, select, sync, to_backend, to_host

SIGMA = 25 / 255
_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def _blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.environ.get("OPENBLAS_NUM_THREADS")
    return [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]


def _shipped_wcrr():
    """recon's own WCRR-NN file: package data (recon/learned/models/), or data/ of an older checkout."""
    from importlib.resources import files
    from pathlib import Path

    packaged = files("recon.learned") / "models" / "wcrr_cpu55min.npz"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[1] / "data" / "wcrr_cpu55min.npz"


def _model():
    from pathlib import Path

    from recon.learned import load_npz, load_published

    root = Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
    folder = root / "weights" / "wcrr-nn"
    if folder.is_dir():
        return load_published(folder).at_noise_level(SIGMA), "published wcrr-nn"
    return load_npz(_shipped_wcrr()).at_noise_level(SIGMA), "recon's shipped wcrr_cpu55min"


def _best_pair(fn_recon, fn_torch, repeat):
    """Best of ``repeat`` timings of each, interleaved (recon, torch, recon, ...) so load drifts hit both."""
    times, outs = ([], []), [None, None]
    for _ in range(repeat):
        for i, fn in enumerate((fn_recon, fn_torch)):
            t0 = time.perf_counter()
            outs[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return min(times[0]), outs[0], min(times[1]), outs[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="gradient timings: best of this many")
    parser.add_argument("--iters", type=int, default=100, help="denoise: iterations for both (tol 0)")
    parser.add_argument("--denoise-repeat", type=int, default=1, help="denoise timings: best of this many")
    parser.add_argument("--tol-case", action="store_true", help="also run both to relative change 1e-4")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    add_arguments(parser)
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.iters, args.denoise_repeat, args.tol_case = 1, 3, 1, False
    if args.threads:
        if "numpy" in sys.modules:  # pragma: no cover - the variables would be read too late
            raise RuntimeError("--threads must be applied before NumPy is imported")
        for name in _THREAD_VARIABLES:
            os.environ[name] = str(args.threads)
    import numpy as np
    import torch

    from recon.data import camera
    from recon.learned.train import from_regularizer
    from recon.metrics import psnr

    if args.threads:
        torch.set_num_threads(args.threads)
    select(args.backend)
    reg, source = _model()
    clean = camera(dtype="float32")
    if args.quick:
        clean = clean[:64, :64]
    noisy = (clean + SIGMA * np.random.default_rng(0).standard_normal(clean.shape)).astype(np.float32)
    twin = from_regularizer(reg).requires_grad_(False)  # from the NumPy regularizer: the peer stays on the CPU
    tnoisy = torch.from_numpy(noisy)[None, None]
    if args.backend != "numpy":
        reg = reg.to(args.backend)
    noisy_host, noisy = noisy, to_backend(noisy)

    def timed(fn):
        def run():
            out = fn()
            sync()
            return out
        return run
    step = 1.0 / (1.0 + reg.lipschitz)  # lambda = 1; passed to both (the twin assumes ||W|| = 1)

    def common():
        return {"model": source, **describe(), "shape": list(noisy.shape), "dtype": "float32",
                "torch": torch.__version__,
                "torch_threads": torch.get_num_threads(), "blas_threads": _blas_threads(), "cpus": os.cpu_count(),
                "load_1min": round(os.getloadavg()[0], 2), "weak_convexity": round(reg.weak_convexity, 3)}

    reg.grad(noisy), twin.grad(tnoisy)  # warm-up: caches, allocator, oneDNN primitives
    with torch.no_grad():
        t_recon, g, t_torch, tg = _best_pair(timed(lambda: reg.grad(noisy)), lambda: twin.grad(tnoisy), args.repeat)
    print(json.dumps({"case": "grad", **common(), "recon_s": round(t_recon, 4), "torch_s": round(t_torch, 4),
                      "ratio": round(t_recon / t_torch, 3),
                      "max_abs_diff": float(np.max(np.abs(to_host(g) - tg[0, 0].numpy())))}), flush=True)

    cases = [("denoise", 0.0, args.iters)] + ([("denoise_tol", 1e-4, 500)] if args.tol_case else [])
    for case, tol, iters in cases:
        t_recon, (x, k), t_torch, (tx, tk) = _best_pair(
            timed(lambda tol=tol, iters=iters: reg.prox_with_info(noisy, 1.0, tol=tol, iters=iters, step=step)),
            lambda tol=tol, iters=iters: twin.prox(tnoisy, 1.0, tol=tol, iters=iters, step=step), args.denoise_repeat)
        tx, x = tx[0, 0].numpy(), to_host(x)
        print(json.dumps({"case": case, **common(), "sigma": "25/255", "lambda": 1.0, "tol": tol,
                          "recon_s": round(t_recon, 3), "torch_s": round(t_torch, 3),
                          "ratio": round(t_recon / t_torch, 3), "recon_iterations": k, "torch_iterations": tk,
                          "recon_per_iteration_s": round(t_recon / k, 4),
                          "torch_per_iteration_s": round(t_torch / tk, 4),
                          "noisy_psnr": round(psnr(noisy_host, clean, data_range=1), 3),
                          "recon_psnr": round(psnr(x, clean, data_range=1), 3),
                          "torch_psnr": round(psnr(tx, clean, data_range=1), 3),
                          "max_abs_diff": float(np.max(np.abs(x - tx)))}), flush=True)


if __name__ == "__main__":
    main()
