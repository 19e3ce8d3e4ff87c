"""The optional assistant, over a fake Azure OpenAI transport (no real model is reachable)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from shared.errors import ThrottledError
from shared.mapping_review.assistant import AzureOpenAIProvider, classify_response, consult
from shared.mapping_review.matcher import LOW_CONFIDENCE
from shared.mapping_review.metadata import SourceObject, read_source_dir, read_target_dir
from shared.mapping_review.propose import Proposal, propose

KEY = "sk-test-not-a-real-key"


class FakeAzureOpenAI:
    """Records requests; answers with the first candidate, or a scripted status."""

    def __init__(self, status: int = 200) -> None:
        self.requests: list[httpx.Request] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.status != 200:
            return httpx.Response(self.status, headers={"retry-after": "7"}, json={"error": {}})
        asked = json.loads(json.loads(request.content)["messages"][1]["content"])
        first = asked["candidates"][0]["logical_name"] if asked["candidates"] else None
        content = json.dumps({"column": first, "reason": "closest meaning"})
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})


@pytest.fixture(scope="module")
def world(vendor_dirs: tuple[Path, Path]) -> tuple[Proposal, dict[str, SourceObject]]:
    sources = read_source_dir(vendor_dirs[0])
    return propose(sources, read_target_dir(vendor_dirs[1])), sources


def _provider(fake: FakeAzureOpenAI) -> AzureOpenAIProvider:
    client = httpx.Client(transport=httpx.MockTransport(fake))
    return AzureOpenAIProvider(client, "https://acme.openai.azure.com/", "gpt-4o", SecretStr(KEY))


def test_asks_only_about_low_confidence_fields_and_records_answers(
    world: tuple[Proposal, dict[str, SourceObject]],
) -> None:
    proposal, sources = world
    fake = FakeAzureOpenAI()
    result = consult(proposal, _provider(fake), sources=sources)
    low = [d for d in proposal.decisions if d.confidence < LOW_CONFIDENCE and d.action != "skip"]
    assert len(fake.requests) == len(low) > 0
    request = fake.requests[0]
    assert str(request.url).startswith(
        "https://acme.openai.azure.com/openai/deployments/gpt-4o/chat/completions?api-version="
    )
    assert request.headers["api-key"] == KEY
    annotated = [d for d in result.decisions if any(e.kind == "assistant" for e in d.evidence)]
    assert len(annotated) == len(low)
    assert all(
        a.target_column == b.target_column
        for a, b in zip(result.decisions, proposal.decisions, strict=True)
    )  # evidence only: decisions are the person's to change
    assert "azure-openai suggests" in annotated[0].evidence[-1].detail


def test_never_sends_record_values_unless_allowed(
    world: tuple[Proposal, dict[str, SourceObject]],
) -> None:
    proposal, sources = world
    quiet, loud = FakeAzureOpenAI(), FakeAzureOpenAI()
    consult(proposal, _provider(quiet), sources=sources)
    consult(proposal, _provider(loud), sources=sources, send_values=True)
    sent_quiet = b"".join(r.content for r in quiet.requests)
    sent_loud = b"".join(r.content for r in loud.requests)
    assert b"reach.me" not in sent_quiet and b"sample_values" not in sent_quiet
    assert b"reach.me" in sent_loud  # Contact_Info__c samples, only when configured


def test_a_failing_assistant_is_recorded_not_fatal(
    world: tuple[Proposal, dict[str, SourceObject]],
) -> None:
    proposal, sources = world
    result = consult(proposal, _provider(FakeAzureOpenAI(status=429)), sources=sources)
    notes = [e.detail for d in result.decisions for e in d.evidence if e.kind == "assistant"]
    assert notes and all("gave no answer" in n and "throttled" in n for n in notes)
    assert all(KEY not in n for n in notes)


def test_http_failures_are_classified_in_one_place() -> None:
    with pytest.raises(ThrottledError) as err:
        classify_response(httpx.Response(429, headers={"retry-after": "7"}), "x")
    assert err.value.retry_after == 7.0
    classify_response(httpx.Response(200), "x")  # success returns quietly


def test_an_answer_naming_no_candidate_is_ignored(
    world: tuple[Proposal, dict[str, SourceObject]],
) -> None:
    proposal, sources = world

    def invent(request: httpx.Request) -> httpx.Response:
        content = json.dumps({"column": "made_up_column", "reason": "guess"})
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    client = httpx.Client(transport=httpx.MockTransport(invent))
    provider = AzureOpenAIProvider(client, "https://a.openai.azure.com", "d", SecretStr(KEY))
    result = consult(proposal, provider, sources=sources)
    notes = [e.detail for d in result.decisions for e in d.evidence if e.kind == "assistant"]
    assert notes and all("not a candidate (ignored)" in n for n in notes)
