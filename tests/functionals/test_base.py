"""The Functional protocol: prox / prox_conj check the step once and call _prox / _prox_conj; the
*_into forms write into ``out``; scaled, separable and summed functionals forward them."""
import numpy as np
import pytest

from recon.functionals import L1, L21, Functional, L2DataFidelity, SeparableSum, Zero


class Counting(Functional):
    """F = 0.5 ||x||^2 with a counter of _prox calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        return 0.5 * float(np.sum(x * x))

    def _prox(self, x, tau):
        self.calls += 1
        return x / (1.0 + tau)


@pytest.mark.parametrize("method", ["prox", "prox_conj"])
@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan])
def test_step_checked_with_its_name(method, bad):
    name = "tau" if method == "prox" else "sigma"
    with pytest.raises(ValueError, match=f"{name} must be a finite number > 0"):
        getattr(Counting(), method)(np.ones(3), bad)
    with pytest.raises(ValueError, match=f"{name} must be a finite number > 0"):
        getattr(Counting(), method + "_into")(np.ones(3), bad, np.empty(3))


def test_moreau_default_and_into_forms():
    F, x = Counting(), np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(F.prox(x, 1.0), x / 2)
    np.testing.assert_allclose(F.prox_conj(x, 2.0), x - 2.0 * (x / 2.0) / (1 + 0.5))
    out = np.empty(3)
    assert F.prox_into(x, 1.0, out) is out and np.array_equal(out, F.prox(x, 1.0))
    assert F.prox_conj_into(x, 2.0, x) is x  # in place on the input


def test_wrappers_forward_the_into_methods():
    rng = np.random.default_rng(1)
    y, x = rng.standard_normal(5), rng.standard_normal(5)
    for F in (2.0 * L2DataFidelity(y), 0.5 * L1(), L1() + Zero(), Zero() + 3.0 * L1()):
        out = np.empty(5)
        np.testing.assert_allclose(F.prox_into(x, 0.3, out), F.prox(x, 0.3), rtol=1e-13, atol=1e-15)
    p = rng.standard_normal((2, 4, 3))
    for F in (L21(), 0.7 * L21()):
        out = np.empty_like(p)
        np.testing.assert_allclose(F.prox_conj_into(p, 0.4, out), F.prox_conj(p, 0.4), rtol=1e-12)
    S = SeparableSum(0.7 * L21(), L2DataFidelity(y))
    blocks = (p.copy(), x.copy())
    got = S.prox_conj_into(blocks, 0.4, blocks)
    want = S.prox_conj((p, x), 0.4)
    assert got[0] is blocks[0]
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
