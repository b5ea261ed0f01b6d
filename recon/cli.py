"""The ``recon`` command: ``recon denoise | deblur | eigen | demo`` (also ``python -m recon``).

Every error a user can cause (unreadable input, existing output without ``--force``, a negative
weight, an unknown prior) ends the command with exit status 2 and one line on stderr,
``recon: error: <argument>: <what is wrong>``, before anything is written.  Outputs are written
atomically (:func:`recon.io.atomic_write`): an interrupted run leaves no partial file.
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

from . import __version__

__all__ = ["main", "build_parser"]

REGULARIZERS = ("tv", "tikhonov", "wavelet", "crr", "wcrr")  # crr/wcrr: learned, need a noise level
KERNELS = ("gaussian", "disk", "motion")


class UsageError(Exception):
    """A bad command line; the message names the argument."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # one line, the same prefix for every subcommand, no usage dump
        raise UsageError(message)


def _number(convert, accept, requirement):
    """An argparse ``type``: ``convert`` the text, then require ``accept(value)`` (else say ``requirement``)."""

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


_weight = _number(float, lambda v: v >= 0 and math.isfinite(v), "a finite number >= 0")
_positive_int = _number(int, lambda v: v >= 1, "a positive int")
_positive_float = _number(float, lambda v: v > 0 and math.isfinite(v), "a finite number > 0")
_finite_float = _number(float, math.isfinite, "a finite number")


def _common(p, *, weight_default, iters_default, tol_default, io=True):
    if io:
        p.add_argument("--input", "-i", required=True, help="input image (.png, .tif, .tiff, .npy)")
        p.add_argument("--output", "-o", required=True, help="output image (.png: 8-bit, clipped to [0, 1]; "
                                                             ".tif: float32; .npy: exact)")
        p.add_argument("--reg", default="tv", choices=REGULARIZERS, help="prior (default: %(default)s)")
        p.add_argument("--weight", type=_weight, default=weight_default,
                       help="regularization weight lambda >= 0 (default: %(default)s)")
        p.add_argument("--iters", type=_positive_int, default=iters_default, help="iteration budget")
        p.add_argument("--tol", type=_weight, default=tol_default, help="stopping tolerance")
    p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"),
                   help="where the computation runs (default: %(default)s)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="recon", description="Variational image reconstruction (denoising, deblurring).")
    parser.add_argument("--version", action="version", version=f"recon {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{denoise,deblur,eigen,fuse,ct,demo}")

    p = sub.add_parser("denoise", help="min_x 1/2||x - y||^2 + weight R(x)",
                       description="Denoise an image: min_x 1/2||x - y||^2 + weight R(x).")
    _common(p, weight_default=None, iters_default=None, tol_default=None)
    p.add_argument("--bregman", action="store_true",
                   help="Bregman iterations (tv only): add back the residual, restoring contrast that TV removes")
    p.add_argument("--noise-sigma", "--sigma", type=_weight, default=None, dest="noise_sigma",
                   help="noise standard deviation per pixel in image units (0.098 for 25/255 on a [0, 1] image): "
                        "required by --reg crr/wcrr; with --bregman it stops by the discrepancy principle")
    p.set_defaults(run=_run_denoise)

    p = sub.add_parser("deblur", help="min_x 1/2||k * x - y||^2 + weight R(x)",
                       description="Deblur an image: min_x 1/2||k * x - y||^2 + weight R(x), by FISTA.")
    _common(p, weight_default=1e-3, iters_default=300, tol_default=1e-5)
    p.add_argument("--kernel", default="gaussian",
                   help="blur kernel: gaussian, disk, motion, or a .npy file (default: %(default)s)")
    p.add_argument("--sigma", type=_positive_float, default=2.0, help="gaussian: standard deviation in pixels")
    p.add_argument("--noise-sigma", type=_positive_float, default=None,
                   help="--reg crr/wcrr: noise level in image units (--sigma is the blur here)")
    p.add_argument("--radius", type=_weight, default=3.0, help="disk: radius in pixels")
    p.add_argument("--length", type=_positive_float, default=9.0, help="motion: length in pixels (>= 1)")
    p.add_argument("--angle", type=_finite_float, default=0.0, help="motion: direction in degrees")
    p.add_argument("--boundary", default="periodic", choices=("periodic", "zero"),
                   help="boundary of the blur model (default: %(default)s)")
    p.set_defaults(run=_run_deblur)

    p = sub.add_parser("eigen", help="TV eigenfunction by the nonlinear power method",
                       description="Nonlinear power method u <- prox_tTV(u)/||.|| from the input image; writes the "
                                   "eigenfunction and the Rayleigh-quotient curve TV(u)/||u|| as PNG.")
    p.add_argument("--input", "-i", required=True, help="start image (.png, .tif, .tiff, .npy)")
    p.add_argument("--output", "-o", required=True,
                   help="eigenfunction (.png: rescaled to [0, 1] for display; .tif/.npy: exact values)")
    p.add_argument("--curve", default=None, help="Rayleigh-quotient plot (default: <output stem>_rayleigh.png)")
    p.add_argument("--functional", default="tv", choices=("tv", "tv-anisotropic"), help="(default: %(default)s)")
    p.add_argument("--iters", type=_positive_int, default=300, help="power-method iterations (default: %(default)s)")
    p.add_argument("--tol", type=_weight, default=1e-4, help="eigen-residual tolerance (default: %(default)s)")
    _common(p, weight_default=None, iters_default=None, tol_default=None, io=False)
    p.set_defaults(run=_run_eigen)

    from .apps.fusion_cli import add_fuse_parser

    add_fuse_parser(sub, weight=_weight, positive_int=_positive_int)

    from .apps.ct_cli import add_ct_parser

    add_ct_parser(sub, weight=_weight, positive_int=_positive_int)

    from .apps.ptycho_cli import add_ptycho_parser

    add_ptycho_parser(sub, weight=_weight, positive_int=_positive_int)

    p = sub.add_parser("demo", help="denoise, deblur and CT on built-in test images, write figures",
                       description="Denoise (TV, Tikhonov, wavelet) and deblur (TV, Tikhonov) the camera image, "
                                   "reconstruct Shepp-Logan from 60 noisy projections (FBP, TV); "
                                   "write PNG figures and print a PSNR table.")
    p.add_argument("--output-dir", default="recon-demo", help="directory for the figures (default: %(default)s)")
    p.add_argument("--size", type=int, default=256, choices=(128, 256, 512),
                   help="side length of the test image (camera, block-averaged; default: %(default)s)")
    _common(p, weight_default=None, iters_default=None, tol_default=None, io=False)
    p.set_defaults(run=_run_demo)
    return parser


# ---------------------------------------------------------------------------------------------
# steps shared by the subcommands; each failure names its argument
# ---------------------------------------------------------------------------------------------
def _check_output(path: str, force: bool) -> Path:
    from .io import FORMATS

    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"--output: unknown image format {out.suffix or '(none)'!r} for {path!r}; "
                         f"supported: {', '.join(FORMATS)}")
    if out.exists() and not force:
        raise UsageError(f"--output: {path!r} exists; use --force to overwrite")
    if out.is_dir():
        raise UsageError(f"--output: {path!r} is a directory")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise UsageError(f"--output: directory of {path!r} does not exist")
    return out


def _backend(name: str):
    from . import backend

    try:
        backend.namespace(name)  # imports the library now, so a missing one is a usage error
    except (ImportError, ValueError) as err:
        raise UsageError(f"--backend: {err}") from None
    return backend.use(name)


def _load(path: str, what: str = "--input"):
    from .data import load_image

    try:
        image = load_image(path)
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"{what}: {err}") from None
    if image.ndim != 2:
        raise UsageError(f"{what}: expected a 2-D grayscale image, {path!r} has shape {tuple(image.shape)}")
    return image


def _save(path: Path, x, force: bool) -> None:
    from .io import write_image

    try:
        write_image(path, x, force=force)
    except (OSError, ValueError) as err:
        raise UsageError(f"--output: {err}") from None


def _kernel(args):
    from .operators.convolution import disk_kernel, gaussian_kernel, motion_kernel

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
    from .data import load_image

    try:
        kernel = load_image(name)
        _check_kernel_values(kernel)
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"--kernel: {err}") from None
    return kernel


def _check_kernel_values(kernel):
    from .backend import array_namespace, check_finite

    xp = array_namespace(kernel)
    if kernel.ndim != 2:
        raise ValueError(f"kernel must be 2-D, got shape {tuple(kernel.shape)}")
    check_finite(kernel, "kernel")
    if not float(xp.sum(kernel)) > 0:
        raise ValueError(f"kernel must have a positive sum, got {float(xp.sum(kernel))}")


def _run_denoise(args) -> int:
    from .apps import denoise

    out = _check_output(args.output, args.force)
    with _backend(args.backend):
        y = _load(args.input)
        start = time.perf_counter()
        if args.bregman:
            result = _bregman_denoise(y, args)
        else:
            _check_ridge(args)
            result = denoise(y, args.reg, weight=args.weight, sigma=args.noise_sigma, iters=args.iters,
                             tol=args.tol, progress=args.progress, return_result=True)
        seconds = time.perf_counter() - start
        _save(out, result.x, args.force)
    how = f"Bregman, {result.iterations} iterations" if args.bregman else args.reg
    weight = "default" if args.weight is None else f"{args.weight:g}"
    print(f"recon denoise: wrote {out} ({how}, weight {weight}, {seconds:.2f} s; {result.message})")
    return 0


def _check_ridge(args):
    """--reg crr/wcrr: a noise level is needed, and the weights must be readable (before any work)."""
    if args.reg not in ("crr", "wcrr"):
        return
    if args.noise_sigma is None:
        raise UsageError(f"--noise-sigma: required by --reg {args.reg} (noise level in image units, e.g. 0.098)")
    if not args.noise_sigma > 0:
        raise UsageError(f"--noise-sigma: must be > 0 with --reg {args.reg}, got {args.noise_sigma}")
    from .learned.weights import ridge_regularizer

    try:
        ridge_regularizer(args.reg)
    except (OSError, ImportError, ValueError) as err:
        raise UsageError(f"--reg: {err}") from None


def _bregman_denoise(y, args):
    from .functionals import TV
    from .solvers import bregman

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


def _run_eigen(args) -> int:
    from .apps.eigen import tv_eigenfunction

    out = _check_output(args.output, args.force)
    curve = Path(args.curve) if args.curve else out.with_name(out.stem + "_rayleigh.png")
    if curve.suffix.lower() != ".png":
        raise UsageError(f"--curve: must be a .png file, got {str(curve)!r}")
    if curve.exists() and not args.force:
        raise UsageError(f"--curve: {str(curve)!r} exists; use --force to overwrite")
    with _backend(args.backend):
        u0 = _load(args.input)
        try:
            result = tv_eigenfunction(u0, isotropic=args.functional == "tv", iters=args.iters, tol=args.tol,
                                      progress=args.progress)
        except ValueError as err:
            raise UsageError(f"--input: {err}") from None
        x = result.x
        if out.suffix.lower() == ".png":  # 8-bit PNG holds [0, 1]: rescale the zero-mean eigenfunction
            lo, hi = float(x.min()), float(x.max())
            x = (x - lo) / (hi - lo) if hi > lo else x - lo
        _save(out, x, args.force)
        _rayleigh_figure(curve, result, args.force)
    print(f"recon eigen: wrote {out} and {curve} ({result.iterations} iterations, eigenvalue "
          f"{result.extras['eigenvalue']:.4g}; {result.message})")
    return 0


def _rayleigh_figure(path, result, force):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    axes[0].plot(result.history["iteration"], result.history["rayleigh"], marker=".")
    axes[0].set(xlabel="iteration", ylabel="TV(u) / ||u||", title="Rayleigh quotient (non-increasing)")
    axes[1].semilogy(result.history["iteration"], result.history["residual"], marker=".")
    axes[1].set(xlabel="iteration", ylabel="||T(u) - c u|| / ||T(u)||", title="eigen-residual")
    fig.tight_layout()
    _save_figure(fig, path, force, "--curve")


def _run_deblur(args) -> int:
    from .apps import deblur

    out = _check_output(args.output, args.force)
    with _backend(args.backend):
        kernel = _kernel(args)
        y = _load(args.input)
        if any(k > n for k, n in zip(kernel.shape, y.shape)):
            raise UsageError(f"--kernel: kernel of shape {tuple(kernel.shape)} is larger than the image "
                             f"{tuple(y.shape)}")
        _check_ridge(args)
        start = time.perf_counter()
        result = deblur(y, kernel, args.reg, weight=args.weight, sigma=args.noise_sigma, boundary=args.boundary,
                        iters=args.iters,
                        tol=args.tol, progress=args.progress, return_result=True)
        seconds = time.perf_counter() - start
        _save(out, result.x, args.force)
    print(f"recon deblur: wrote {out} ({args.reg}, weight {args.weight:g}, {result.iterations} iterations, "
          f"{seconds:.2f} s)")
    return 0


# ---------------------------------------------------------------------------------------------
# demo: the camera image, three denoisers and two deblurrers, figures and a PSNR table
# ---------------------------------------------------------------------------------------------
# Weights chosen for these noise levels on the 256-pixel image (PSNR-optimal within a factor ~1.5).
DEMO_DENOISE = (("tv", 0.08), ("tikhonov", 0.5), ("wavelet", 0.15))
DEMO_DEBLUR = (("tv", 5e-4), ("tikhonov", 3e-3))
DEMO_NOISE, DEMO_BLUR_SIGMA, DEMO_BLUR_NOISE, DEMO_DEBLUR_ITERS = 0.1, 2.0, 0.01, 100


def _run_demo(args) -> int:
    outdir = Path(args.output_dir)
    if outdir.exists() and not outdir.is_dir():
        raise UsageError(f"--output-dir: {args.output_dir!r} exists and is not a directory")
    targets = [outdir / "denoise.png", outdir / "deblur.png", outdir / "ct.png"]
    existing = [str(t) for t in targets if t.exists()]
    if existing and not args.force:
        raise UsageError(f"--output-dir: {', '.join(existing)} exist(s); use --force to overwrite")
    with _backend(args.backend):
        rows, panels = _demo_compute(args.size, args.progress)
    outdir.mkdir(parents=True, exist_ok=True)
    for target, (title, clean, observed, results) in zip(targets, panels):
        _figure(target, title, clean, observed, results, args.force)
    print(f"{'task':<8} {'method':<9} {'weight':>7} {'PSNR in':>8} {'PSNR out':>9} {'time':>7}")
    for task, method, weight, before, after, seconds in rows:
        print(f"{task:<8} {method:<9} {weight:>7g} {before:>8.2f} {after:>9.2f} {seconds:>6.2f}s")
    print(f"figures: {', '.join(str(t) for t in targets)}")
    return 0


def _demo_compute(size, progress):
    import numpy as np

    from . import backend, data
    from .apps import deblur, denoise
    from .metrics import psnr
    from .operators import Convolution
    from .operators.convolution import gaussian_kernel

    xp = backend.namespace()
    f = 512 // size
    clean = backend.asarray(backend.to_numpy(data.camera()).reshape(size, f, size, f).mean(axis=(1, 3)), xp=xp)
    rng = np.random.default_rng(0)
    noisy = clean + backend.asarray(DEMO_NOISE * rng.standard_normal(clean.shape), xp=xp)
    kernel = gaussian_kernel(DEMO_BLUR_SIGMA)
    blurred = Convolution(kernel, clean.shape)(clean)
    blurred = blurred + backend.asarray(DEMO_BLUR_NOISE * rng.standard_normal(clean.shape), xp=xp)
    rows, denoised, deblurred = [], [], []
    for reg, weight in DEMO_DENOISE:
        start = time.perf_counter()
        if reg == "wavelet" and not backend.is_numpy(xp):
            # pywavelets runs on the host: an explicit round trip, only in the demo
            x = backend.asarray(denoise(backend.to_numpy(noisy), reg, weight=weight), xp=xp)
        else:
            x = denoise(noisy, reg, weight=weight)
        rows.append(("denoise", reg, weight, psnr(noisy, clean), psnr(x, clean), time.perf_counter() - start))
        denoised.append((reg, x))
    for reg, weight in DEMO_DEBLUR:
        start = time.perf_counter()
        x = deblur(blurred, kernel, reg, weight=weight, iters=DEMO_DEBLUR_ITERS, progress=progress)
        rows.append(("deblur", reg, weight, psnr(blurred, clean), psnr(x, clean), time.perf_counter() - start))
        deblurred.append((reg, x))
    panels = [(f"denoising, Gaussian noise sigma = {DEMO_NOISE}", clean, noisy, denoised),
              (f"deblurring, Gaussian blur sigma = {DEMO_BLUR_SIGMA} px + {DEMO_BLUR_NOISE:.0%} noise",
               clean, blurred, deblurred)]
    from .apps.ct_cli import demo_ct

    ct_rows, ct_panel = demo_ct(size)
    return rows + ct_rows, panels + [ct_panel]


def _figure(path, title, clean, observed, results, force):
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none assumed
    import matplotlib.pyplot as plt

    from .backend import to_numpy
    from .metrics import psnr

    ref = to_numpy(clean)
    # observed None: the data are not an image (a sinogram), only the reconstructions are shown
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
    _save_figure(fig, path, force, "--output-dir")


def _save_figure(fig, path, force, argument):
    """Write ``fig`` as PNG atomically; a failure is a usage error naming ``argument``."""
    import matplotlib.pyplot as plt

    from .io import atomic_write

    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100), force=force)
    except OSError as err:
        raise UsageError(f"{argument}: {err}") from None
    finally:
        plt.close(fig)


def main(argv=None) -> int:
    """Entry point of the ``recon`` command; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        return args.run(args)
    except UsageError as err:
        print(f"recon: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("recon: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
