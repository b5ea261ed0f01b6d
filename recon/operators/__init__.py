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
