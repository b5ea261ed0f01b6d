"""`recon fuse`: writes the image and the kernel PNG, reads .mat, errors exit 2 and write nothing, --force."""
import numpy as np
from scipy.io import savemat

from recon.cli import main


def _inputs(tmp_path, n=16):
    rng = np.random.default_rng(0)
    photo = rng.random((n, n))
    band = photo.reshape(n // 4, 4, n // 4, 4).mean(axis=(1, 3))
    np.save(tmp_path / "band.npy", band)
    np.save(tmp_path / "photo.npy", photo)
    savemat(tmp_path / "case.mat", {"data": band, "side_info": np.stack([photo] * 3, axis=-1)})
    return tmp_path / "band.npy", tmp_path / "photo.npy", tmp_path / "case.mat"


def test_fuse_writes_image_and_kernel(tmp_path, capsys):
    band, photo, _ = _inputs(tmp_path)
    out = tmp_path / "fused.npy"
    args = ["fuse", "--data", str(band), "--side-info", str(photo), "--output", str(out),
            "--kernel-size", "3", "--iters", "3"]
    assert main(args) == 0
    assert np.load(out).shape == (16, 16) and (tmp_path / "fused_kernel.png").exists()
    before = out.read_bytes()
    assert main(args) == 2  # exists: not overwritten without --force
    assert "use --force" in capsys.readouterr().err and out.read_bytes() == before
    assert main(args + ["--force"]) == 0


def test_fuse_reads_mat_fields(tmp_path):
    _, _, mat = _inputs(tmp_path)
    out = tmp_path / "fused.png"
    assert main(["fuse", "--data", str(mat), "--side-info", str(mat), "--output", str(out),
                 "--kernel-size", "3", "--iters", "2", "--reg", "tv"]) == 0
    assert out.exists()


def test_fuse_errors_exit_2_and_write_nothing(tmp_path, capsys):
    band, photo, _ = _inputs(tmp_path)
    out = tmp_path / "fused.npy"
    base = ["fuse", "--data", str(band), "--side-info", str(photo), "--output", str(out), "--iters", "2"]
    assert main(base + ["--factor", "2"]) == 2
    assert "side_info has shape" in capsys.readouterr().err
    assert main(base + ["--kernel-size", "4"]) == 2
    assert "kernel_size must be a positive odd int" in capsys.readouterr().err
    assert main(base + ["--weight", "-1"]) == 2
    assert main(base + ["--no-blind"]) == 2
    assert "needs a kernel" in capsys.readouterr().err
    assert main(base + ["--register", "elastic"]) == 2
    assert not out.exists() and not (tmp_path / "fused_kernel.png").exists()
