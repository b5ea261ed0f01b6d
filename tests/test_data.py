"""Test images and phantoms: shape, range, dtype, backend."""
import numpy as np
import pytest

from recon import backend, data

IMAGES = [
    (data.camera, (512, 512)),
    (data.moon, (512, 512)),
    (data.coins, (303, 384)),
    (lambda **kw: data.shepp_logan(96, **kw), (96, 96)),
    (lambda **kw: data.disks(80, **kw), (80, 80)),
]


@pytest.mark.parametrize("make_image, shape", IMAGES)
@pytest.mark.parametrize("dtype", ["float32", "float64", None])
def test_images_are_gray_floats_in_unit_interval(make_image, shape, dtype):
    x = make_image(dtype=dtype)
    assert isinstance(x, np.ndarray)
    assert x.shape == shape
    assert x.dtype == np.dtype(dtype or "float64")
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    # not a blank image: a test image carries structure
    assert float(x.std()) > 0.05


def test_camera_is_skimage_camera_scaled():
    import skimage.data

    np.testing.assert_array_equal(data.camera(), skimage.data.camera() / 255.0)


def test_dtype_accepts_namespace_dtype_and_rejects_others():
    assert data.camera(dtype=np.float32).dtype == np.float32
    with pytest.raises(ValueError, match=r"dtype must be one of .*'int8'"):
        data.camera(dtype="int8")


def test_shepp_logan_levels_and_orientation():
    x = data.shepp_logan(128, supersample=1)
    # the modified phantom takes only these grey levels at pixel centres
    levels = set(np.round(np.unique(x), 9))
    assert levels <= {0.0, 0.1, 0.2, 0.3, 0.4, 1.0}
    assert x[64, 64] == pytest.approx(0.2)  # brain tissue at the centre
    # the inner ellipse is centred at y = -0.0184, so with row 0 at the top of the head the
    # skull is thicker in the first rows than in the last ones
    col = x[:, 64]
    top = int(np.argmax(col > 0.5))
    bottom = int(np.argmax(col[::-1] > 0.5))
    assert top == bottom  # outer ellipse symmetric
    inner_top = top + int(np.argmax(col[top:] < 0.5))
    inner_bottom = bottom + int(np.argmax(col[::-1][bottom:] < 0.5))
    assert inner_top - top > inner_bottom - bottom


def test_shepp_logan_close_to_skimage_phantom():
    import skimage.data

    ref = skimage.data.shepp_logan_phantom()  # 400 x 400, same modified intensities
    x = data.shepp_logan(400, supersample=1)
    # both rasterise the same ellipses; only pixels on edges may disagree
    assert np.mean(np.abs(x - ref) > 0.05) < 0.02


def test_shepp_logan_supersampling_antialiases_edges():
    sharp = data.shepp_logan(64, supersample=1)
    smooth = data.shepp_logan(64, supersample=4)
    assert len(np.unique(smooth)) > len(np.unique(sharp))
    assert np.mean(np.abs(smooth - sharp)) < 0.05


def test_disks_reproducible_and_piecewise_constant():
    a, b = data.disks(64, count=6, seed=3), data.disks(64, count=6, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, data.disks(64, count=6, seed=4))
    assert len(np.unique(a)) <= 7  # background + one level per disk
    assert a.min() == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: data.shepp_logan(0), "n must be a positive int, got 0"),
        (lambda: data.shepp_logan(32, supersample=1.5), "supersample must be a positive int"),
        (lambda: data.disks(32, count=-1), "count must be a positive int, got -1"),
        (lambda: data.disks(32, radius=(0.2, 0.1)), "radius must be"),
    ],
)
def test_bad_arguments_name_themselves(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_created_in_default_backend():
    with backend.use("numpy"):
        x = data.disks(16)
    assert isinstance(x, np.ndarray)


def test_created_on_gpu_when_default_is_cupy():
    cupy = pytest.importorskip("cupy")
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            pytest.skip("no GPU")
    except Exception:
        pytest.skip("no GPU")
    with backend.use("cupy"):
        x = data.shepp_logan(32, dtype="float32")
    assert isinstance(x, cupy.ndarray) and x.dtype == cupy.float32


def test_load_image_reads_into_default_backend(tmp_path):
    from recon import io

    x = np.random.default_rng(0).random((9, 7))
    io.write_image(tmp_path / "x.npy", x)
    y = data.load_image(tmp_path / "x.npy", dtype="float32")
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, x, rtol=1e-7)
    with pytest.raises(FileNotFoundError, match=r"missing\.png"):
        data.load_image(tmp_path / "missing.png")
