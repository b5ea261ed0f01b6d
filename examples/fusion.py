"""Blind hyperspectral fusion with directional TV: TV vs dTV, non-blind vs blind, on trees1_shift_5px_disk.

    python examples/fusion.py [--iters 60] [--output fusion.png]

Reads the published data from ../shared/data/fusion (or $RECON_SHARED_DATA); prints one line per method
(SSIM to the ground truth, kernel barycentre) and saves a figure.
"""
import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy.io import loadmat  # noqa: E402
from skimage.transform import resize  # noqa: E402

import recon  # noqa: E402
from recon.metrics import ssim  # noqa: E402


def barycentre(k):
    r, c = np.mgrid[: k.shape[0], : k.shape[1]]
    centre = k.shape[0] // 2
    return float((k * r).sum()) - centre, float((k * c).sum()) - centre


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iters", type=int, default=60)
    parser.add_argument("--output", default="fusion.png")
    args = parser.parse_args()
    root = Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[1] / ".." / "shared" / "data"))
    d = loadmat(root / "fusion" / "trees1_shift_5px_disk.mat")
    g = loadmat(root / "fusion" / "trees1_shift_5px_disk_ground_truth.mat")
    data, photo, truth = d["data"], d["side_info"], g["ground_truth"]
    true_kernel = np.roll(g["kernel"], (5, -5), axis=(0, 1))  # the data were made with the shifted disk

    images = {"bicubic": resize(data, truth.shape, order=3, mode="symmetric")}
    kernels = {}
    for reg in ("tv", "dtv"):
        for blind in (False, True):
            name = f"{reg} {'blind' if blind else 'non-blind'}"
            res = recon.fuse(data, photo, 4, reg=reg, blind=blind, kernel=None if blind else true_kernel,
                             iters=args.iters)
            images[name], kernels[name] = res.x, res.kernel
            print(f"{name:16s} SSIM {ssim(res.x, truth):.3f}  kernel barycentre {barycentre(res.kernel)}")
    print(f"{'bicubic':16s} SSIM {ssim(images['bicubic'], truth):.3f}")

    fig, axes = plt.subplots(2, 4, figsize=(14, 7))
    panels = [("photo", photo), ("data", data), ("ground truth", truth), ("bicubic", images["bicubic"])]
    panels += [(n, images[n]) for n in ("tv blind", "dtv non-blind", "dtv blind")]
    for ax, (title, img) in zip(axes.flat, panels):
        ax.imshow(np.clip(img, 0, 1), cmap=None if img.ndim == 3 else "gray")
        extra = f" SSIM {ssim(img, truth):.2f}" if img.shape == truth.shape and img.ndim == 2 else ""
        ax.set_title(title + extra)
    axes.flat[-1].imshow(kernels["dtv blind"], cmap="magma")
    axes.flat[-1].set_title("blind dTV kernel (true: disk at (+5, -5))")
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)


if __name__ == "__main__":
    main()
