"""Eval's data access: where ../shared is, the RGB zh files (one loader, one passage pool
that keeps identical passages once), the CRUD-RAG news subset as ingest jsonl, and the
message when ../shared is absent.

../shared sits beside the repository (public data, never copied into tracked files);
every benchmark and data-reading test finds it here.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
RGB_REFINE = SHARED / "data" / "rgb-zh" / "zh_refine.json"
CRUD_DIR = SHARED / "data" / "crud-rag-news"
# Reading comprehension (SQuAD layout): human-written questions over Wikipedia paragraphs.
DRCD_FILES = (SHARED / "data" / "drcd" / "DRCD_dev.json",)  # zh-Hant (Taiwan)
CMRC_FILES = (  # zh-Hans
    SHARED / "data" / "cmrc2018" / "cmrc2018_dev.json",
    SHARED / "data" / "cmrc2018" / "cmrc2018_trial.json",
)
HANDCRAFTED = SHARED / "data" / "zh-web-extraction-handcrafted"


# --- absent data ----------------------------------------------------------------------


def absent(*paths: Path) -> str | None:
    """None when every path exists, else a message naming the first missing one."""
    for path in paths:
        if not path.exists():
            return f"{path} not found (../shared is absent)"
    return None


def skipped(name: str, print_fn: Callable[[str], object], *paths: Path) -> bool:
    """True when a path is missing, after printing ``<name>: skipped, <why>``."""
    why = absent(*paths)
    if why is not None:
        print_fn(f"{name}: skipped, {why}")
    return why is not None


def write_jsonl(path: Path, records: Iterable[dict]) -> int:
    """Write ``records`` as JSON lines (UTF-8, not ASCII-escaped); returns their number."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            n += 1
    return n


# --- RGB zh -----------------------------------------------------------------------------


def rgb_path(name: str, shared: Path = SHARED) -> Path:
    """The file of an RGB zh task: ``zh_refine``, ``zh_int`` or ``zh_fact``."""
    return shared / "data" / "rgb-zh" / f"{name}.json"


def load_rgb(path: Path | None = None) -> list[dict]:
    """The rows of an RGB zh file (default zh_refine; one JSON object a line, blank lines
    skipped)."""
    with (RGB_REFINE if path is None else path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass
class PassagePool:
    """Distinct passage texts in first-seen order: a text added again keeps its index.

    Every benchmark builds its corpus through one of these, so they all store the same
    passages in the same order (retrieval ties, and so the figures, depend on it).
    """

    texts: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def add(self, text: str) -> int:
        """The index of ``text`` (added at the end when new)."""
        if text not in self._index:
            self._index[text] = len(self.texts)
            self.texts.append(text)
        return self._index[text]

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class RgbPassages:
    """RGB rows (zh_refine shape) over one pool: each row's positives, then its negatives.

    ``positives[q]``: pool indices of question q's positive passages. ``negatives``: the
    distinct negative passages, in the order they first appear as a negative.
    """

    questions: list[str]
    answers: list[list]
    pool: PassagePool
    positives: list[set[int]]
    negatives: list[int]

    @classmethod
    def from_rows(cls, rows: Sequence[dict]) -> RgbPassages:
        pool = PassagePool()
        positives: list[set[int]] = []
        negatives: dict[int, None] = {}
        for row in rows:
            positives.append({pool.add(text) for text in row["positive"]})
            for text in row["negative"]:
                negatives.setdefault(pool.add(text), None)
        return cls(
            questions=[str(row["query"]) for row in rows],
            answers=[list(row["answer"]) for row in rows],
            pool=pool,
            positives=positives,
            negatives=list(negatives),
        )

    @property
    def texts(self) -> list[str]:
        return self.pool.texts

    def distractors(self) -> list[int]:
        """The negatives that are no question's positive (a store of these holds no
        answer RGB marks as a positive)."""
        positive = set().union(*self.positives)
        return [i for i in self.negatives if i not in positive]


# --- reading comprehension (DRCD, CMRC 2018) -------------------------------------------


@dataclass(frozen=True)
class QA:
    """One human-written question with its gold answer spans (as text)."""

    qid: str
    question: str
    answers: tuple[str, ...]


@dataclass(frozen=True)
class Paragraph:
    pid: str  # unique across the set: "<article id>:<paragraph id>"
    text: str
    questions: tuple[QA, ...]


@dataclass(frozen=True)
class WikiArticle:
    """An article of a SQuAD-layout file: the unit every split is made by."""

    aid: str  # unique across the set: "<file stem>:<article id>"
    title: str
    paragraphs: tuple[Paragraph, ...]


def load_squad(paths: Sequence[Path]) -> list[WikiArticle]:
    """The articles of SQuAD-layout files (DRCD, CMRC 2018), in file order."""
    articles = []
    for path in paths:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)["data"]
        for article in data:
            aid = f"{path.stem}:{article['id']}"
            paragraphs = tuple(
                Paragraph(
                    pid=f"{aid}:{paragraph['id']}",
                    text=paragraph["context"],
                    questions=tuple(
                        QA(
                            qid=str(qa["id"]),
                            question=qa["question"],
                            answers=tuple(dict.fromkeys(a["text"] for a in qa["answers"])),
                        )
                        for qa in paragraph["qas"]
                    ),
                )
                for paragraph in article["paragraphs"]
            )
            articles.append(WikiArticle(aid, article["title"], paragraphs))
    return articles


# --- CRUD-RAG news --------------------------------------------------------------------
# Each source line is ``<publish time>，正文：<body>``. A record keeps the time part as
# given (the ingest pipeline parses it, and keeps what it cannot parse), the body as
# ``text``, no title (the pipeline derives one) and no source; its ``id`` is a hash of
# the whole line.

CRUD_SEPARATOR = "，正文："
CRUD_FILES = (
    "documents_dup_part_1_part_1.txt",
    "documents_dup_part_1_part_2.txt",
    "semiconductor_subset.txt",
)


def crud_files() -> list[Path]:
    """The three CRUD-RAG news files (which may be absent)."""
    return [CRUD_DIR / name for name in CRUD_FILES]


def crud_dir() -> Path | None:
    """The CRUD-RAG news folder, or None when ../shared (or one of its files) is absent."""
    return None if absent(*crud_files()) else CRUD_DIR


def crud_lines() -> Iterator[str]:
    """Every article line of the three files, in file order, without its newline."""
    root = crud_dir()
    if root is None:
        raise FileNotFoundError(absent(*crud_files()))
    for name in CRUD_FILES:
        with (root / name).open(encoding="utf-8") as handle:
            for line in handle:
                line = line.rstrip("\r\n")
                if line.strip():
                    yield line


def crud_line_id(line: str) -> str:
    """Stable id: the first 20 hex digits of the line's SHA-256."""
    return hashlib.sha256(line.encode("utf-8")).hexdigest()[:20]


def crud_record(line: str) -> dict[str, str | None]:
    """One line as a jsonl record; a line without the separator is all body."""
    head, sep, body = line.partition(CRUD_SEPARATOR)
    if not sep:
        head, body = "", line
    published = head.strip() or None
    return {"id": crud_line_id(line), "published": published, "source": None, "text": body.strip()}


def write_crud_jsonl(out: Path, limit: int | None = None) -> int:
    """Write the first ``limit`` articles (all when None) to ``out``; returns the count.

    Lines whose body is empty are skipped (the reader would reject them anyway).
    """
    records = (r for r in map(crud_record, crud_lines()) if r["text"])
    return write_jsonl(out, itertools.islice(records, limit))
