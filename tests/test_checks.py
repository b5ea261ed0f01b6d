"""recon._checks: values pass through normalised, errors name the argument and the value."""
import math
import re

import numpy as np
import pytest

from recon import _checks


def test_finite_bounds_and_messages():
    assert _checks.finite(np.float32(0.5), "w", gt=0, le=1) == 0.5
    assert _checks.finite(np.array(2.0), "w") == 2.0
    with pytest.raises(ValueError, match=re.escape("weight must be a finite number >= 0, got -0.1")):
        _checks.finite(-0.1, "weight", ge=0)
    with pytest.raises(ValueError, match=re.escape("theta must be a finite number >= 0 and <= 1, got 2.0")):
        _checks.finite(2, "theta", ge=0, le=1)
    for bad in (math.inf, math.nan, "a", None, True):
        with pytest.raises(ValueError, match="x must be a finite number"):
            _checks.finite(bad, "x")
    assert _checks.finite_or_none(None, "step", gt=0) is None
    assert _checks.tolerance(0) == 0.0
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        _checks.tolerance(-1e-3)


def test_ints_options_callables():
    assert _checks.positive_int(np.int64(3), "n") == 3
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="n must be a positive int"):
            _checks.positive_int(bad, "n")
    assert _checks.one_of("a", "mode", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"mode must be one of \('a', 'b'\), got 'c'"):
        _checks.one_of("c", "mode", ("a", "b"))
    assert _checks.callable_or_none(None, "cb") is None
    with pytest.raises(TypeError, match="cb must be callable or None, got int"):
        _checks.callable_or_none(1, "cb")


def test_arrays():
    x = np.zeros((2, 3))
    assert _checks.finite_array(_checks.shape(_checks.array(x, "x"), (2, 3), "x"), "x") is x
    with pytest.raises(TypeError, match="x must be an array, got list"):
        _checks.array([1.0], "x")
    with pytest.raises(ValueError, match=r"y has shape \(2, 3\), expected K.shape_out = \(3,\)"):
        _checks.shape(x, (3,), "y", "K.shape_out")
    with pytest.raises(ValueError, match="x contains NaN or infinity"):
        _checks.finite_array((x, np.array([np.nan])), "x")
