"""Linear operators (forward models) and their algebra."""
from ..vectors import lincomb, norm, random_like, vdot, zeros_like
from .base import Diagonal, Identity, LinearOperator, MatrixOperator, dottest, stack
from .gradient import Divergence, Gradient
from .convolution import Blur, Convolution, disk_kernel, gaussian_kernel, motion_kernel
from .multiconv import MultiConvolution
from .sampling import Crop, Downsample, Mask, Pad, Subsample
from .wavelet import Wavelet
from .radon import Radon
from .warp import Warp, rotation
from .ptychography import ExitWaves, FarField, NearField, ProbeExitWaves
