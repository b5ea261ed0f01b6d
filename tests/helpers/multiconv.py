"""MultiConvolution test helpers: random kernels of mixed sizes, the standard-only path, a channel-dependent map."""
import numpy as np

from recon.operators import multiconv as multiconv_module


def _mixed_kernels(channels, sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((co, ci, k, k)) for ci, co, k in zip(channels[:-1], channels[1:], sizes)]


def _standard(W, what, *args):
    """``what`` on the standard-only path (the planes path switched off)."""
    saved = multiconv_module.planes_usable
    multiconv_module.planes_usable = lambda *a: False
    try:
        return getattr(W, what)(*args)
    finally:
        multiconv_module.planes_usable = saved


def _channel_fn(z):
    """A nonlinear map whose value depends on the channel (as a ridge activation's scale does)."""
    c = np.arange(1, z.shape[0] + 1, dtype=z.dtype).reshape((-1,) + (1,) * (z.ndim - 1))
    return np.tanh(c * z) / c
