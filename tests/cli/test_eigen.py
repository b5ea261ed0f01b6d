"""``recon eigen``: the eigenfunction and its Rayleigh-quotient plot, errors naming the argument."""
import numpy as np
import pytest

from recon.cli import main
from recon.io import read_image, write_image


@pytest.fixture
def square(tmp_path):
    u = np.zeros((16, 16))
    u[4:12, 5:11] = 1.0
    path = tmp_path / "square.npy"
    write_image(path, u)
    return path


def test_eigen_writes_eigenfunction_and_curve(square, tmp_path, capsys):
    out = tmp_path / "eig.npy"
    assert main(["eigen", "--input", str(square), "--output", str(out)]) == 0
    x = read_image(out)
    assert abs(x.mean()) < 1e-10 and np.linalg.norm(x) == pytest.approx(1.0)
    from recon.functionals import TV

    tv = TV(inner_tol=1e-8, inner_iters=20000)
    t = 0.5 / tv(x)
    z = tv.prox(x, t)
    c = float(np.vdot(z, x))
    assert np.linalg.norm(z - c * x) <= 1e-3  # an eigenfunction: the prox only shrinks it
    assert (tmp_path / "eig_rayleigh.png").stat().st_size > 0
    assert "eigenvalue" in capsys.readouterr().out


def test_eigen_errors(square, tmp_path, capsys):
    out = tmp_path / "eig.png"
    out.write_bytes(b"old")
    assert main(["eigen", "--input", str(square), "--output", str(out)]) == 2
    assert "--output" in capsys.readouterr().err and out.read_bytes() == b"old"
    flat = tmp_path / "flat.npy"
    write_image(flat, np.ones((8, 8)))
    assert main(["eigen", "--input", str(flat), "--output", str(tmp_path / "e.npy")]) == 2
    assert "constant" in capsys.readouterr().err
    assert not (tmp_path / "e.npy").exists()
    assert main(["eigen", "--input", str(square), "--output", str(tmp_path / "e.npy"), "--curve", "x.jpg"]) == 2
    assert "--curve" in capsys.readouterr().err
