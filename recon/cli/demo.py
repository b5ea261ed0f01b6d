"""``recon demo``: denoise, deblur and CT on built-in test images; PNG figures and a PSNR table.

Three scenes, each a ``(title, clean, observed, results)`` panel and rows of the table:
the camera image with Gaussian noise (TV, Tikhonov, wavelet denoising), the same image blurred
(TV and Tikhonov deblurring by FISTA), and Shepp-Logan from 60 noisy projections (FBP against TV).
The figures are checked before any work and written atomically.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from ._common import UsageError, add_run_options, save_figure, use_backend

__all__ = ["add_parser", "compute", "ct_scene", "run"]

# Weights chosen for these noise levels on the 256-pixel image (PSNR-optimal within a factor ~1.5).
DENOISE = (("tv", 0.08), ("tikhonov", 0.5), ("wavelet", 0.15))
DEBLUR = (("tv", 5e-4), ("tikhonov", 3e-3))
NOISE, BLUR_SIGMA, BLUR_NOISE, DEBLUR_ITERS = 0.1, 2.0, 0.01, 100
# Shepp-Logan from 60 angles with 1% Gaussian noise; weight ~ sigma sqrt(n_angles) (recon.ct.reconstruct)
CT_ANGLES, CT_NOISE, CT_WEIGHT, CT_ITERS = 60, 0.01, 0.5, 300


def add_parser(sub):
    p = sub.add_parser("demo", help="denoise, deblur and CT on built-in test images, write figures",
                       description="Denoise (TV, Tikhonov, wavelet) and deblur (TV, Tikhonov) the camera image, "
                                   "reconstruct Shepp-Logan from 60 noisy projections (FBP, TV); "
                                   "write PNG figures and print a PSNR table.")
    p.add_argument("--output-dir", default="recon-demo", help="directory for the figures (default: %(default)s)")
    p.add_argument("--size", type=int, default=256, choices=(128, 256, 512),
                   help="side length of the test image (camera, block-averaged; default: %(default)s)")
    add_run_options(p)
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    outdir = Path(args.output_dir)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"--output-dir: {args.output_dir!r} exists and is not a directory")
    targets = [outdir / "denoise.png", outdir / "deblur.png", outdir / "ct.png"]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not args.force:
        raise UsageError(f"--output-dir: {', '.join(existing)} exist(s); use --force to overwrite")
    with use_backend(args.backend):
        rows, panels = compute(args.size, args.progress)
    outdir.mkdir(parents=True, exist_ok=True)
    for target, (title, clean, observed, results) in zip(targets, panels):
        _figure(target, title, clean, observed, results, args.force)
    print(f"{'task':<8} {'method':<9} {'weight':>7} {'PSNR in':>8} {'PSNR out':>9} {'time':>7}")
    for task, method, weight, before, after, seconds in rows:
        before = "-" if math.isnan(before) else f"{before:.2f}"  # CT: the data are a sinogram, no PSNR
        print(f"{task:<8} {method:<9} {weight:>7g} {before:>8} {after:>9.2f} {seconds:>6.2f}s")
    print(f"total {sum(row[-1] for row in rows):.1f}s; figures: {', '.join(str(t) for t in targets)}")
    return 0


def compute(size: int, progress: bool = False):
    """All scenes: ``(rows, panels)``; a row is ``(task, method, weight, psnr_in, psnr_out, seconds)``."""
    import numpy as np

    from .. import backend, data, deblur, denoise
    from ..metrics import psnr
    from ..operators import Convolution, gaussian_kernel

    xp = backend.namespace()
    f = 512 // size
    clean = backend.asarray(backend.to_numpy(data.camera()).reshape(size, f, size, f).mean(axis=(1, 3)), xp=xp)
    rng = np.random.default_rng(0)
    noisy = clean + backend.asarray(NOISE * rng.standard_normal(clean.shape), xp=xp)
    kernel = gaussian_kernel(BLUR_SIGMA)
    blurred = Convolution(kernel, clean.shape)(clean)
    blurred = blurred + backend.asarray(BLUR_NOISE * rng.standard_normal(clean.shape), xp=xp)
    rows, denoised, deblurred = [], [], []
    for reg, weight in DENOISE:
        start = time.perf_counter()
        if reg == "wavelet" and not backend.is_numpy(xp):
            # pywavelets runs on the host: an explicit round trip, only in the demo
            x = backend.asarray(denoise(backend.to_numpy(noisy), reg, weight=weight), xp=xp)
        else:
            x = denoise(noisy, reg, weight=weight)
        rows.append(("denoise", reg, weight, psnr(noisy, clean), psnr(x, clean), time.perf_counter() - start))
        denoised.append((reg, x))
    for reg, weight in DEBLUR:
        start = time.perf_counter()
        x = deblur(blurred, kernel, reg, weight=weight, iters=DEBLUR_ITERS, progress=progress)
        rows.append(("deblur", reg, weight, psnr(blurred, clean), psnr(x, clean), time.perf_counter() - start))
        deblurred.append((reg, x))
    panels = [(f"denoising, Gaussian noise sigma = {NOISE}", clean, noisy, denoised),
              (f"deblurring, Gaussian blur sigma = {BLUR_SIGMA} px + {BLUR_NOISE:.0%} noise",
               clean, blurred, deblurred)]
    ct_rows, ct_panel = ct_scene(size)
    return rows + ct_rows, panels + [ct_panel]


def ct_scene(size: int):
    """The CT scene: ``(rows, panel)`` like the other scenes.

    Shepp-Logan of side ``min(size, 256)``, :data:`CT_ANGLES` angles over [0, 180) with
    :data:`CT_NOISE` relative Gaussian noise; FBP (ram-lak) against TV (PDHG).
    """
    from .. import backend, ct, data
    from ..metrics import psnr

    n = min(size, 256)  # keeps the scene to a few seconds at --size 512
    clean = backend.asarray(backend.to_numpy(data.shepp_logan(n)), xp=backend.namespace())
    angles = ct.uniform_angles(CT_ANGLES)
    sino = ct.sinogram(clean, angles, noise=CT_NOISE, seed=0)
    # PSNR in: not applicable (nan), the data are a sinogram, not a degraded copy of the image
    rows, results = [], []
    for method, weight in (("fbp", None), ("tv", CT_WEIGHT)):
        start = time.perf_counter()
        if method == "fbp":
            x = ct.fbp(sino, angles, shape=(n, n))
        else:
            x = ct.reconstruct(sino, angles, "tv", weight=weight, iters=CT_ITERS, shape=(n, n))
        rows.append(("ct", method, 0.0 if weight is None else weight, float("nan"), psnr(x, clean),
                     time.perf_counter() - start))
        results.append((method, x))
    title = f"CT, Shepp-Logan {n}x{n}, {CT_ANGLES} angles + {CT_NOISE:.0%} noise: FBP vs TV"
    return rows, (title, clean, None, results)  # None: the data (a sinogram) are not shown as an image


def _figure(path, title, clean, observed, results, force):
    """Reconstructions above their error maps; ``observed`` None: the data are not an image (a sinogram)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none assumed
    import matplotlib.pyplot as plt

    from ..backend import to_numpy
    from ..metrics import psnr

    ref = to_numpy(clean)
    images = [] if observed is None else [("observed", to_numpy(observed))]
    images += [(name, to_numpy(x)) for name, x in results]
    fig, axes = plt.subplots(2, len(images), figsize=(3 * len(images), 7.0), squeeze=False)
    for j, (name, image) in enumerate(images):
        axes[0, j].imshow(image, cmap="gray", vmin=0, vmax=1)
        axes[0, j].set_title(f"{name}\nPSNR {psnr(image, ref):.2f} dB", fontsize=9)
        axes[1, j].imshow(abs(image - ref), cmap="magma", vmin=0, vmax=0.25)
        axes[1, j].set_title(f"|{name} - clean|", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    save_figure(fig, path, force, "--output-dir")
