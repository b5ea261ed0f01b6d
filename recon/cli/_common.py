"""What every subcommand shares: the usage error, option parsers, inputs, checked atomic outputs.

Every error a user can cause raises :class:`UsageError` with a message that starts with the
argument's name (``--output: 'x.png' exists; use --force to overwrite``); :func:`recon.cli.main`
turns it into one line on stderr and exit status 2.  Outputs are checked before any work
(:func:`check_output`, :func:`check_new`) and written atomically (:func:`save_output`,
:func:`save_figure`, through :func:`recon.io.atomic_write`): a failed or interrupted run leaves
no partial file.  Library modules are imported inside the functions, so building the parser
(``recon --help``) stays cheap.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

__all__ = [
    "LEARNED",
    "REGULARIZERS",
    "Parser",
    "UsageError",
    "add_image_options",
    "add_run_options",
    "check_new",
    "check_output",
    "check_ridge",
    "finite_float",
    "load_input",
    "nonnegative_float",
    "number",
    "positive_float",
    "positive_int",
    "save_figure",
    "save_output",
    "use_backend",
]

# the learned ones need a noise level: "crr"/"wcrr" are recon's shipped models, "*-published" the authors'
# checkpoints (torch and $RECON_SHARED_DATA); written out, as the library is imported only when a command runs
LEARNED = ("crr", "wcrr", "crr-published", "wcrr-published")
REGULARIZERS = ("tv", "tikhonov", "wavelet", *LEARNED)


class UsageError(Exception):
    """A bad command line; the message names the argument."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (one line, no usage dump)."""

    def error(self, message):
        raise UsageError(message)


def number(convert, accept, requirement):
    """An argparse ``type``: ``convert`` the text, then require ``accept(value)`` (else say ``requirement``).

    Examples
    --------
    >>> odd = number(int, lambda v: v % 2 == 1, "an odd int")
    >>> odd("3")
    3
    >>> odd("4")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: must be an odd int, got 4
    """

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}") from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text}")
        return value

    return parse


nonnegative_float = number(float, lambda v: v >= 0 and math.isfinite(v), "a finite number >= 0")
positive_int = number(int, lambda v: v >= 1, "a positive int")
positive_float = number(float, lambda v: v > 0 and math.isfinite(v), "a finite number > 0")
finite_float = number(float, math.isfinite, "a finite number")


def add_image_options(p, *, weight_default, iters_default, tol_default):
    """``--input --output --reg --weight --iters --tol`` of the image subcommands (denoise, deblur)."""
    p.add_argument("--input", "-i", required=True, help="input image (.png, .tif, .tiff, .npy)")
    p.add_argument("--output", "-o", required=True, help="output image (.png: 8-bit, clipped to [0, 1]; "
                                                         ".tif: float32; .npy: exact)")
    p.add_argument("--reg", default="tv", choices=REGULARIZERS, help="prior (default: %(default)s)")
    p.add_argument("--weight", type=nonnegative_float, default=weight_default,
                   help="regularization weight lambda >= 0 (default: %(default)s)")
    p.add_argument("--iters", type=positive_int, default=iters_default, help="iteration budget")
    p.add_argument("--tol", type=nonnegative_float, default=tol_default, help="stopping tolerance")


def add_run_options(p, *, backend=True):
    """``--backend --progress --force``, the options every subcommand takes (fuse: no ``--backend``)."""
    if backend:
        p.add_argument("--backend", default="numpy", choices=("numpy", "cupy"),
                       help="where the computation runs (default: %(default)s)")
    p.add_argument("--progress", action="store_true", help="show a progress bar")
    p.add_argument("--force", action="store_true", help="overwrite existing output files")


def use_backend(name: str):
    """``with use_backend(args.backend):`` creates arrays there; a missing library is a usage error."""
    from .. import backend

    try:
        backend.namespace(name)  # imports the library now, so a missing one is a usage error
    except (ImportError, ValueError) as err:
        raise UsageError(f"--backend: {err}") from None
    return backend.use(name)


def load_input(path: str, what: str = "--input"):
    """Read a 2-D grayscale image (PNG, TIFF, NPY) into the default backend; errors name ``what``."""
    from ..data import load_image

    try:
        image = load_image(path)
    except (OSError, ValueError, TypeError) as err:
        raise UsageError(f"{what}: {err}") from None
    if image.ndim != 2:
        raise UsageError(f"{what}: expected a 2-D grayscale image, {path!r} has shape {tuple(image.shape)}")
    return image


def check_output(path: str, force: bool) -> Path:
    """The ``--output`` image path, checked before any work: a known format, a directory that exists."""
    from ..io import FORMATS

    out = Path(path)
    if out.suffix.lower() not in FORMATS:
        raise UsageError(f"--output: unknown image format {out.suffix or '(none)'!r} for {path!r}; "
                         f"supported: {', '.join(FORMATS)}")
    check_new(out, force, "--output")
    if not (out.parent if str(out.parent) else Path(".")).is_dir():
        raise UsageError(f"--output: directory of {path!r} does not exist")
    return out


def check_new(path, force: bool, argument: str) -> Path:
    """``path`` may be written: not a directory, and absent unless ``force`` (errors name ``argument``)."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{argument}: {str(path)!r} is a directory")
    if path.exists() and not force:
        raise UsageError(f"{argument}: {str(path)!r} exists; use --force to overwrite")
    return path


def save_output(path, x, force: bool, argument: str = "--output") -> None:
    """Write image ``x`` atomically (:func:`recon.io.write_image`); a failure names ``argument``."""
    from ..io import write_image

    try:
        write_image(path, x, force=force)
    except (OSError, ValueError) as err:
        raise UsageError(f"{argument}: {err}") from None


def save_figure(fig, path, force: bool, argument: str) -> None:
    """Write a matplotlib ``fig`` as PNG atomically and close it; a failure names ``argument``."""
    import matplotlib.pyplot as plt

    from ..io import atomic_write

    try:
        atomic_write(path, lambda f: fig.savefig(f, format="png", dpi=100), force=force)
    except OSError as err:
        raise UsageError(f"{argument}: {err}") from None
    finally:
        plt.close(fig)


def check_ridge(args) -> None:
    """``--reg`` learned (:data:`LEARNED`): a noise level is needed and the weights must load (before any work)."""
    if args.reg not in LEARNED:
        return
    if args.noise_sigma is None:
        raise UsageError(f"--noise-sigma: required by --reg {args.reg} (noise level in image units, e.g. 0.098)")
    if not args.noise_sigma > 0:
        raise UsageError(f"--noise-sigma: must be > 0 with --reg {args.reg}, got {args.noise_sigma}")
    from ..learned.weights import ridge_regularizer

    try:
        ridge_regularizer(args.reg)
    except (OSError, ImportError, ValueError) as err:
        raise UsageError(f"--reg: {err}") from None
