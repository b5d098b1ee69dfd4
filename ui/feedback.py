"""Answer ratings and comments, appended as JSON lines for later evaluation."""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.core.types import Answer

# A comment explains a rating in a few sentences; 2,000 characters is a long paragraph.
# The cap keeps each feedback line, and the file read back for evals, small.
MAX_COMMENT_CHARS = 2000


class CommentTooLong(ValueError):
    """A feedback comment over MAX_COMMENT_CHARS (``length`` is its length)."""

    def __init__(self, length: int) -> None:
        super().__init__(f"comment is {length:,} characters; the limit is {MAX_COMMENT_CHARS:,}")
        self.length = length


def answer_record(question: str, answer: Answer) -> dict[str, Any]:
    """What is kept of an answer for a rating: enough to replay it in an eval."""
    return {"id": uuid.uuid4().hex, **answer.to_json(question, replay=True)}


@dataclass
class FeedbackLog:
    """``<db>/feedback.jsonl``: one line per rating or comment. A later line with the same
    ``id`` supersedes an earlier one (a comment added after the thumbs)."""

    path: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: dict[str, Any], rating: str, comment: str = "") -> dict[str, Any]:
        """Append one line; raises CommentTooLong (nothing written) for a long comment."""
        comment = comment.strip()
        if len(comment) > MAX_COMMENT_CHARS:
            raise CommentTooLong(len(comment))
        line = {
            **record,
            "rating": rating,
            "comment": comment,
            "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        # Appends from concurrent sessions must not interleave within a line.
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return line

    def read(self) -> list[dict[str, Any]]:
        """All lines, oldest first (for tests and evals)."""
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as src:
            return [json.loads(line) for line in src if line.strip()]


def rating_name(liked: object) -> str:
    """gr.LikeData.liked -> "up" / "down" (or the custom option's text)."""
    if liked is True:
        return "up"
    if liked is False:
        return "down"
    text = str(liked or "").strip().lower()
    return {"like": "up", "dislike": "down"}.get(text, text or "none")
