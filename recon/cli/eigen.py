"""``recon eigen``: a TV eigenfunction by the nonlinear power method :math:`u \\leftarrow T(u)/\\|T(u)\\|`.

:math:`T = \\operatorname{prox}_{t\\,\\mathrm{TV}}` (:func:`recon.apps.eigen.tv_eigenfunction`); writes the
eigenfunction and a PNG of the Rayleigh quotient :math:`\\mathrm{TV}(u)/\\|u\\|` and the eigen-residual.
"""
from __future__ import annotations

from pathlib import Path

from ._common import (
    UsageError,
    add_run_options,
    check_new,
    check_output,
    load_input,
    nonnegative_float,
    positive_int,
    save_figure,
    save_output,
    use_backend,
)

__all__ = ["add_parser", "run"]


def add_parser(sub):
    p = sub.add_parser("eigen", help="TV eigenfunction by the nonlinear power method",
                       description="Nonlinear power method u <- prox_tTV(u)/||.|| from the input image; writes the "
                                   "eigenfunction and the Rayleigh-quotient curve TV(u)/||u|| as PNG.")
    p.add_argument("--input", "-i", required=True, help="start image (.png, .tif, .tiff, .npy)")
    p.add_argument("--output", "-o", required=True,
                   help="eigenfunction (.png: rescaled to [0, 1] for display; .tif/.npy: exact values)")
    p.add_argument("--curve", default=None, help="Rayleigh-quotient plot (default: <output stem>_rayleigh.png)")
    p.add_argument("--functional", default="tv", choices=("tv", "tv-anisotropic"), help="(default: %(default)s)")
    p.add_argument("--iters", type=positive_int, default=300, help="power-method iterations (default: %(default)s)")
    p.add_argument("--tol", type=nonnegative_float, default=1e-4,
                   help="eigen-residual tolerance (default: %(default)s)")
    add_run_options(p)
    p.set_defaults(run=run)
    return p


def run(args) -> int:
    from ..apps.eigen import tv_eigenfunction

    out = check_output(args.output, args.force)
    curve = Path(args.curve) if args.curve else out.with_name(out.stem + "_rayleigh.png")
    if curve.suffix.lower() != ".png":
        raise UsageError(f"--curve: must be a .png file, got {str(curve)!r}")
    check_new(curve, args.force, "--curve")
    with use_backend(args.backend):
        u0 = load_input(args.input)
        try:
            result = tv_eigenfunction(u0, isotropic=args.functional == "tv", iters=args.iters, tol=args.tol,
                                      progress=args.progress)
        except ValueError as err:
            raise UsageError(f"--input: {err}") from None
        x = result.x
        if out.suffix.lower() == ".png":  # 8-bit PNG holds [0, 1]: rescale the zero-mean eigenfunction
            lo, hi = float(x.min()), float(x.max())
            x = (x - lo) / (hi - lo) if hi > lo else x - lo
        save_output(out, x, args.force)
        _rayleigh_figure(curve, result, args.force)
    print(f"recon eigen: wrote {out} and {curve} ({result.iterations} iterations, eigenvalue "
          f"{result.extras['eigenvalue']:.4g}; {result.message})")
    return 0


def _rayleigh_figure(path, result, force):
    import matplotlib

    matplotlib.use("Agg")  # files only: no display needed, none assumed
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    axes[0].plot(result.history["iteration"], result.history["rayleigh"], marker=".")
    axes[0].set(xlabel="iteration", ylabel="TV(u) / ||u||", title="Rayleigh quotient (non-increasing)")
    axes[1].semilogy(result.history["iteration"], result.history["residual"], marker=".")
    axes[1].set(xlabel="iteration", ylabel="||T(u) - c u|| / ||T(u)||", title="eigen-residual")
    fig.tight_layout()
    save_figure(fig, path, force, "--curve")
