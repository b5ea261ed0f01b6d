"""Helpers shared by several test modules (imported as ``tests.helpers...``); fixtures stay in conftest."""


def tolerance(dtype, xp, f64=1e-10, f32=1e-4):
    """The test tolerance for a dtype."""
    return f32 if dtype == xp.float32 else f64
