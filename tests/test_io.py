"""Image files: round trips, conversions, atomic writes, refusal to overwrite."""
import os

import numpy as np
import pytest

from recon import io


@pytest.fixture
def image():
    return np.random.default_rng(0).random((17, 23))


def test_npy_round_trip_is_exact(tmp_path, image):
    for array in (image, image.astype(np.float32), image + 1j * image):
        path = tmp_path / f"x_{array.dtype}.npy"
        io.write_image(path, array)
        back = io.read_image(path)
        assert back.dtype == array.dtype
        np.testing.assert_array_equal(back, array)


def test_npy_integers_become_float_unscaled(tmp_path):
    np.save(tmp_path / "i.npy", np.array([[0, 7], [300, 65535]], dtype=np.uint16))
    back = io.read_image(tmp_path / "i.npy")
    assert back.dtype == np.float64
    np.testing.assert_array_equal(back, [[0, 7], [300, 65535]])


def test_tiff_round_trip_is_float32(tmp_path, image):
    # values outside [0, 1] survive: TIFF is not clipped
    array = 3.0 * image - 1.0
    io.write_image(tmp_path / "x.tif", array)
    back = io.read_image(tmp_path / "x.tif")
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, array.astype(np.float32))


def test_png_round_trip_quantises_and_clips(tmp_path, image):
    io.write_image(tmp_path / "x.png", image)
    back = io.read_image(tmp_path / "x.png")
    assert back.dtype == np.float64 and back.shape == image.shape
    assert np.max(np.abs(back - image)) <= 0.5 / 255 + 1e-12
    io.write_image(tmp_path / "clip.png", np.array([[-0.5, 0.25], [1.0, 7.0]]))
    np.testing.assert_allclose(io.read_image(tmp_path / "clip.png"), [[0.0, 64 / 255], [1.0, 1.0]])


@pytest.mark.parametrize("suffix, dtype, scale", [(".png", np.uint8, 255), (".png", np.uint16, 65535),
                                                  (".tif", np.uint8, 255), (".tiff", np.uint16, 65535)])
def test_integer_images_scaled_to_unit_interval(tmp_path, suffix, dtype, scale):
    import imageio.v3 as iio
    import tifffile

    raw = np.array([[0, 1, 2], [scale // 2, scale - 1, scale]], dtype=dtype)
    path = tmp_path / f"raw{suffix}"
    if suffix == ".png":
        iio.imwrite(path, raw)
    else:
        tifffile.imwrite(path, raw)
    np.testing.assert_allclose(io.read_image(path), raw / scale, rtol=1e-15)


def test_rgb_becomes_luminance_and_alpha_is_dropped(tmp_path):
    import imageio.v3 as iio

    rgba = np.zeros((2, 3, 4), dtype=np.uint8)
    rgba[0, :, 0] = 255  # red row
    rgba[1, :, 1] = 255  # green row
    rgba[..., 3] = 17  # alpha must not matter
    iio.imwrite(tmp_path / "c.png", rgba)
    gray = io.read_image(tmp_path / "c.png")
    assert gray.shape == (2, 3)
    np.testing.assert_allclose(gray[0], 0.2125)
    np.testing.assert_allclose(gray[1], 0.7154)


def test_write_accepts_other_backends(tmp_path, make, xp, dtype):
    x = make(np.eye(4))
    io.write_image(tmp_path / "x.npy", x)
    back = io.read_image(tmp_path / "x.npy")
    assert isinstance(back, np.ndarray)
    np.testing.assert_array_equal(back, np.eye(4))


def test_refuses_to_overwrite_without_force(tmp_path, image):
    path = tmp_path / "x.npy"
    io.write_image(path, image)
    with pytest.raises(FileExistsError, match=r"x\.npy"):
        io.write_image(path, 2 * image)
    np.testing.assert_array_equal(np.load(path), image)
    io.write_image(path, 2 * image, force=True)
    np.testing.assert_array_equal(np.load(path), 2 * image)
    assert sorted(os.listdir(tmp_path)) == ["x.npy"]  # no temporary left behind


def test_failed_write_leaves_nothing(tmp_path, image, monkeypatch):
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        io.write_image(tmp_path / "x.npy", image)
    assert os.listdir(tmp_path) == []


def test_forced_failed_write_keeps_old_file(tmp_path, image, monkeypatch):
    path = tmp_path / "x.npy"
    io.write_image(path, image)
    monkeypatch.setattr(np, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError):
        io.write_image(path, 2 * image, force=True)
    np.testing.assert_array_equal(np.load(path), image)
    assert os.listdir(tmp_path) == ["x.npy"]


def test_written_file_has_ordinary_permissions(tmp_path, image):
    io.write_image(tmp_path / "x.npy", image)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "x.npy").st_mode & 0o777 == 0o666 & ~umask


def test_read_errors_name_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.png"):
        io.read_image(tmp_path / "nope.png")
    with pytest.raises(ValueError, match=r"unknown image format '\.jpg' for .*x\.jpg.*supported"):
        io.read_image(tmp_path / "x.jpg")
    for name in ("bad.png", "bad.tif", "bad.npy"):
        (tmp_path / name).write_bytes(b"this is not an image")
        with pytest.raises(ValueError, match=f"cannot read .*{name}"):
            io.read_image(tmp_path / name)


def test_write_errors(tmp_path, image):
    with pytest.raises(ValueError, match=r"unknown image format '\.bmp'"):
        io.write_image(tmp_path / "x.bmp", image)
    with pytest.raises(FileNotFoundError, match="output directory does not exist"):
        io.write_image(tmp_path / "missing" / "x.npy", image)
    with pytest.raises(ValueError, match="NaN or infinity"):
        io.write_image(tmp_path / "x.png", np.full((3, 3), np.nan))
    with pytest.raises(ValueError, match=r"PNG needs a 2-D .* got shape \(2, 3, 4, 5\)"):
        io.write_image(tmp_path / "x.png", np.zeros((2, 3, 4, 5)))
    assert os.listdir(tmp_path) == []
