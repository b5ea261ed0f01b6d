"""Training data: a folder of PNG images, random patches of them, held-out validation crops."""
from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["read_images", "sample_patches", "hold_out"]


def read_images(folder):
    """The grayscale PNG images of ``folder`` (sorted by name) as float32 arrays."""
    from ..io import read_image

    files = sorted(Path(folder).glob("*.png"))
    if not files:
        raise FileNotFoundError(f"images must be a folder of PNG images, none in {folder}")
    return [np.asarray(read_image(f), dtype=np.float32) for f in files]


def sample_patches(images, size, count, rng, *, augment=True):
    """``count`` random ``size`` × ``size`` patches ``(count, 1, size, size)``.

    ``augment``: each in one of the eight symmetries of the square (rotations, flips), drawn from ``rng``.
    """
    out = np.empty((count, 1, size, size), dtype=np.float32)
    for n in range(count):
        img = images[rng.integers(len(images))]
        if min(img.shape) < size:
            raise ValueError(f"patch must not exceed the image size, got {size} for an image of {img.shape}")
        i, j = rng.integers(img.shape[0] - size + 1), rng.integers(img.shape[1] - size + 1)
        p = img[i : i + size, j : j + size]
        if augment:
            p = np.rot90(p, int(rng.integers(4)))
            p = p[:, ::-1] if rng.integers(2) else p
        out[n, 0] = p
    return out


def hold_out(images, count, crop):
    """``(training images, validation crops)``: the last ``count`` images held out, as centre crops of ``crop``."""
    if not 0 <= count < len(images):
        raise ValueError(f"validation_images must be in [0, {len(images) - 1}], got {count}")
    validation = []
    for img in images[len(images) - count :]:
        c = min(crop, *img.shape)
        i0, j0 = (img.shape[0] - c) // 2, (img.shape[1] - c) // 2
        validation.append(img[i0 : i0 + c, j0 : j0 + c])
    return images[: len(images) - count], validation
