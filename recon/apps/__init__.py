"""End-to-end pipelines for people who do not want the algebra: plain functions over plain arrays."""
from .deblur import deblur
from .denoise import REGULARIZERS, WaveletL1, denoise
from .spectral import band_pass, tv_spectral_decomposition

__all__ = ["denoise", "deblur", "WaveletL1", "REGULARIZERS", "tv_spectral_decomposition", "band_pass"]
