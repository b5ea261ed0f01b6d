"""Reading and writing images: PNG, TIFF and NPY, atomically and without surprises.

This is the host side of recon: files are read into NumPy arrays, and arrays of any backend
are copied to the host (:func:`recon.backend.to_numpy`) before they are written.

Reading (:func:`read_image`)
    * ``.npy``: the stored array; floating and complex arrays keep their dtype, integer and
      boolean arrays become ``float64`` *unscaled* (an NPY file holds numbers, not an encoding).
    * ``.png``, ``.tif``, ``.tiff``: unsigned integer images are divided by the largest value of
      their type (255 for 8-bit, 65535 for 16-bit), so they land in :math:`[0, 1]`; floating
      TIFFs keep their values; signed integers are converted unscaled.  An image whose last
      axis has 3 or 4 entries is RGB(A): the alpha channel is dropped and the colours combined
      into luminance :math:`0.2125 R + 0.7154 G + 0.0721 B` (ITU-R BT.709, as scikit-image's
      ``rgb2gray``); a grey+alpha image keeps its grey channel.

Writing (:func:`write_image`)
    * ``.png``: 8-bit grayscale (or RGB for a trailing axis of 3); values are clipped to
      :math:`[0, 1]` and rounded to 256 levels.  Clipping happens *only* here, because the 8-bit
      encoding cannot hold anything else; use TIFF or NPY to keep values.
    * ``.tif``/``.tiff``: ``float32``, values unchanged (up to float32 rounding).
    * ``.npy``: the array exactly, dtype included.

Every write goes to a temporary file in the destination directory that is renamed over the
destination only once complete (``os.replace``), so a reader never sees half a file and a
failed write leaves nothing behind.  An existing destination is an error unless ``force=True``.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from .backend import to_numpy

__all__ = ["read_image", "write_image", "atomic_write", "FORMATS"]

FORMATS = (".npy", ".png", ".tif", ".tiff")
_LUMINANCE = np.array([0.2125, 0.7154, 0.0721])


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"unknown image format {suffix or '(no extension)'!r} for {str(path)!r}; "
            f"supported: {', '.join(FORMATS)}"
        )
    return suffix


def read_image(path) -> np.ndarray:
    """Read a PNG, TIFF or NPY file into a NumPy array (conversions in the module docstring).

    Parameters
    ----------
    path : str or path-like
        File to read; the format follows the extension (case-insensitive).

    Returns
    -------
    image : numpy.ndarray
        ``float64`` for integer PNG/TIFF images (scaled to :math:`[0, 1]`); grayscale for colour.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the extension is unknown or the file cannot be decoded (the message names ``path``).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from recon.io import read_image, write_image
    >>> path = os.path.join(tempfile.mkdtemp(), "ramp.png")
    >>> write_image(path, np.linspace(0, 1, 256).reshape(16, 16))
    >>> image = read_image(path)
    >>> image.dtype, float(image.min()), float(image.max())
    (dtype('float64'), 0.0, 1.0)
    """
    path = Path(path)
    suffix = _format(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {str(path)!r}")
    try:
        if suffix == ".npy":
            raw = np.load(path, allow_pickle=False)
        elif suffix == ".png":
            import imageio.v3 as iio

            raw = np.asarray(iio.imread(path, plugin="pillow", extension=".png"))
        else:
            import tifffile

            raw = tifffile.imread(path)
    except (OSError, ValueError, EOFError, SyntaxError) as err:
        raise ValueError(f"cannot read {str(path)!r} as {suffix[1:].upper()}: {err}") from err
    if raw.dtype.kind not in "biufc":
        raise ValueError(f"{str(path)!r} holds {raw.dtype} data, not numbers")
    if suffix == ".npy":
        return raw if raw.dtype.kind in "fc" else raw.astype(np.float64)
    return _to_gray(_to_float(raw))


def _to_float(raw: np.ndarray) -> np.ndarray:
    if raw.dtype.kind == "u":
        return raw.astype(np.float64) / float(np.iinfo(raw.dtype).max)
    if raw.dtype.kind in "bi":
        return raw.astype(np.float64)
    return raw


def _to_gray(image: np.ndarray) -> np.ndarray:
    if image.ndim != 3 or image.shape[-1] not in (2, 3, 4):
        return image
    if image.shape[-1] == 2:  # grey + alpha
        return image[..., 0]
    rgb = image[..., :3]
    return rgb @ _LUMINANCE.astype(rgb.dtype)


def write_image(path, x, *, force: bool = False) -> None:
    """Write an array to PNG (8-bit, clipped), TIFF (float32) or NPY (exact), atomically.

    Parameters
    ----------
    path : str or path-like
        Destination; the format follows the extension.
    x : array
        Image of any supported backend (copied to the host).  PNG takes a 2-D array or an
        ``(H, W, 3)`` RGB array; PNG and TIFF refuse NaN and infinity.
    force : bool, default False
        Replace an existing file.  Without it an existing ``path`` is an error.

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``force`` is false (nothing is written).
    FileNotFoundError
        If the directory of ``path`` does not exist.
    ValueError
        For an unknown extension, a shape PNG cannot hold, or non-finite values.

    Notes
    -----
    The data are written to a temporary file next to ``path`` and renamed onto it
    (``os.replace``, atomic on POSIX and Windows).  Without ``force`` the final step is a
    hard link, which fails rather than replace a file that appeared while writing.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from recon.io import read_image, write_image
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> x = np.arange(6.0).reshape(2, 3)
    >>> write_image(path, x)
    >>> bool(np.array_equal(read_image(path), x))
    True
    """
    path = Path(path)
    suffix = _format(path)
    _check_destination(path, force)
    array = to_numpy(x)
    encode = {".npy": _encode_npy, ".png": _encode_png, ".tif": _encode_tiff, ".tiff": _encode_tiff}[suffix]
    if suffix != ".npy" and not np.all(np.isfinite(array)):
        raise ValueError(f"cannot write {str(path)!r}: image contains NaN or infinity")
    atomic_write(path, encode(array, path), force=force)


def _exists_error(path: Path) -> FileExistsError:
    return FileExistsError(f"output file exists: {str(path)!r} (use force=True / --force to overwrite)")


def _check_destination(path: Path, force: bool) -> Path:
    """The directory of ``path``, after checking it exists and ``path`` may be written."""
    if path.exists() and not force:
        raise _exists_error(path)
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise FileNotFoundError(f"output directory does not exist: {str(directory)!r}")
    return directory


def atomic_write(path, write, *, force: bool = False) -> None:
    """Create ``path`` with ``write(file)`` so that it appears complete or not at all.

    ``write`` receives a binary file object opened on a temporary file in the directory of
    ``path`` (same file system, so the final rename is atomic); if it raises, the temporary
    file is removed and ``path`` is untouched.  Used for images here and for figures by the CLI.

    Parameters
    ----------
    path : str or path-like
        Destination.
    write : callable
        ``write(f)`` writes the whole content to the binary file object ``f``.
    force : bool, default False
        Replace an existing ``path``; otherwise an existing ``path`` raises ``FileExistsError``.

    Examples
    --------
    >>> import os, tempfile
    >>> from recon.io import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "note.txt")
    >>> atomic_write(path, lambda f: f.write(b"done"))
    >>> open(path).read()
    'done'
    """
    path = Path(path)
    directory = _check_destination(path, force)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=directory)
    os.close(fd)  # reopened by name: writers such as tifffile want a named file object
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp creates 0600; give the result the permissions an ordinary open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        if force:
            os.replace(tmp, path)
        else:
            _link_new(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _encode_npy(array, path):
    return lambda f: np.save(f, array, allow_pickle=False)


def _encode_png(array, path):
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[-1] == 3)):
        raise ValueError(f"cannot write {str(path)!r}: PNG needs a 2-D or (H, W, 3) image, got shape {array.shape}")
    if np.iscomplexobj(array):
        raise ValueError(f"cannot write {str(path)!r}: PNG cannot hold complex values")
    pixels = np.round(np.clip(array, 0.0, 1.0) * 255.0).astype(np.uint8)

    def write(f):
        import imageio.v3 as iio

        iio.imwrite(f, pixels, plugin="pillow", extension=".png")

    return write


def _encode_tiff(array, path):
    if np.iscomplexobj(array):
        raise ValueError(f"cannot write {str(path)!r}: use .npy for complex values")
    values = array.astype(np.float32)

    def write(f):
        import tifffile

        tifffile.imwrite(f, values)

    return write


def _link_new(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path`` only if ``path`` does not exist (no overwrite race)."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise _exists_error(path) from None
    except OSError:
        # file systems without hard links: the check above is the best we can do
        if path.exists():
            raise _exists_error(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)
