"""../shared for tests: the paths of eval.data, and a skip that names what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.data import SHARED, absent


def need(*parts: str) -> Path:
    """``SHARED/parts``; when it is absent, the test (or, called at import, the whole
    module) is skipped with a message naming the path."""
    path = SHARED.joinpath(*parts)
    if why := absent(path):
        pytest.skip(why, allow_module_level=True)
    return path
