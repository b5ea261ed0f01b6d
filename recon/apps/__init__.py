"""End-to-end pipelines for people who do not want the algebra: plain functions over plain arrays.

::

    recon/apps/
      denoise.py    recon.denoise: the prox of the prior (TV, Tikhonov, wavelet, learned ridge by name or instance)
      deblur.py     recon.deblur: FISTA (monotone APG for a weakly convex ridge prior)
      spectral.py   spectral TV decomposition and band-pass filtering
      eigen.py      TV eigenfunctions by the nonlinear power method
"""
from .deblur import deblur
from .denoise import REGULARIZERS, WaveletL1, denoise
from .spectral import band_pass, tv_spectral_decomposition

__all__ = ["denoise", "deblur", "WaveletL1", "REGULARIZERS", "tv_spectral_decomposition", "band_pass"]
