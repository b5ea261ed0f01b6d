"""``recon ct``: parallel-beam CT from a sinogram file (:func:`recon.ct.reconstruct`).

The sinogram has one row per angle, ``(n_angles, n_detectors)``; ``--angles`` is
``start:stop:step`` in degrees (stop excluded) or a ``.npy`` file.  Every check runs before the
reconstruction, so a failed command writes nothing.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from ._common import (
    LEARNED,
    UsageError,
    add_run_options,
    check_output,
    load_input,
    nonnegative_float,
    positive_int,
    save_output,
    use_backend,
)

__all__ = ["add_parser", "run"]


def add_parser(sub):
    from .. import ct

    p = sub.add_parser("ct", help="reconstruct an image from a parallel-beam sinogram",
                       description="Parallel-beam CT (recon.ct.reconstruct): the sinogram has one row per angle "
                                   "(n_angles, n_detectors); FBP or a variational reconstruction.")
    p.add_argument("--input", "-i", required=True, help="sinogram (.npy, .tif), shape (n_angles, n_detectors)")
    p.add_argument("--angles", required=True,
                   help="degrees as start:stop:step (stop excluded, e.g. 0:180:1) or a .npy file of angles")
    p.add_argument("--radians", action="store_true", help="--angles are in radians")
    p.add_argument("--method", default="fbp", choices=ct.METHODS, help="(default: %(default)s)")
    p.add_argument("--weight", type=nonnegative_float, default=None,
                   help="regularisation weight (tikhonov, tv and the learned crr, wcrr, *-published: required)")
    p.add_argument("--iters", type=positive_int, default=None, help="iteration budget (iterative methods)")
    p.add_argument("--noise-sigma", type=nonnegative_float, default=None, dest="noise_sigma",
                   help="learned methods: the noise level (image units, e.g. 0.059 = 15/255) that sets the learned "
                        "regularizer's scales; a tuning parameter like --weight (default 25/255)")
    p.add_argument("--filter", default="ram-lak", choices=ct.FILTERS, help="FBP filter (default: %(default)s)")
    p.add_argument("--output", "-o", required=True, help="output image (.png: 8-bit, clipped to [0, 1]; "
                                                         ".tif: float32; .npy: exact)")
    add_run_options(p)
    p.set_defaults(run=run)
    return p


def _angles(text: str, radians: bool):
    """Angles in radians from ``start:stop:step`` or a ``.npy`` file; ``UsageError`` naming ``--angles``."""
    import numpy as np

    if Path(text).suffix.lower() == ".npy":
        try:
            values = np.load(text, allow_pickle=False)
        except (OSError, ValueError) as err:
            raise UsageError(f"--angles: {err}") from None
    else:
        parts = text.split(":")
        try:
            start, stop, step = (float(v) for v in parts)
        except ValueError:
            raise UsageError(f"--angles: expected start:stop:step (e.g. 0:180:1) or a .npy file, got {text!r}") \
                from None
        if not all(math.isfinite(v) for v in (start, stop, step)) or step <= 0 or stop <= start:
            raise UsageError(f"--angles: need finite start < stop and step > 0, got {text!r}")
        # stop excluded, robust to rounding: 0:180:1 is 180 angles
        values = start + step * np.arange(math.ceil((stop - start) / step - 1e-9))
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
        raise UsageError(f"--angles: need a non-empty 1-D array of finite numbers, got shape {values.shape}, "
                         f"dtype {values.dtype}")
    return values.astype(np.float64) if radians else np.deg2rad(values.astype(np.float64))


def run(args) -> int:
    from .. import ct

    out = check_output(args.output, args.force)
    theta = _angles(args.angles, args.radians)
    if args.method in ("tikhonov", "tv", *LEARNED) and args.weight is None:
        raise UsageError(f"--weight: method {args.method!r} needs a weight (e.g. 0.5 for 1% noise on 60 angles)")
    with use_backend(args.backend):
        sino = load_input(args.input)
        if sino.shape[0] != theta.size:
            raise UsageError(f"--angles: {theta.size} angles but the sinogram has {sino.shape[0]} rows "
                             f"(shape {tuple(sino.shape)} = (n_angles, n_detectors))")
        if args.noise_sigma is not None and args.method not in LEARNED:
            raise UsageError(f"--noise-sigma: only for a learned --method ({', '.join(LEARNED)}), "
                             f"got --method {args.method}")
        start = time.perf_counter()
        try:
            result = ct.reconstruct(sino, theta, args.method, weight=args.weight, iters=args.iters,
                                    filter=args.filter, progress=args.progress, return_result=True,
                                    sigma=args.noise_sigma)
        except (ValueError, TypeError) as err:
            raise UsageError(f"ct: {err}") from None
        # a missing shipped file (broken install), or a *-published method without its folder or torch
        except (FileNotFoundError, ImportError) as err:
            raise UsageError(f"--method {args.method}: {err}") from None
        seconds = time.perf_counter() - start
        save_output(out, result.x, args.force)
    how = args.method + (f", weight {args.weight:g}" if args.weight is not None else "")
    print(f"recon ct: wrote {out} ({how}, {theta.size} angles, {seconds:.2f} s; {result.message})")
    return 0
