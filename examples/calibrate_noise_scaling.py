"""Re-fit the noise scaling of a trained ridge model on the trainer's held-out images (:mod:`recon.learned.calibrate`).

Usage::

    python examples/calibrate_noise_scaling.py ../shared/data/images/bsd400-train IN.npz OUT.npz \
        [--held-out 8] [--crop 96] [--seed 1] [--xtol 0.02] [--force]

The images are the ``--crop`` × ``--crop`` centre crops of the last ``--held-out`` PNGs of the folder by
name: the ones ``examples/train_wcrr.py`` holds out for validation (it scores the same crops, with the
noise of ``default_rng(10000)``; this draws its noise from ``default_rng(--seed)``).  Set12 is
not touched.  ``OUT.npz`` keeps ``IN.npz``'s provenance and adds ``calibration`` (per knot: σ,
offset, mean PSNR before and after) and ``calibrated_from``; it prints that table as JSON lines.
"""
import argparse
import json
import time
from pathlib import Path

from recon.learned import load_npz, save_npz
from recon.learned.calibrate import calibrate_noise_scaling
from recon.learned.train_prox import _images

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("images")
    parser.add_argument("model")
    parser.add_argument("output")
    parser.add_argument("--held-out", type=int, default=8, help="last N images of the folder (default 8)")
    parser.add_argument("--crop", type=int, default=96, help="centre crop side (default 96; 0: whole images)")
    parser.add_argument("--seed", type=int, default=1, help="noise seed (default 1)")
    parser.add_argument("--xtol", type=float, default=0.02, help="offset search tolerance (default 0.02)")
    parser.add_argument("--force", action="store_true", help="overwrite OUTPUT")
    args = parser.parse_args()
    if Path(args.output).exists() and not args.force:
        raise SystemExit(f"output exists, not overwritten without --force: {args.output}")
    pool = _images(args.images)
    if not 0 < args.held_out <= len(pool):
        raise SystemExit(f"--held-out must be in [1, {len(pool)}], got {args.held_out}")
    images = []
    for img in pool[-args.held_out:]:
        c = min(args.crop, *img.shape) if args.crop > 0 else min(img.shape)
        i0, j0 = (img.shape[0] - c) // 2, (img.shape[1] - c) // 2
        images.append(img[i0 : i0 + c, j0 : j0 + c] if args.crop > 0 else img)
    reg = load_npz(args.model)
    start = time.perf_counter()
    out = calibrate_noise_scaling(reg, images, xtol=args.xtol, seed=args.seed, progress=True)
    report = out.extras["calibration"]
    for row in report:
        print(json.dumps(row))
    meta = dict(reg.extras.get("meta", {}), calibration=report, calibrated_from=str(args.model),
                calibration_recipe=dict(held_out=args.held_out, crop=args.crop, seed=args.seed, xtol=args.xtol,
                                        seconds=round(time.perf_counter() - start, 1)))
    meta.pop("format", None)
    tmp = Path(str(args.output) + ".tmp.npz")
    save_npz(tmp, out, meta)
    tmp.replace(args.output)  # atomic
