"""Judges: does a set of passages support an answer sentence?

- ``lexical`` (default, offline): ``rag.answer.verify.check_claim``, the primitive the LLM
  path verifies with too: numbers, dates, years, names and quantities in the sources;
  enough wording; each clause aligned to its source clauses and checked for negation,
  modality, degree, antonym and entity flips; Traditional and Simplified compared after
  ``fold()``. The verdict names the failed check's type and the source span.
- ``nli``: a multilingual NLI cross-encoder (sentence-transformers ``CrossEncoder``),
  local files only; ``Settings.nli_model`` (RAG_NLI_MODEL) names it.
- ``llm``: an OpenAI-compatible chat model, RAGAS-style (split into claims, verify each
  against the passages, JSON verdicts).

``judge_answer`` applies a judge to every sentence of an answer: a sentence with [n]
markers against the passages it cites (numbered from 1), one without against all.
The nli and llm judges use the same alignment (their premise is the aligned source
span) and report the same types where they can (``Verdict.type``, ``Verdict.span``).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eval.metrics import SentenceVerdict, alce_precision
from rag.core.config import DEFAULT_NLI_MODEL
from rag.core.types import CITATION_MARKER

if TYPE_CHECKING:
    from rag.core.config import Settings

JUDGES = ("lexical", "nli", "llm")
NLI_THRESHOLD = 0.5  # entailment probability needed to call a sentence supported
_LEAD_IN = re.compile(r"[:：]\s*$")  # "根据检索到的文章：" frames the answer, claims nothing


class JudgeUnavailable(RuntimeError):
    """The judge cannot run here (model not on disk, no LLM configured)."""


class JudgeError(RuntimeError):
    """A judge call failed (malformed model output, HTTP error)."""


@dataclass(frozen=True)
class Verdict:
    supported: bool
    reason: str
    score: float  # 1/0 for lexical, entailment probability for nli, share of claims for llm
    # The failed check's type (rag.answer.verify.TYPES; "" when supported) and the source
    # span judged against: {"passage": i, "start", "end", "text"}, i into the passages.
    type: str = ""
    span: dict | None = None


class Judge(ABC):
    name: str = ""

    @abstractmethod
    def check(self, sentence: str, passages: Sequence[str]) -> Verdict:
        """Do ``passages`` (taken together) support ``sentence``?"""

    def describe(self) -> str:
        return self.name


# --- sentences of an answer ---------------------------------------------------------


def answer_sentences(answer: str) -> list[tuple[str, tuple[int, ...]]]:
    """(sentence, cited numbers without repeats) for each claim of ``answer``
    (``split_claims``: a marker run opening a sentence belongs to the sentence before);
    sentences without words and lead-in lines ending with a colon are not claims."""
    from rag.core.text.claims import split_claims

    out = []
    for claim in split_claims(answer):
        cited = tuple(dict.fromkeys(claim.numbers))
        if not claim.text or (_LEAD_IN.search(claim.text) and not cited):
            continue
        out.append((claim.text, cited))
    return out


def _span(verdict: Verdict, numbers: Sequence[int]) -> dict | None:
    """The verdict's source span with its passage named by context number (1-based,
    as the answer's [n] markers count): ``numbers[i]`` is the context of passage i."""
    if verdict.span is None:
        return None
    span = dict(verdict.span)
    index = span.pop("passage", None)
    span = {"context": numbers[index] if index is not None else None, **span}
    return span


def judge_answer(
    answer: str, contexts: Sequence[str], judge: Judge, *, precision: bool = True
) -> list[SentenceVerdict]:
    """A verdict for every claim of ``answer`` (citations are 1-based into contexts)."""
    verdicts = []
    every = list(range(1, len(contexts) + 1))
    for text, cited in answer_sentences(answer):
        if not cited:
            v = judge.check(text, list(contexts))
            verdicts.append(
                SentenceVerdict(text, (), v.supported, v.reason, False, (), v.type, _span(v, every))
            )
            continue
        valid = [n for n in cited if 1 <= n <= len(contexts)]
        if not valid:
            reason = f"cites [{', '.join(map(str, cited))}] but only {len(contexts)} passages"
            verdicts.append(
                SentenceVerdict(
                    text, cited, False, reason, False, tuple(False for _ in cited), "citation"
                )
            )
            continue
        joint = judge.check(text, [contexts[n - 1] for n in valid])
        flags: dict[int, bool] = {}
        if precision and joint.supported and len(valid) > 1:
            alone = [judge.check(text, [contexts[n - 1]]).supported for n in valid]
            without = [
                None
                if ok
                else judge.check(text, [contexts[m - 1] for m in valid if m != n]).supported
                for n, ok in zip(valid, alone, strict=True)
            ]
            flags = dict(zip(valid, alce_precision(True, alone, without), strict=True))
        else:
            flags = {n: joint.supported for n in valid}
        precise = tuple(flags.get(n, False) for n in cited)  # out-of-range markers: imprecise
        verdicts.append(
            SentenceVerdict(
                text,
                cited,
                joint.supported,
                joint.reason,
                joint.supported,
                precise,
                joint.type,
                _span(joint, valid),
            )
        )
    return verdicts


def verdicts_json(verdicts: Sequence[SentenceVerdict]) -> dict[str, Any]:
    """The ``rag judge --json`` line: score (share supported) and per-sentence verdicts:
    text, supported, type (of the failed check: negation, modality, degree, antonym,
    entity, number, date, unsupported wording; "citation" for markers naming no
    context; "" when supported), reason, cited, and span (the source text judged
    against: context number, offsets in it, text; null when there is none)."""
    score = sum(v.supported for v in verdicts) / len(verdicts) if verdicts else None
    return {
        "score": score,
        "sentences": [
            {
                "text": v.text,
                "supported": v.supported,
                "type": v.type,
                "reason": v.reason,
                "cited": list(v.cited),
                "span": v.span,
            }
            for v in verdicts
        ],
    }


# --- lexical ------------------------------------------------------------------------


class LexicalJudge(Judge):
    """``rag.answer.verify.check_claim``: the offline judge, the LLM path's own check."""

    name = "lexical"

    def check(self, sentence: str, passages: Sequence[str]) -> Verdict:
        from rag.answer.verify import check_claim

        if not passages:
            return Verdict(False, "no passage to check against", 0.0, "unsupported wording")
        c = check_claim(sentence, passages)
        return Verdict(c.supported, c.reason, float(c.supported), c.type, c.span_json())


# --- NLI ----------------------------------------------------------------------------


class NLIJudge(Judge):
    """Entailment by a 3-label NLI cross-encoder, premise = passage, hypothesis = sentence.

    The sentence is supported when the entailment probability reaches ``threshold`` for
    the passages joined or for any one of them (long joins get truncated by the model).
    """

    name = "nli"

    def __init__(self, model: str | None = None, threshold: float = NLI_THRESHOLD) -> None:
        self.model_name = model or DEFAULT_NLI_MODEL
        self.threshold = threshold
        self._model: Any = None
        self._entail = 0
        self._contradict: int | None = None

    def describe(self) -> str:
        return f"nli ({self.model_name})"

    def load(self) -> None:
        """Load the model now (fails fast with JudgeUnavailable when it is not on disk)."""
        if self._model is not None:
            return
        from rag.core.models import load_model

        model, _ = load_model(
            "cross-encoder",
            self.model_name,
            what="NLI model",
            hint=(
                ". Set RAG_NLI_MODEL to the folder of a multilingual 3-label NLI cross-encoder"
                f" (e.g. {DEFAULT_NLI_MODEL}, downloaded beforehand)"
            ),
            error=JudgeUnavailable,
        )
        labels = {int(k): str(v).lower() for k, v in _id2label(model).items()}
        if len(labels) < 2:
            raise JudgeUnavailable(
                f"NLI model {self.model_name!r} has {len(labels)} label(s); "
                "an NLI model needs entailment/neutral/contradiction"
            )
        entail = [i for i, v in labels.items() if "entail" in v]
        contradict = [i for i, v in labels.items() if "contradict" in v]
        # Unnamed labels (LABEL_0...): the mDeBERTa XNLI order, entailment first.
        self._entail = entail[0] if entail else 0
        self._contradict = contradict[0] if contradict else None
        self._model = model

    def check(self, sentence: str, passages: Sequence[str]) -> Verdict:
        """Entailment of the claim by the source sentences it aligns to (the whole
        passages, and all of them joined, when it aligns to none); when not supported,
        the type of the lexical check that fails on it ("unsupported wording" when none
        does) and its source span."""
        self.load()
        claim = CITATION_MARKER.sub("", sentence).strip()
        if not passages:
            return Verdict(False, "no passage to check against", 0.0, "unsupported wording")
        premise, span = aligned_span(sentence, passages)
        if premise:
            premises = [premise]
        else:
            premises = list(passages) + (["\n".join(passages)] if len(passages) > 1 else [])
        probs = self._model.predict(
            [(p, claim) for p in premises], apply_softmax=True, show_progress_bar=False
        )
        best = max(range(len(premises)), key=lambda i: float(probs[i][self._entail]))
        p_entail = float(probs[best][self._entail])
        if p_entail >= self.threshold:
            return Verdict(True, f"entailment {p_entail:.2f}", p_entail, "", span)
        extra = ""
        if self._contradict is not None:
            extra = f", contradiction {float(probs[best][self._contradict]):.2f}"
        kind, where = lexical_type(sentence, passages, span)
        reason = f"entailment {p_entail:.2f} < {self.threshold}{extra}"
        return Verdict(False, reason, p_entail, kind, where)


def aligned_span(sentence: str, passages: Sequence[str]) -> tuple[str, dict | None]:
    """The source sentences the claim's clauses align to (rag.core.text.align), as the
    premise text, and the first of them as a span (passage index, offsets, text);
    ("", None) when the claim aligns to nothing."""
    from rag.core.text.align import support_regions
    from rag.core.text.fold import fold

    regions = support_regions(fold(CITATION_MARKER.sub("", sentence)).strip(), passages)
    if not regions:
        return "", None
    text = "\n".join(passages[r.passage][r.start : r.end] for r in regions)
    first = regions[0]
    span = {"passage": first.passage, "start": first.start, "end": first.end,
            "text": passages[first.passage][first.start : first.end]}  # fmt: skip
    return text, span


def lexical_type(
    sentence: str, passages: Sequence[str], span: dict | None
) -> tuple[str, dict | None]:
    """The type and span the lexical checks give an unsupported claim: the type of the
    check that fails, with the span it failed on; "unsupported wording" and ``span``
    when every check passes (a model judged it unsupported for reasons of its own)."""
    from rag.answer.verify import check_claim

    check = check_claim(sentence, passages)
    if check.supported or not check.type:
        return "unsupported wording", span
    return check.type, check.span_json() or span


def _id2label(model: Any) -> dict[Any, Any]:
    config = getattr(model, "config", None)
    if config is None:
        inner = getattr(model, "model", None)
        config = getattr(inner, "config", None)
    return dict(getattr(config, "id2label", None) or {})


# --- LLM ----------------------------------------------------------------------------

LLM_SYSTEM = (
    "You check whether passages support a sentence. Split the SENTENCE into short atomic "
    "claims. For each claim decide if the PASSAGES state it (supported) or not (a claim "
    "that contradicts the passages or is absent from them is not supported). The "
    "ALIGNED SOURCE TEXT is where the sentence's wording is found: judge against it "
    "first. Watch for meaning flips with the same words around them: a negation added "
    "or dropped, planned or possible stated as done, a degree or scope changed, an "
    "opposite verb, a name the passages do not give. Compare Traditional and Simplified "
    "Chinese as the same. For each unsupported claim give its type, one of: negation, "
    "modality, degree, antonym, entity, number, date, unsupported wording. Reply with "
    "JSON only: "
    '{"claims": [{"claim": "...", "supported": true, "type": "", "reason": "..."}]}'
)


class LLMJudge(Judge):
    """RAGAS-style faithfulness through an OpenAI-compatible chat endpoint."""

    name = "llm"

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_configured:
            raise JudgeUnavailable(
                "the llm judge needs an LLM: set OPENAI_BASE_URL (and RAG_LLM_MODEL, "
                "OPENAI_API_KEY as the server requires)"
            )
        self.settings = settings
        self.model = settings.llm_model or "gpt-4o-mini"
        self._client: Any = None

    def describe(self) -> str:
        from rag.answer.llm import endpoint_label

        return f"llm ({self.model} via {endpoint_label(self.settings)})"

    def _chat(self, user: str) -> str:
        from openai import OpenAIError

        from rag.answer.llm import openai_client

        if self._client is None:
            self._client = openai_client(self.settings, max_retries=1)
        try:
            response = self._client.chat.completions.create(
                model=self.model,
                temperature=0,
                messages=[
                    {"role": "system", "content": LLM_SYSTEM},
                    {"role": "user", "content": user},
                ],
            )
        except OpenAIError as exc:  # the key is never in the message: name the class only
            raise JudgeError(f"LLM judge call failed: {type(exc).__name__}") from None
        return response.choices[0].message.content or ""

    def check(self, sentence: str, passages: Sequence[str]) -> Verdict:
        claim = CITATION_MARKER.sub("", sentence).strip()
        if not passages:
            return Verdict(False, "no passage to check against", 0.0)
        numbered = "\n\n".join(f"PASSAGE {i}:\n{p}" for i, p in enumerate(passages, 1))
        premise, span = aligned_span(sentence, passages)
        aligned = f"\n\nALIGNED SOURCE TEXT:\n{premise}" if premise else ""
        claims = parse_claims(self._chat(f"{numbered}{aligned}\n\nSENTENCE:\n{claim}"))
        if not claims:
            return Verdict(False, "the judge found no claim to verify", 0.0, "unsupported wording")
        bad = [c for c in claims if not c["supported"]]
        score = 1 - len(bad) / len(claims)
        if bad:
            first = bad[0]
            kind, where = lexical_type(sentence, passages, span)
            from rag.answer.checks import TYPES

            if first["type"] in TYPES:
                kind = first["type"]  # the model's own reading of what is wrong
            reason = f"unsupported claim: {first['claim']} ({first['reason']})"
            return Verdict(False, reason, score, kind, where)
        return Verdict(True, f"all {len(claims)} claims supported", score, "", span)


def parse_claims(text: str) -> list[dict[str, Any]]:
    """The claims list of a judge reply: JSON, possibly in a ``` fence or with prose."""
    body = re.sub(r"^```(?:json)?|```$", "", text.strip(), flags=re.M).strip()
    start, end = body.find("{"), body.rfind("}")
    try:
        data = json.loads(body[start : end + 1]) if start >= 0 else json.loads(body)
    except json.JSONDecodeError:
        raise JudgeError(f"the LLM judge did not reply with JSON: {text[:80]!r}") from None
    claims = data.get("claims") if isinstance(data, dict) else data
    if not isinstance(claims, list):
        raise JudgeError("the LLM judge's JSON has no 'claims' list")
    out = []
    for c in claims:
        if not isinstance(c, dict) or "supported" not in c:
            raise JudgeError("each claim needs a 'supported' field")
        supported = c["supported"]
        if isinstance(supported, str):
            supported = supported.strip().lower() in ("true", "yes", "supported")
        out.append(
            {
                "claim": str(c.get("claim", "")),
                "supported": bool(supported),
                "reason": str(c.get("reason", "")),
                "type": str(c.get("type") or "").strip().lower(),
            }
        )
    return out


def make_judge(name: str, settings: Settings | None = None, **options: Any) -> Judge:
    """A judge by name; raises JudgeUnavailable (clear message) when it cannot run."""
    if name == "lexical":
        return LexicalJudge()
    if name == "nli":
        from rag.core.config import Settings

        judge = NLIJudge(options.get("model") or (settings or Settings.from_env()).nli_model)
        judge.load()  # fail fast, before any question is run
        return judge
    if name == "llm":
        from rag.core.config import Settings

        return LLMJudge(settings or Settings.from_env())
    raise ValueError(f"unknown judge {name!r}; choose from {', '.join(JUDGES)}")
