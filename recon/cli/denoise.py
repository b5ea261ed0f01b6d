"""``recon denoise``: :math:`\\min_x \\tfrac12\\|x - y\\|^2 + \\lambda R(x)` (:func:`recon.denoise`), or Bregman.

With ``--bregman`` (TV only) the Bregman iterations add the residual back and restore the contrast
that TV removes, stopped by the discrepancy principle when ``--noise-sigma`` is given.
"""
from __future__ import annotations

import math
import time

from ._common import (
    UsageError,
    add_image_options,
    add_run_options,
    check_output,
    check_ridge,
    load_input,
    nonnegative_float,
    save_output,
    use_backend,
)

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("denoise", help="min_x 1/2||x - y||^2 + weight R(x)",
                       description="Denoise an image: min_x 1/2||x - y||^2 + weight R(x).")
    add_image_options(p, weight_default=None, iters_default=None, tol_default=None)
    add_run_options(p)
    p.add_argument("--bregman", action="store_true",
                   help="Bregman iterations (tv only): add back the residual, restoring contrast that TV removes")
    p.add_argument("--noise-sigma", "--sigma", type=nonnegative_float, default=None, dest="noise_sigma",
                   help="noise standard deviation per pixel in image units (0.098 for 25/255 on a [0, 1] image): "
                        "required by a learned --reg (crr, wcrr, *-published); with --bregman it stops by the "
                        "discrepancy principle")
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from .. import denoise

    out = check_output(args.output, args.force)
    with use_backend(args.backend):
        y = load_input(args.input)
        start = time.perf_counter()
        if args.bregman:
            result = _bregman(y, args)
        else:
            check_ridge(args)
            result = denoise(y, args.reg, weight=args.weight, sigma=args.noise_sigma, iters=args.iters,
                             tol=args.tol, progress=args.progress, return_result=True)
        seconds = time.perf_counter() - start
        save_output(out, result.x, args.force)
    how = f"Bregman, {result.iterations} iterations" if args.bregman else args.reg
    weight = "default" if args.weight is None else f"{args.weight:g}"
    print(f"recon denoise: wrote {out} ({how}, weight {weight}, {seconds:.2f} s; {result.message})")
    return 0


def _bregman(y, args):
    from ..functionals import TV
    from ..solvers import bregman

    if args.reg != "tv":
        raise UsageError(f"--bregman: needs --reg tv, got {args.reg!r}")
    args.weight = 0.1 if args.weight is None else args.weight
    if not args.weight > 0:
        raise UsageError(f"--weight: must be > 0 with --bregman, got {args.weight}")
    noise = None
    if args.noise_sigma is not None:
        noise = args.noise_sigma * math.sqrt(math.prod(y.shape))  # the norm of the noise vector
    tv = TV(inner_tol=args.tol if args.tol else 1e-5, inner_iters=2000)
    return bregman(None, y, tv, tau=1.0 / args.weight, iters=args.iters or 10, tol=0.0, noise_level=noise,
                   progress=args.progress)
