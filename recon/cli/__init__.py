"""The ``recon`` command: ``recon denoise | deblur | eigen | fuse | ct | ptycho | demo`` (also ``python -m recon``).

Every error a user can cause (unreadable input, existing output without ``--force``, a negative
weight, an unknown prior) ends the command with exit status 2 and one line on stderr,
``recon: error: <argument>: <what is wrong>``, before anything is written.  Outputs are written
atomically (:func:`recon.io.atomic_write`): an interrupted run leaves no partial file.

Layout (one module per subcommand, each with ``add_parser(subparsers)`` and ``run(args)``)::

    cli/
      __init__.py   main(argv), build_parser(): registers the subcommands, turns UsageError into status 2
      _common.py    UsageError, option parsers (weights, counts), backend choice, loading inputs,
                    checked atomic outputs and --force, the learned-prior checks
      denoise.py    recon denoise  (recon.denoise; --bregman: Bregman iterations for TV)
      deblur.py     recon deblur   (recon.deblur; named or .npy kernels)
      eigen.py      recon eigen    (TV eigenfunction by the nonlinear power method, Rayleigh-quotient plot)
      fuse.py       recon fuse     (recon.fuse: blind dTV fusion of a band with a photo)
      ct.py         recon ct       (recon.ct.reconstruct from a sinogram file)
      ptycho.py     recon ptycho   (recon.ptycho.load / reconstruct)
      demo.py       recon demo     (denoise, deblur and CT scenes, figures and a PSNR table)

Nothing in the library imports this package; subcommands import only the library's public faces,
inside their functions, so ``recon --help`` stays fast.
"""
from __future__ import annotations

import sys

from .. import __version__
from . import ct, deblur, demo, denoise, eigen, fuse, ptycho
from ._common import Parser, UsageError

__all__ = ["build_parser", "main"]

SUBCOMMANDS = (denoise, deblur, eigen, fuse, ct, ptycho, demo)  # the order of ``recon --help``


def build_parser() -> Parser:
    """The ``recon`` argument parser; each parsed namespace carries ``run``, its subcommand's entry point."""
    parser = Parser(prog="recon", description="Variational image reconstruction: denoising, deblurring, "
                                              "CT, ptychography, fusion.")
    parser.add_argument("--version", action="version", version=f"recon {__version__}")
    names = ",".join(module.__name__.rsplit(".", 1)[1] for module in SUBCOMMANDS)
    sub = parser.add_subparsers(dest="command", required=True, metavar=f"{{{names}}}")
    for module in SUBCOMMANDS:
        module.add_parser(sub)
    return parser


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
