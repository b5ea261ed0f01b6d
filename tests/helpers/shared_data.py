"""Where the shared reference data lives (``$RECON_SHARED_DATA`` or ``../shared/data``); tests skip when absent."""
import pytest

from recon.learned.weights import shared_data_root

SHARED = shared_data_root()
WEIGHTS = SHARED / "weights"
SET12 = SHARED / "images" / "set12"
needs_weights = pytest.mark.skipif(not (WEIGHTS / "wcrr-nn").is_dir(), reason="shared weights absent")
