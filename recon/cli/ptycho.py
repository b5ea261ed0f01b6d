"""``recon ptycho``: read a scan, reconstruct the object (:func:`recon.ptycho.reconstruct`), write it.

Every check (the data file, the three outputs, the backend) runs before the reconstruction, so a
failed command writes nothing.  The object goes to ``--output`` (``.npy``, complex);
``<stem>_amplitude.png`` (amplitude over its maximum) and ``<stem>_phase.png`` (phase,
:math:`[-\\pi, \\pi]` mapped to [0, 1]) go beside it.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from ._common import UsageError, add_run_options, check_new, nonnegative_float, positive_int, save_output, use_backend

__all__ = ["add_parser", "run"]

_DATA = (".h5", ".hdf5", ".npz")


def add_parser(sub):
    p = sub.add_parser("ptycho", help="ptychographic reconstruction of a complex object (rPIE, ePIE, gd)",
                       description="Reconstruct object (and probe, and positions) from far-field diffraction "
                                   "patterns (recon.ptycho.reconstruct). Reads recon's .npz or PtyLab's CPM HDF5; "
                                   "writes the complex object as .npy and its amplitude and phase as "
                                   "<output stem>_amplitude.png and <output stem>_phase.png.")
    p.add_argument("--data", required=True, help="scan: PtyLab CPM .h5/.hdf5 or recon .npz")
    p.add_argument("--output", "-o", required=True, help="complex object (.npy)")
    p.add_argument("--iters", type=positive_int, default=100, help="sweeps (default: %(default)s)")
    p.add_argument("--method", default="rpie", choices=("rpie", "epie", "gd"), help="(default: %(default)s)")
    p.add_argument("--refine-probe", action="store_true",
                   help="update the probe (always, when the file holds no probe)")
    p.add_argument("--refine-positions", action="store_true",
                   help="update the scan positions (smoothed Gauss-Newton, coarse to fine)")
    p.add_argument("--batch", type=positive_int, default=None,
                   help="positions per object/probe update (default: 1 for rpie/epie, all for gd)")
    p.add_argument("--reg", default=None, choices=("tv",), help="object prior: TV of real and imaginary parts")
    p.add_argument("--weight", type=nonnegative_float, default=None, help="prior weight (needed with --reg)")
    add_run_options(p)
    p.set_defaults(run=run)
    return p


def _outputs(path, force):
    """The object (``.npy``) and its two PNGs, checked before any work."""
    out = Path(path)
    if out.suffix.lower() != ".npy":
        raise UsageError(f"--output: must end in .npy (the complex object), got {path!r}")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise UsageError(f"--output: directory of {path!r} does not exist")
    outs = [out, out.with_name(out.stem + "_amplitude.png"), out.with_name(out.stem + "_phase.png")]
    return [check_new(o, force, "--output") for o in outs]


def run(args) -> int:
    from ..backend import to_numpy
    from ..io import atomic_write
    from ..ptycho import load, reconstruct

    outs = _outputs(args.output, args.force)
    if Path(args.data).suffix.lower() not in _DATA:
        raise UsageError(f"--data: must end in .h5, .hdf5 or .npz, got {args.data!r}")
    if not Path(args.data).is_file():
        raise UsageError(f"--data: no such file {args.data!r}")
    if args.reg is not None and args.weight is None:
        raise UsageError("--weight: required with --reg")
    import numpy as np

    with use_backend(args.backend):
        try:
            scan = load(args.data, backend=args.backend)
        except (OSError, ValueError, KeyError) as err:
            raise UsageError(f"--data: {err}") from None
        except ImportError as err:
            raise UsageError(f"--data: reading HDF5 needs h5py (pip install 'recon[ptycho]'): {err}") from None
        refine_probe = args.refine_probe or scan.probe is None
        J = int(scan.intensities.shape[0])
        if args.batch is not None and args.batch > J:
            raise UsageError(f"--batch: must be at most the number of positions ({J}), got {args.batch}")
        start = time.perf_counter()
        try:
            result = reconstruct(scan, method=args.method, iters=args.iters, refine_probe=refine_probe,
                                 refine_positions=args.refine_positions, reg=args.reg, weight=args.weight,
                                 batch=args.batch, progress=args.progress)
        except ValueError as err:
            raise UsageError(f"--data: {err}") from None
        seconds = time.perf_counter() - start
        obj = to_numpy(result.x)
    if not np.all(np.isfinite(obj)):
        raise UsageError(f"--method: {args.method} diverged (non-finite object); nothing written")
    amplitude = np.abs(obj)
    phase = (np.angle(obj) + math.pi) / (2 * math.pi)
    try:
        atomic_write(outs[0], lambda f: np.save(f, obj), force=args.force)
    except (OSError, ValueError) as err:
        raise UsageError(f"--output: {err}") from None
    save_output(outs[1], amplitude / max(float(amplitude.max()), 1e-300), args.force)
    save_output(outs[2], phase, args.force)
    residual = result.history["residual"][-1]
    print(f"recon ptycho: wrote {outs[0]}, {outs[1].name} and {outs[2].name} ({args.method}, {result.iterations} "
          f"sweeps, residual {residual:.3g}, {seconds:.1f} s)")
    return 0
