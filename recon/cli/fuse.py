"""``recon fuse``: read a band and a photo, fuse them (:func:`recon.fuse`), write the image and the kernel.

Inputs are ``.mat`` files (fields ``data`` and ``side_info``, as in the dTV fusion data sets) or
images; the estimated kernel goes to ``<output stem>_kernel.png`` beside the image.  Every check
runs before the fusion, so a failed command writes nothing.
"""
from __future__ import annotations

import time
from pathlib import Path

from ._common import UsageError, add_run_options, check_new, check_output, nonnegative_float, positive_int, save_output

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("fuse", help="blind dTV fusion of a low-resolution band with a sharp photo",
                       description="Fuse a band with side information: min 1/2||S(k * W u) - f||^2 + weight dTV(u) "
                                   "+ kernel_weight TV(k), u >= 0, k in the simplex (recon.fuse). Also writes the "
                                   "estimated kernel as <output stem>_kernel.png.")
    p.add_argument("--data", required=True, help="band (.mat with field 'data', .npy, .tif, .png)")
    p.add_argument("--side-info", required=True,
                   help="photo (.mat with field 'side_info', .png, .tif, .npy); colour becomes luminance")
    p.add_argument("--factor", type=positive_int, default=4, help="resolution ratio (default: %(default)s)")
    p.add_argument("--output", "-o", required=True, help="fused image (.png, .tif, .npy)")
    p.add_argument("--no-blind", action="store_true", help="keep the kernel fixed (needs --kernel)")
    p.add_argument("--kernel", default=None, help="kernel .npy (start of the estimate, or fixed with --no-blind)")
    p.add_argument("--kernel-size", type=positive_int, default=41, help="odd kernel support (default: %(default)s)")
    p.add_argument("--register", default=None, choices=("rigid", "affine"), help="estimate a warp")
    p.add_argument("--reg", default="dtv", choices=("dtv", "tv"), help="prior (default: %(default)s)")
    p.add_argument("--weight", type=nonnegative_float, default=None, help="lambda_u (default: 0.1 dtv, 1e-3 tv)")
    p.add_argument("--kernel-weight", type=nonnegative_float, default=1e-2, help="lambda_k (default: %(default)s)")
    p.add_argument("--iters", type=positive_int, default=300, help="PALM iterations (default: %(default)s)")
    add_run_options(p, backend=False)
    p.set_defaults(run=run)
    return p


def _read(path, field, flag):
    """A 2-D array from ``field`` of a ``.mat`` file or from an image file; errors name ``flag``."""
    from ..data import load_image

    if Path(path).suffix.lower() == ".mat":
        from scipy.io import loadmat

        try:
            content = loadmat(path)
        except (OSError, ValueError) as err:
            raise UsageError(f"{flag}: {err}") from None
        if field not in content:
            raise UsageError(f"{flag}: {path!r} has no field {field!r}")
        import numpy as np

        return np.asarray(content[field], dtype=np.float64)
    try:
        return load_image(path)
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"{flag}: {err}") from None


def run(args) -> int:
    from .. import fuse

    out = check_output(args.output, args.force)
    kernel_out = check_new(out.with_name(out.stem + "_kernel.png"), args.force, "--output")
    data = _read(args.data, "data", "--data")
    side = _read(args.side_info, "side_info", "--side-info")
    kernel = _read(args.kernel, "kernel", "--kernel") if args.kernel else None
    start = time.perf_counter()
    try:
        result = fuse(data, side, args.factor, kernel=kernel, kernel_size=args.kernel_size, blind=not args.no_blind,
                      registration=args.register, reg=args.reg, weight=args.weight, kernel_weight=args.kernel_weight,
                      iters=args.iters, progress=args.progress)
    except (ValueError, TypeError) as err:
        raise UsageError(f"fuse: {err}") from None
    seconds = time.perf_counter() - start
    k = result.kernel
    save_output(out, result.x, args.force)
    save_output(kernel_out, k / max(float(k.max()), 1e-300), args.force)
    print(f"recon fuse: wrote {out} and {kernel_out} ({args.reg}, {result.iterations} iterations, {seconds:.1f} s; "
          f"{result.message})")
    return 0
