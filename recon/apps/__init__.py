"""End-to-end pipelines for people who do not want the algebra: plain functions over plain arrays."""
from .deblur import deblur
from .denoise import REGULARIZERS, WaveletL1, denoise

__all__ = ["denoise", "deblur", "WaveletL1", "REGULARIZERS"]
