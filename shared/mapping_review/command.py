"""``./migrate propose-map``, ``./migrate review`` and ``./migrate confirm-map``.

The three steps of issue 10, in the order a person runs them: the tool proposes the map, a
person reviews it (terminal and ``mapping-review.html``), and confirms it by name; the run
refuses anything else (:func:`shared.mapping_review.gate.require_confirmed`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import httpx
import typer
from pydantic import SecretStr
from rich.console import Console

from shared.errors import ConfigError
from shared.mapping.loader import parse_mapping
from shared.mapping_review import gate
from shared.mapping_review.assistant import AzureOpenAIProvider, consult
from shared.mapping_review.dictionary import OBJECT_PAIRS
from shared.mapping_review.mapping_file import build_mapping, render_mapping
from shared.mapping_review.matcher import LOW_CONFIDENCE, MatchOptions
from shared.mapping_review.metadata import (
    SourceObject,
    TargetTable,
    read_source_dir,
    read_target_dir,
)
from shared.mapping_review.propose import (
    Proposal,
    proposal_path,
    propose,
    read_proposal_json,
    write_proposal_json,
)
from shared.mapping_review.review import load_review, print_review, render_html
from shared.settings import Settings, load_settings

# Piped output (CI logs, `| less`) gets a wide table instead of rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() else 160)


def _options(settings: Settings) -> MatchOptions:
    return MatchOptions(
        publisher_prefix=settings.dataverse.publisher_prefix,
        option_value_prefix=settings.dataverse.option_value_prefix,
    )


def _read(
    settings: Settings, source_describe: Path | None, target_metadata: Path | None, sample: int
) -> tuple[dict[str, SourceObject], dict[str, TargetTable]]:
    if source_describe is not None and target_metadata is not None:
        return read_source_dir(source_describe), read_target_dir(target_metadata)
    from shared.mapping_review.live import read_live

    objects = list(dict.fromkeys(p.source for p in OBJECT_PAIRS))
    tables = list(dict.fromkeys(p.target for p in OBJECT_PAIRS))
    return read_live(settings, objects, tables, sample)


def propose_map(
    out: Annotated[Path, typer.Option(help="Mapping file to write (status: proposed).")],
    config: Annotated[
        Path | None, typer.Option(help="Config file (connections, publisher prefix).")
    ] = None,
    source_describe: Annotated[
        Path | None,
        typer.Option(help="Offline: folder of saved Salesforce <Object>.json describe responses."),
    ] = None,
    target_metadata: Annotated[
        Path | None,
        typer.Option(help="Offline: folder of saved Dataverse <table>.json entity definitions."),
    ] = None,
    force: Annotated[
        bool, typer.Option(help="Overwrite an existing mapping file (drops its confirmation).")
    ] = False,
    assistant: Annotated[
        str | None,
        typer.Option(help="Ask a language model about low-confidence fields: 'azure-openai'."),
    ] = None,
    assistant_endpoint: Annotated[
        str | None, typer.Option(help="Azure OpenAI endpoint, https://<resource>.openai.azure.com")
    ] = None,
    assistant_deployment: Annotated[
        str | None, typer.Option(help="Azure OpenAI deployment name.")
    ] = None,
    assistant_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the Azure OpenAI key.")
    ] = "AZURE_OPENAI_API_KEY",
    assistant_send_values: Annotated[
        bool, typer.Option(help="Also send a few sampled values per field (off: names only).")
    ] = False,
    sample_size: Annotated[
        int, typer.Option(help="Live mode: records sampled per object for value profiles.")
    ] = 20,
) -> None:
    """Propose a mapping from metadata, with evidence for every choice, for a person to review."""
    if (source_describe is None) != (target_metadata is None):
        raise ConfigError(
            ["give both --source-describe and --target-metadata (offline), or neither"]
        )
    if out.exists() and not force:
        raise ConfigError(
            [f"{out} exists; pass --force to overwrite it (a confirmation of it stops counting)"]
        )
    settings = load_settings(config)
    sources, targets = _read(settings, source_describe, target_metadata, sample_size)
    proposal = propose(sources, targets, _options(settings))
    if assistant is not None:
        proposal = _consult(
            proposal,
            assistant,
            assistant_endpoint,
            assistant_deployment,
            assistant_key_env,
            assistant_send_values,
            sources,
        )
    built = build_mapping(proposal, sources, name=out.stem)
    text = render_mapping(built, str(out))
    parse_mapping(text, str(out))  # never hand a person a file the run cannot load
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    gate.confirmation_path(out).unlink(missing_ok=True)
    side = write_proposal_json(proposal, out)
    ds = proposal.decisions
    console.print(
        f"proposed {out} and {side}: {len(ds)} source fields, "
        f"{sum(d.action == 'map' for d in ds)} mapped, "
        f"{sum(d.action == 'new_column' for d in ds)} new columns, "
        f"{sum(d.action == 'skip' for d in ds)} skipped, "
        f"{sum(d.confidence < LOW_CONFIDENCE for d in ds)} low confidence, "
        f"{len(built.unresolved)} unresolved.\n"
        f"Next: ./migrate review {out}   then   ./migrate confirm-map {out} --by NAME",
        highlight=False,
    )


def _consult(
    proposal: Proposal,
    kind: str,
    endpoint: str | None,
    deployment: str | None,
    key_env: str,
    send_values: bool,
    sources: dict[str, SourceObject],
) -> Proposal:
    if kind != "azure-openai":
        raise ConfigError([f"--assistant: {kind!r} is not a provider; expected 'azure-openai'"])
    key = os.environ.get(key_env)
    problems = [
        p
        for p, bad in (
            ("--assistant-endpoint is required with --assistant", not endpoint),
            ("--assistant-deployment is required with --assistant", not deployment),
            (f"environment variable {key_env} (the API key) is not set", not key),
        )
        if bad
    ]
    if problems:
        raise ConfigError(problems)
    with httpx.Client(timeout=60) as client:
        provider = AzureOpenAIProvider(client, str(endpoint), str(deployment), SecretStr(str(key)))
        return consult(proposal, provider, send_values=send_values, sources=sources)


def review(
    file: Annotated[Path, typer.Argument(help="The mapping file (its .proposal.json beside it).")],
    html: Annotated[
        Path | None,
        typer.Option(help="Where to write the page; default mapping-review.html beside FILE."),
    ] = None,
) -> None:
    """Show the proposal (lowest confidence first) and write mapping-review.html for sign-off."""
    side = proposal_path(file)
    if not side.is_file():
        raise ConfigError(
            [f"{side} does not exist: review reads the proposal written by ./migrate propose-map"]
        )
    data = load_review(file, read_proposal_json(side))
    print_review(data, console)
    page = html or file.with_name("mapping-review.html")
    page.write_text(render_html(data), encoding="utf-8")
    console.print(f"wrote {page}", highlight=False)


def confirm_map(
    file: Annotated[Path, typer.Argument(help="The mapping file to confirm, as it is now.")],
    by: Annotated[str, typer.Option(help="Name of the person who reviewed and confirms it.")],
) -> None:
    """Record who confirmed the mapping, when, and the sha256 of its exact bytes."""
    record = gate.confirm(file, by)
    console.print(
        f"confirmed {file} by {record.by} at {record.at:%Y-%m-%d %H:%M:%S} UTC "
        f"(sha256 {record.sha256}); any edit from now on needs a new confirmation.",
        highlight=False,
    )
    leftover = [
        line for line in file.read_text(encoding="utf-8").splitlines() if line.startswith("#   ")
    ]
    if leftover:
        console.print(
            "note: the file still lists unresolved decisions in its header; make sure each is "
            "settled (or delete the comment lines and confirm again):",
            highlight=False,
        )
        for line in leftover:
            console.print(f"  {line[4:]}", highlight=False)
