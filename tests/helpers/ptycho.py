"""Ptychography test cases: smooth complex object, probe, Fermat spiral scan, simulated data."""
import numpy as np

from recon import ptycho


def smooth_object(M, seed=0):
    """A smooth-ish complex test object: amplitude in [0.6, 1], phase in [-0.5, 0.5] rad."""
    from skimage import data as skd
    from skimage.transform import resize

    amp = 0.6 + 0.4 * resize(skd.camera() / 255.0, (M, M), anti_aliasing=True)
    phase = resize(skd.moon() / 255.0, (M, M), anti_aliasing=True) - 0.5
    return amp * np.exp(1j * phase)


def make_case(M=64, m=32, J=40, diameter=16):
    """``(obj, probe, positions, scan)``: an M² object, an m² disk probe, J integer spiral positions, noiseless."""
    obj = smooth_object(M)
    probe = ptycho.make_probe((m, m), diameter)
    positions = ptycho.fermat_spiral(J, (M, M), (m, m))
    return obj, probe, positions, ptycho.simulate(obj, probe, positions)


def subpixel_case(J=40):
    """:func:`make_case` with sub-pixel spiral positions kept 0.6 px inside the grid.

    Returns ``(obj, probe, positions, scan)``.
    """
    obj, probe, _, _ = make_case(J=J)
    positions = np.clip(ptycho.fermat_spiral(J, obj.shape, probe.shape, integer=False), 0.6, 31.4)
    return obj, probe, positions, ptycho.simulate(obj, probe, positions)
