"""Reconcile one phase and gate the next: the step the orchestrator runs after each phase.

``reconcile_phase`` checks every object of the phase (counts, presence, field read-back),
writes the reports and the spot-check sheet, and returns the verdict. ``gate`` raises
:class:`ReconciliationGateError` when the unexplained differences exceed the tolerance, so
the next phase never starts on a phase that did not reconcile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from shared.dataverse.context import LoadContext
from shared.errors import ReconciliationGateError
from shared.reconcile.model import PhaseReconciliation
from shared.reconcile.readback import reconcile_object
from shared.reconcile.report import choose_spot_checks, write_reports, write_spot_check
from shared.settings import ReconcileSettings
from shared.stage.base import Stage
from shared.stage.keys import raw_prefix

__all__ = ["gate", "reconcile_phase"]


def _source_records(
    stage: Stage, run_id: str, wanted: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Any]]:
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for sobject in sorted({o for o, _ in wanted}):
        for key in stage.list_batches(raw_prefix(run_id, sobject)):
            for record in stage.read_batch(key):
                ident = (sobject, str(record.get("Id")))
                if ident in wanted:
                    out[ident] = record
    return out


async def reconcile_phase(
    stage: Stage,
    context: LoadContext,
    *,
    run_id: str,
    phase: str,
    objects: list[str],
    settings: ReconcileSettings,
    reports_dir: Path,
    entries: Mapping[str, Sequence[str]] | None = None,
) -> PhaseReconciliation:
    """Reconcile every object of one phase and write the reports.

    Args:
        objects: Source objects loaded in this phase.
        entries: Per source object, the mapping entries that loaded it under their own
            names (``BatchRef.entry``); omitted objects were loaded under their own name.
        reports_dir: ``<workdir>/runs/<run-id>/reports``.
    """
    loader_user = context.client.user_id
    results = []
    # Only the spot-check candidates so far (the sheet's deterministic choice, kept object by
    # object): the phase never holds every object's read-back rows at once.
    chosen: list[dict[str, Any]] = []
    for sobject in objects:
        result, rows = await reconcile_object(
            stage,
            context,
            run_id,
            sobject,
            readback_sample=settings.readback_sample,
            loader_user=loader_user,
            units=(entries or {}).get(sobject),
        )
        results.append(result)
        chosen = choose_spot_checks(chosen + rows, settings.spot_check)
        del rows
    verdict = PhaseReconciliation(
        run_id=run_id, phase=phase, objects=results, tolerance=settings.tolerance
    )
    write_reports(reports_dir, verdict)
    wanted = {(c["record"]["source_object"], c["record"]["source_id"]) for c in chosen}
    write_spot_check(reports_dir, phase, chosen, _source_records(stage, run_id, wanted))
    return verdict


def gate(verdict: PhaseReconciliation) -> None:
    """Stop the run when the phase has more unexplained differences than the tolerance.

    Raises:
        ReconciliationGateError: names the phase, the numbers and where the details are.
    """
    if verdict.passed:
        return
    worst = sorted(verdict.objects, key=lambda o: -o.unexplained)
    detail = ", ".join(
        f"{o.object}: {o.unexplained} ("
        + ("counts do not add up; " if not o.balanced else "")
        + f"{len(o.missing_ids)} missing rows, "
        f"{sum(1 for m in o.mismatches if not m.explained)} field mismatches)"
        for o in worst
        if o.unexplained
    )
    raise ReconciliationGateError(
        f"phase {verdict.phase} did not reconcile: {verdict.unexplained} unexplained "
        f"difference(s), tolerance {verdict.tolerance} — {detail}. The next phase was not "
        "started; see reports/reconciliation.md and reconciliation.csv, fix, rerun the phase.",
        object_name=verdict.phase,
    )
