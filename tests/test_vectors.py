"""recon.vectors on arrays and tuples of arrays (block vectors)."""
import numpy as np

from recon import vectors as V


def test_block_arithmetic():
    a = (np.array([1.0, 2.0]), np.array([[3.0]]))
    b = (np.array([0.5, -1.0]), np.array([[2.0]]))
    assert V.vdot(a, b) == 0.5 - 2.0 + 6.0
    assert V.norm(a) == np.sqrt(14.0)
    assert V.shape_of(a) == ((2,), (1, 1))
    lc = V.lincomb(2.0, a, -1.0, b)
    np.testing.assert_array_equal(lc[0], [1.5, 5.0])
    c = V.copy(a)
    assert c[0] is not a[0] and np.array_equal(c[0], a[0])
    V.add_into(c, b)
    V.scale_into(c, 2.0)
    np.testing.assert_array_equal(c[1], [[10.0]])
    out = V.zeros(V.shape_of(a), a[0])
    assert V.assign(out, a) is out and np.array_equal(out[0], a[0])
    assert V.relative_change(a, a) == 0.0
    assert V.relative_change(V.zeros_like(a), a) == V.norm(a)  # new = 0: the absolute change


def test_complex_inner_product_is_real():
    a = np.array([1 + 1j, 2j])
    assert V.vdot(a, a) == 6.0 and abs(V.norm(a) ** 2 - 6.0) < 1e-12
    r = V.random_like(((2,), (3,)), dtype=np.complex64, seed=1)
    assert r[0].dtype == np.complex64 and r[1].shape == (3,)
