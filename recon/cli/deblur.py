"""``recon deblur``: :math:`\\min_x \\tfrac12\\|k * x - y\\|^2 + \\lambda R(x)` by FISTA (:func:`recon.deblur`).

The kernel is a named one (``gaussian --sigma``, ``disk --radius``, ``motion --length --angle``) or
a ``.npy`` file (2-D, finite, positive sum).
"""
from __future__ import annotations

import time
from pathlib import Path

from ._common import (
    UsageError,
    add_image_options,
    add_run_options,
    check_output,
    check_ridge,
    finite_float,
    load_input,
    nonnegative_float,
    positive_float,
    save_output,
    use_backend,
)

__all__ = ["KERNELS", "add_parser", "run"]

KERNELS = ("gaussian", "disk", "motion")


def add_parser(sub):
    p = sub.add_parser("deblur", help="min_x 1/2||k * x - y||^2 + weight R(x)",
                       description="Deblur an image: min_x 1/2||k * x - y||^2 + weight R(x), by FISTA.")
    add_image_options(p, weight_default=1e-3, iters_default=300, tol_default=1e-5)
    add_run_options(p)
    p.add_argument("--kernel", default="gaussian",
                   help="blur kernel: gaussian, disk, motion, or a .npy file (default: %(default)s)")
    p.add_argument("--sigma", type=positive_float, default=2.0, help="gaussian: standard deviation in pixels")
    p.add_argument("--noise-sigma", type=positive_float, default=None,
                   help="learned --reg (crr, wcrr, *-published): noise level in image units (--sigma is the blur here)")
    p.add_argument("--radius", type=nonnegative_float, default=3.0, help="disk: radius in pixels")
    p.add_argument("--length", type=positive_float, default=9.0, help="motion: length in pixels (>= 1)")
    p.add_argument("--angle", type=finite_float, default=0.0, help="motion: direction in degrees")
    p.add_argument("--boundary", default="periodic", choices=("periodic", "zero"),
                   help="boundary of the blur model (default: %(default)s)")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from .. import deblur

    out = check_output(args.output, args.force)
    with use_backend(args.backend):
        kernel = _kernel(args)
        y = load_input(args.input)
        if any(k > n for k, n in zip(kernel.shape, y.shape)):
            raise UsageError(f"--kernel: kernel of shape {tuple(kernel.shape)} is larger than the image "
                             f"{tuple(y.shape)}")
        check_ridge(args)
        start = time.perf_counter()
        result = deblur(y, kernel, args.reg, weight=args.weight, sigma=args.noise_sigma, boundary=args.boundary,
                        iters=args.iters, tol=args.tol, progress=args.progress, return_result=True)
        seconds = time.perf_counter() - start
        save_output(out, result.x, args.force)
    print(f"recon deblur: wrote {out} ({args.reg}, weight {args.weight:g}, {result.iterations} iterations, "
          f"{seconds:.2f} s)")
    return 0


def _kernel(args):
    from ..operators import disk_kernel, gaussian_kernel, motion_kernel

    name = args.kernel
    if name == "gaussian":
        return gaussian_kernel(args.sigma)
    if name == "disk":
        return disk_kernel(args.radius)
    if name == "motion":
        if args.length < 1:
            raise UsageError(f"--length: must be >= 1, got {args.length}")
        return motion_kernel(args.length, args.angle)
    if Path(name).suffix.lower() != ".npy":
        raise UsageError(f"--kernel: must be one of {', '.join(KERNELS)} or a .npy file, got {name!r}")
    from ..data import load_image

    try:
        kernel = load_image(name)
        _check_kernel_values(kernel)
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"--kernel: {err}") from None
    return kernel


def _check_kernel_values(kernel):
    from ..backend import array_namespace, check_finite

    xp = array_namespace(kernel)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D, got shape {tuple(kernel.shape)}")
    check_finite(kernel, "kernel")
    if not float(xp.sum(kernel)) > 0:
        raise ValueError(f"kernel must have a positive sum, got {float(xp.sum(kernel))}")
