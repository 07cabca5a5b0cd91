"""The checkout's folders and the scripts of the virtualenv the tests run in."""

from __future__ import annotations

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = PROJECT_ROOT.parent / "shared"  # the public challenge's files, beside the checkout where present
BIN = Path(sys.executable).parent  # billing, dagster-daemon, dagster-webserver, dg
