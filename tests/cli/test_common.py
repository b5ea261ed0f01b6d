"""What every ``recon`` subcommand shares (``recon.cli._common``): one-line errors with status 2 that
name the argument, inputs read and checked, outputs checked before any work and written atomically.

Error paths call :func:`recon.cli.main` in-process (fast); one run goes through a subprocess to check
the real entry point, exit status and streams.
"""
import argparse

import numpy as np
import pytest

from recon import cli, io
from recon.cli import _common
from tests.helpers.cli import listing, run_recon


def test_subprocess_error_is_one_line_with_status_2(image_dir):
    run = run_recon("denoise", "-i", "missing.png", "-o", "out.png", cwd=image_dir)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("recon: error: --input:")
    assert "missing.png" in run.stderr
    assert not (image_dir / "out.png").exists()


def test_help_lists_every_subcommand(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    for name in ("denoise", "deblur", "eigen", "fuse", "ct", "ptycho", "demo"):
        assert name in out
    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert capsys.readouterr().out.startswith("recon ")


def test_force_overwrites_atomically(image_dir):
    io.write_image("out.npy", np.zeros((64, 64)))
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy"]) == 2
    np.testing.assert_array_equal(np.load("out.npy"), 0)  # untouched
    assert cli.main(["denoise", "-i", "noisy.npy", "-o", "out.npy", "--force"]) == 0
    assert np.load("out.npy").std() > 0
    assert not [f for f in listing(image_dir) if f.endswith(".part")]


ERRORS = [
    (["denoise", "-i", "missing.png", "-o", "out.png"], "--input", "missing.png"),
    (["denoise", "-i", "bad.png", "-o", "out.png"], "--input", "bad.png"),
    (["denoise", "-i", "noisy.bmp", "-o", "out.png"], "--input", "'.bmp'"),
    (["denoise", "-i", "noisy.npy", "-o", "noisy.png"], "--output", "exists; use --force"),
    (["denoise", "-i", "noisy.npy", "-o", "out.jpg"], "--output", "'.jpg'"),
    (["denoise", "-i", "noisy.npy", "-o", "nodir/out.png"], "--output", "does not exist"),
    (["denoise", "-i", "noisy.npy", "-o", "adir.png", "--force"], "--output", "is a directory"),
    (["denoise", "-i", "noisy.npy", "-o", "out.png", "--backend", "jax"], "--backend", "'jax'"),
    (["denoise", "-i", "stack.npy", "-o", "out.png"], "--input", "2-D"),
    (["denoise", "-o", "out.png"], "--input", "required"),
    (["frobnicate"], "invalid choice", "'frobnicate'"),
]


@pytest.mark.parametrize("argv, argument, detail", ERRORS, ids=[" ".join(e[0])[:60] for e in ERRORS])
def test_errors_name_the_argument_and_write_nothing(image_dir, capsys, argv, argument, detail):
    (image_dir / "bad.png").write_bytes(b"not a png")
    (image_dir / "adir.png").mkdir()
    np.save(image_dir / "stack.npy", np.zeros((2, 8, 8)))
    before = listing(image_dir)
    status = cli.main(argv)
    err = capsys.readouterr().err
    assert status == 2
    assert err.startswith("recon: error: ") and err.count("\n") == 1, err
    assert argument in err and detail in err, err
    assert listing(image_dir) == before  # no output, no temporary file


@pytest.mark.parametrize("parse, text, message", [
    (_common.nonnegative_float, "-0.1", "must be a finite number >= 0, got -0.1"),
    (_common.nonnegative_float, "inf", "got inf"),
    (_common.nonnegative_float, "x", "got 'x'"),
    (_common.positive_int, "0", "must be a positive int, got 0"),
    (_common.positive_int, "1.5", "got '1.5'"),
    (_common.positive_float, "0", "must be a finite number > 0, got 0$"),
    (_common.finite_float, "nan", "must be a finite number, got nan"),
])
def test_number_parsers_say_what_they_need(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(text)


def test_number_parsers_accept_their_range():
    assert _common.nonnegative_float("0") == 0.0 and _common.positive_int("3") == 3
    assert _common.positive_float("1e-3") == 1e-3 and _common.finite_float("-2") == -2.0


def test_check_new_and_save_output_name_their_argument(tmp_path):
    (tmp_path / "old.png").write_bytes(b"old")
    with pytest.raises(_common.UsageError, match=r"--curve: .*old\.png.* exists; use --force"):
        _common.check_new(tmp_path / "old.png", False, "--curve")
    assert _common.check_new(tmp_path / "old.png", True, "--curve") == tmp_path / "old.png"
    with pytest.raises(_common.UsageError, match=r"^--kernel-out: "):
        _common.save_output(tmp_path / "x.bmp", np.zeros((4, 4)), False, "--kernel-out")
    assert (tmp_path / "old.png").read_bytes() == b"old"
