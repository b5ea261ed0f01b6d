"""Linear operators (forward models) and their algebra."""
from .base import (
    Diagonal,
    Identity,
    LinearOperator,
    MatrixOperator,
    dottest,
    lincomb,
    norm,
    random_like,
    stack,
    vdot,
    zeros_like,
)
from .gradient import Divergence, Gradient
from .convolution import Blur, Convolution, disk_kernel, gaussian_kernel, motion_kernel
from .multiconv import MultiConvolution
from .sampling import Crop, Downsample, Mask, Pad, Subsample
from .wavelet import Wavelet
from .tomography import Radon
from .warp import Warp, rotation
from .ptychography import ExitWaves, FarField, NearField, ProbeExitWaves
