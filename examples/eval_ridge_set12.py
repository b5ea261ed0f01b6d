"""Set12 denoising PSNR of a ridge regularizer, the way the model cards report it.

Usage::

    python examples/eval_ridge_set12.py ../shared/data/images/set12 crr 25           # published convex model
    python examples/eval_ridge_set12.py ../shared/data/images/set12 data/crr_sigma25_cpu23min.npz 25

Noise: ``sigma/255`` Gaussian on the [0, 1] image, one NumPy draw per image
(``default_rng(index)``), the same for every model; denoiser: :func:`recon.denoise` (λ = 1,
accelerated gradient with restart, tol 1e-4).  Prints one JSON line.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np

from recon import denoise, metrics
from recon.io import read_image
from recon.learned import load_npz

if __name__ == "__main__":
    folder, model, level = sys.argv[1], sys.argv[2], float(sys.argv[3])
    reg = load_npz(model) if model.endswith(".npz") else model
    sigma = level / 255
    out, start = {}, time.perf_counter()
    for i, f in enumerate(sorted(Path(folder).glob("*.png"))):
        clean = np.asarray(read_image(f), dtype=np.float32)
        noisy = (clean + sigma * np.random.default_rng(i).standard_normal(clean.shape)).astype(np.float32)
        out[f.name] = round(float(metrics.psnr(denoise(noisy, reg=reg, sigma=sigma), clean, data_range=1.0)), 3)
    print(json.dumps({"model": model, "sigma": level, "psnr": out, "mean": round(float(np.mean(list(out.values()))), 3),
                      "seconds": round(time.perf_counter() - start, 1)}))
