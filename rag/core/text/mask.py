"""Blanking matches out of text with spaces, so offsets into it stay valid."""

from __future__ import annotations

import re


def blank(pattern: re.Pattern[str], text: str) -> str:
    """``text`` with ``pattern``'s matches replaced by as many spaces (offsets kept)."""
    return pattern.sub(lambda m: " " * len(m.group(0)), text)
