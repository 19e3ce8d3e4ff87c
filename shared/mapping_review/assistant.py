"""An optional second opinion from a language model on the fields the matcher is unsure of.

Off by default. When on, only decisions below :data:`~shared.mapping_review.matcher.LOW_CONFIDENCE`
are asked about; the answer is recorded as ``assistant`` evidence and never changes the
decision by itself (the person reviewing decides). What is sent: the field's object, name,
label and type, and the names, labels and types of candidate columns. Record values are sent
only when the caller passes ``send_values=True`` (``--assistant-send-values``).

Providers implement :class:`AssistantProvider`; :class:`AzureOpenAIProvider` speaks the Azure
OpenAI chat completions API over an injected ``httpx.Client``. HTTP failures are classified in
:func:`classify_response`, the one place for this API. A failing assistant never fails the
proposal: the failure is written into the evidence of the field it concerned.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from shared.errors import (
    AuthenticationError,
    FatalError,
    MigrationError,
    ThrottledError,
    TransientServiceError,
    UnreachableError,
)
from shared.mapping_review.matcher import LOW_CONFIDENCE, Evidence, FieldDecision
from shared.mapping_review.metadata import SourceObject
from shared.mapping_review.propose import PairProposal, Proposal

#: At most this many sampled values per field are sent, and only when allowed.
MAX_VALUES = 5


@dataclass(frozen=True)
class FieldQuestion:
    """What the assistant is told about one field."""

    source_object: str
    source_field: str
    source_label: str
    source_type: str
    target_table: str
    candidates: tuple[tuple[str, str, str], ...]  # logical name, label, type
    sample_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """The assistant's pick (a candidate column or None for 'new column') and its reason."""

    column: str | None
    reason: str


class AssistantProvider(Protocol):
    """Anything that can answer a :class:`FieldQuestion`."""

    name: str

    def suggest(self, question: FieldQuestion) -> Suggestion:
        """Pick a column for the field, or None when no candidate fits."""
        ...


def classify_response(response: httpx.Response, what: str) -> None:
    """Raise the engine error for a failed Azure OpenAI response; return on success."""
    if response.is_success:
        return
    status = response.status_code
    if status == 429:
        after = response.headers.get("retry-after")
        raise ThrottledError(
            f"{what}: throttled by Azure OpenAI (429)",
            retry_after=float(after) if after and after.isdigit() else None,
            status=status,
        )
    if status >= 500:
        raise TransientServiceError(f"{what}: Azure OpenAI returned {status}", status=status)
    if status in (401, 403):
        raise AuthenticationError(
            f"{what}: Azure OpenAI refused the key ({status}); check the key and deployment",
            status=status,
        )
    raise FatalError(
        f"{what}: Azure OpenAI returned {status}: {response.text[:300]}", status=status
    )


_SYSTEM = (
    "You map CRM fields from Salesforce to Microsoft Dataverse. Given one source field and "
    'candidate target columns, answer with JSON {"column": <one candidate logical name or '
    'null if none fits>, "reason": <one sentence>}. Never invent a column name.'
)


class AzureOpenAIProvider:
    """Azure OpenAI chat completions (``/openai/deployments/<d>/chat/completions``)."""

    name = "azure-openai"

    def __init__(
        self,
        client: httpx.Client,
        endpoint: str,
        deployment: str,
        api_key: SecretStr,
        api_version: str = "2024-10-21",
    ) -> None:
        self._client = client
        self._url = f"{endpoint.rstrip('/')}/openai/deployments/{deployment}/chat/completions"
        self._key = api_key
        self._version = api_version

    def suggest(self, question: FieldQuestion) -> Suggestion:
        """Ask about one field; the reply must name one of the candidates or null."""
        what = f"assistant on {question.source_object}.{question.source_field}"
        body = {
            "messages": [
                {"role": "system", "content": _SYSTEM},
                {"role": "user", "content": json.dumps(_payload(question))},
            ],
            "temperature": 0,
            "response_format": {"type": "json_object"},
        }
        try:
            response = self._client.post(
                self._url,
                params={"api-version": self._version},
                headers={"api-key": self._key.get_secret_value()},
                json=body,
            )
        except httpx.TimeoutException:
            raise TransientServiceError(f"{what}: Azure OpenAI timed out") from None
        except httpx.TransportError as exc:
            raise UnreachableError(
                f"{what}: Azure OpenAI unreachable ({type(exc).__name__})"
            ) from None
        classify_response(response, what)
        return _parse_answer(response.json(), question, what)


def _payload(q: FieldQuestion) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source": {
            "object": q.source_object,
            "field": q.source_field,
            "label": q.source_label,
            "type": q.source_type,
        },
        "target_table": q.target_table,
        "candidates": [{"logical_name": n, "label": lbl, "type": t} for n, lbl, t in q.candidates],
    }
    if q.sample_values:
        out["sample_values"] = list(q.sample_values)
    return out


def _parse_answer(data: Any, q: FieldQuestion, what: str) -> Suggestion:
    try:
        content = data["choices"][0]["message"]["content"]
        answer = json.loads(content)
        column = answer.get("column")
        reason = str(answer.get("reason") or "")
    except (KeyError, IndexError, TypeError, ValueError):
        raise FatalError(f"{what}: the reply is not the JSON asked for") from None
    names = {c[0] for c in q.candidates}
    if column is not None and column not in names:
        return Suggestion(None, f"named '{column}', which is not a candidate (ignored): {reason}")
    return Suggestion(column, reason)


def question_for(
    d: FieldDecision, pp: PairProposal, source: SourceObject | None, send_values: bool
) -> FieldQuestion:
    """The question for one decision: its alternatives (or all writable columns) as candidates."""
    names = [a for a, _ in d.alternatives] or [
        c.logical_name for c in pp.table.columns if c.writable
    ]
    if d.action == "map" and d.target_column and d.target_column not in names:
        names.insert(0, d.target_column)
    cols = [pp.table.column(n) for n in names]
    candidates = tuple((c.logical_name, c.label, c.attribute_type) for c in cols if c is not None)
    values: tuple[str, ...] = ()
    if send_values and source is not None:
        present = [v for v in source.values_of(d.source_field) if v not in (None, "")]
        values = tuple(str(v)[:200] for v in present[:MAX_VALUES])
    return FieldQuestion(
        d.source_object,
        d.source_field,
        d.source_label,
        d.source_type,
        d.target_table,
        candidates,
        values,
    )


def consult(
    proposal: Proposal,
    provider: AssistantProvider,
    *,
    send_values: bool = False,
    sources: dict[str, Any] | None = None,
    below: float = LOW_CONFIDENCE,
) -> Proposal:
    """Ask ``provider`` about every decision under ``below`` confidence; record its answers.

    Skipped (system) fields are never asked about. Decisions are not changed, only annotated.
    """
    pairs = []
    for pp in proposal.pairs:
        source = (sources or {}).get(pp.pair.source)
        obj = source if isinstance(source, SourceObject) else None
        updated = []
        for d in pp.decisions:
            if d.confidence >= below or d.action == "skip":
                updated.append(d)
                continue
            try:
                s = provider.suggest(question_for(d, pp, obj, send_values))
                pick = s.column or "a new column"
                agrees = (s.column == d.target_column) if d.action == "map" else s.column is None
                ev = Evidence(
                    "assistant",
                    f"{provider.name} suggests {pick} ({'agrees' if agrees else 'disagrees'}): "
                    f"{s.reason}",
                    0.0,
                )
            except MigrationError as exc:
                ev = Evidence("assistant", f"{provider.name} gave no answer: {exc}", 0.0)
            updated.append(replace(d, evidence=(*d.evidence, ev)))
        pairs.append(replace(pp, decisions=tuple(updated)))
    return replace(proposal, pairs=tuple(pairs))
