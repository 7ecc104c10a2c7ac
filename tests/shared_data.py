"""Where the shared data sets are: `../shared/data` beside the repository (as on the
developers' machines and in CI), or the folder named by MEDIC_SHARED_DATA."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["SHARED_DATA"]

SHARED_DATA = Path(
    os.environ.get("MEDIC_SHARED_DATA") or Path(__file__).parents[1].parent / "shared" / "data"
)
