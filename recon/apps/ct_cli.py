"""The ``recon ct`` subcommand and the CT scene of ``recon demo``.

Kept beside :mod:`recon.apps.ct` so that ``recon/cli.py`` only registers them.  Errors are raised as
the CLI's ``UsageError`` (exit status 2, one line naming the argument) before anything is written.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

__all__ = ["add_ct_parser", "run_ct", "demo_ct"]

# demo: Shepp-Logan from 60 angles with 1% Gaussian noise; weight ~ sigma sqrt(n_angles) (recon.ct.reconstruct)
DEMO_CT_ANGLES, DEMO_CT_NOISE, DEMO_CT_WEIGHT, DEMO_CT_ITERS = 60, 0.01, 0.5, 300


def add_ct_parser(sub, *, weight, positive_int):
    from ..ct import FILTERS, METHODS

    p = sub.add_parser("ct", help="reconstruct an image from a parallel-beam sinogram",
                       description="Parallel-beam CT (recon.ct.reconstruct): the sinogram has one row per angle "
                                   "(n_angles, n_detectors); FBP or a variational reconstruction.")
    p.add_argument("--input", "-i", required=True, help="sinogram (.npy, .tif), shape (n_angles, n_detectors)")
    p.add_argument("--angles", required=True,
                   help="degrees as start:stop:step (stop excluded, e.g. 0:180:1) or a .npy file of angles")
    p.add_argument("--radians", action="store_true", help="--angles are in radians")
    p.add_argument("--method", default="fbp", choices=METHODS, help="(default: %(default)s)")
    p.add_argument("--weight", type=weight, default=None,
                   help="regularisation weight (tikhonov, tv, crr, wcrr: required)")
    p.add_argument("--iters", type=positive_int, default=None, help="iteration budget (iterative methods)")
    p.add_argument("--noise-sigma", type=weight, default=None, dest="noise_sigma",
                   help="crr, wcrr: the noise level (image units, e.g. 0.059 = 15/255) that sets the learned "
                        "regularizer's scales; a tuning parameter like --weight (default 25/255)")
    p.add_argument("--filter", default="ram-lak", choices=FILTERS, help="FBP filter (default: %(default)s)")
    p.add_argument("--output", "-o", required=True, help="output image (.png: 8-bit, clipped to [0, 1]; "
                                                         ".tif: float32; .npy: exact)")
    p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"),
                   help="where the computation runs (default: %(default)s)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")
    p.set_defaults(run=run_ct)
    return p


def _angles(text: str, radians: bool):
    """Angles in radians from ``start:stop:step`` or a ``.npy`` file; ``UsageError`` naming ``--angles``."""
    import numpy as np

    from ..cli import UsageError

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
        values = start + step * np.arange(int(math.ceil((stop - start) / step - 1e-9)))
    values = np.asarray(values)
    if values.ndim != 1 or values.size == 0 or values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
        raise UsageError(f"--angles: need a non-empty 1-D array of finite numbers, got shape {values.shape}, "
                         f"dtype {values.dtype}")
    return values.astype(np.float64) if radians else np.deg2rad(values.astype(np.float64))


def run_ct(args) -> int:
    from ..cli import UsageError, _backend, _check_output, _load, _save
    from ..ct import reconstruct

    out = _check_output(args.output, args.force)
    theta = _angles(args.angles, args.radians)
    if args.method in ("tikhonov", "tv", "crr", "wcrr") and args.weight is None:
        raise UsageError(f"--weight: method {args.method!r} needs a weight (e.g. 0.5 for 1% noise on 60 angles)")
    with _backend(args.backend):
        sino = _load(args.input)
        if sino.shape[0] != theta.size:
            raise UsageError(f"--angles: {theta.size} angles but the sinogram has {sino.shape[0]} rows "
                             f"(shape {tuple(sino.shape)} = (n_angles, n_detectors))")
        if args.noise_sigma is not None and args.method not in ("crr", "wcrr"):
            raise UsageError(f"--noise-sigma: only for --method crr or wcrr, got --method {args.method}")
        start = time.perf_counter()
        try:
            result = reconstruct(sino, theta, args.method, weight=args.weight, iters=args.iters,
                                 filter=args.filter, progress=args.progress, return_result=True,
                                 sigma=args.noise_sigma)
        except (ValueError, TypeError) as err:
            raise UsageError(f"ct: {err}") from None
        except FileNotFoundError as err:  # --method wcrr without the published weights
            raise UsageError(f"--method {args.method}: {err}") from None
        seconds = time.perf_counter() - start
        _save(out, result.x, args.force)
    how = args.method + (f", weight {args.weight:g}" if args.weight is not None else "")
    print(f"recon ct: wrote {out} ({how}, {theta.size} angles, {seconds:.2f} s; {result.message})")
    return 0


def demo_ct(size: int):
    """The demo's CT scene: ``(rows, panel)`` like the other scenes of ``recon demo``.

    Shepp-Logan of side ``min(size, 256)``, :data:`DEMO_CT_ANGLES` angles over [0, 180) with
    :data:`DEMO_CT_NOISE` relative Gaussian noise; FBP (ram-lak) against TV (PDHG).
    """
    from .. import backend, data
    from ..metrics import psnr
    from ..ct import fbp, reconstruct, sinogram, uniform_angles

    n = min(size, 256)  # keeps the scene to a few seconds at --size 512
    clean = backend.asarray(backend.to_numpy(data.shepp_logan(n)), xp=backend.namespace())
    angles = uniform_angles(DEMO_CT_ANGLES)
    sino = sinogram(clean, angles, noise=DEMO_CT_NOISE, seed=0)
    # PSNR in: not applicable (nan), the data are a sinogram, not a degraded copy of the image
    rows, results = [], []
    for method, weight in (("fbp", None), ("tv", DEMO_CT_WEIGHT)):
        start = time.perf_counter()
        if method == "fbp":
            x = fbp(sino, angles, shape=(n, n))
        else:
            x = reconstruct(sino, angles, "tv", weight=weight, iters=DEMO_CT_ITERS, shape=(n, n))
        rows.append(("ct", method, 0.0 if weight is None else weight, float("nan"), psnr(x, clean),
                     time.perf_counter() - start))
        results.append((method, x))
    title = f"CT, Shepp-Logan {n}x{n}, {DEMO_CT_ANGLES} angles + {DEMO_CT_NOISE:.0%} noise: FBP vs TV"
    return rows, (title, clean, None, results)  # None: the data (a sinogram) are not shown as an image
