"""The eval set format: JSON Lines, one question per line (see eval/README.md).

Required: ``question``. Optional: ``reference`` (a reference answer), ``facts`` (what a
correct answer must contain: a list of entries, each a string or a list of accepted
aliases), ``evidence`` (phrases or doc ids a retrieved passage must contain; same shape
as facts), ``answerable`` (false when the articles do not hold the answer),
``fake_facts`` (counterfactual values planted in the corpus). Anything else (id, lang,
kind, ...) is kept in ``extra``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Alternatives = list[str]  # accepted spellings of one required element
KNOWN = ("question", "reference", "facts", "evidence", "answerable", "fake_facts", "id")


class SetFormatError(ValueError):
    """An eval set line that does not follow the format (message names the line)."""


@dataclass
class EvalItem:
    question: str
    id: str
    reference: str | None = None
    facts: list[Alternatives] = field(default_factory=list)
    evidence: list[Alternatives] = field(default_factory=list)
    answerable: bool = True
    fake_facts: list[Alternatives] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def as_alternatives(value: Any, what: str = "facts") -> list[Alternatives]:
    """Normalize "x" | ["x", "y"] | [["x", "x2"], "y"] to [[aliases], ...].

    A flat list means every element is required (RGB's answer lists); an inner list
    holds the aliases of one element.
    """
    if value is None or value == "":
        return []
    if isinstance(value, (str, int, float)):
        return [[str(value)]]
    if not isinstance(value, list):
        raise SetFormatError(f"{what} must be a string or a list, not {type(value).__name__}")
    out: list[Alternatives] = []
    for entry in value:
        if isinstance(entry, list):
            aliases = [str(a) for a in entry if str(a).strip()]
        elif isinstance(entry, (str, int, float)):
            aliases = [str(entry)] if str(entry).strip() else []
        else:
            raise SetFormatError(f"{what} entries must be strings or lists of strings")
        if aliases:
            out.append(aliases)
    return out


def parse_item(record: dict[str, Any], default_id: str) -> EvalItem:
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise SetFormatError("missing or empty 'question'")
    answerable = record.get("answerable", True)
    if not isinstance(answerable, bool):
        raise SetFormatError("'answerable' must be true or false")
    reference = record.get("reference")
    return EvalItem(
        question=question.strip(),
        id=str(record.get("id") or default_id),
        reference=str(reference) if reference not in (None, "") else None,
        facts=as_alternatives(record.get("facts"), "facts"),
        evidence=as_alternatives(record.get("evidence"), "evidence"),
        answerable=answerable,
        fake_facts=as_alternatives(record.get("fake_facts"), "fake_facts"),
        extra={k: v for k, v in record.items() if k not in KNOWN},
    )


def load_set(path: str | Path, limit: int | None = None) -> list[EvalItem]:
    """Items of an eval set file; raises SetFormatError naming the bad line."""
    path = Path(path)
    items: list[EvalItem] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise SetFormatError("expected a JSON object")
                items.append(parse_item(record, f"{path.stem}-{number}"))
            except json.JSONDecodeError as exc:
                raise SetFormatError(f"{path}:{number}: invalid JSON: {exc.msg}") from None
            except SetFormatError as exc:
                raise SetFormatError(f"{path}:{number}: {exc}") from None
            if limit is not None and len(items) >= limit:
                break
    return items


def item_json(item: EvalItem) -> dict[str, Any]:
    """The item back in the file format (for reports)."""
    out: dict[str, Any] = {"id": item.id, "question": item.question, **item.extra}
    if item.reference:
        out["reference"] = item.reference
    if item.facts:
        out["facts"] = item.facts
    if item.evidence:
        out["evidence"] = item.evidence
    if item.fake_facts:
        out["fake_facts"] = item.fake_facts
    out["answerable"] = item.answerable
    return out
