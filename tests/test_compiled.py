"""recon._compiled: numba imported on first use only; one programmatic switch."""
import pytest


def test_compiled_switch_is_lazy_and_programmatic():
    """``import recon`` leaves numba alone; ``disabled()`` turns every kernel off."""
    import subprocess
    import sys

    code = "import recon, sys; print('numba' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    from recon import _compiled

    with _compiled.disabled():
        assert not _compiled.enabled()
        assert _compiled.lazy(lambda x: x) is None
    with pytest.raises(ValueError, match="flag must be True, False or None"):
        _compiled.set_enabled("no")
