"""Where the shared reference data lives (``$RECON_SHARED_DATA`` or ``../shared/data``); tests skip when absent."""
import os
from pathlib import Path

import pytest

SHARED = Path(os.environ.get("RECON_SHARED_DATA", Path(__file__).resolve().parents[2] / ".." / "shared" / "data"))
WEIGHTS = SHARED / "weights"
SET12 = SHARED / "images" / "set12"
needs_weights = pytest.mark.skipif(not (WEIGHTS / "wcrr-nn").is_dir(), reason="shared weights absent")
