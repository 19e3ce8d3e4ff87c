"""API-call and duration estimates for both sides, and the complexity grade (pure).

The rates below are planning assumptions, not promises; docs/extraction.md explains them and
docs/BENCHMARKS.md has measured numbers to compare with.
"""

from __future__ import annotations

import math
from typing import Any

REST_PAGE = 2000  # records per REST query page (Salesforce maximum)
SF_SECONDS_PER_CALL = 0.5  # one REST round trip including server time
BULK_RECORDS_PER_SECOND = 10_000  # Bulk API 2.0 query throughput once the job has run
BULK_JOB_OVERHEAD_SECONDS = 20.0  # create + wait for a Bulk 2.0 query job
DV_RECORDS_PER_SECOND = 150.0  # sustained upserts per application user under throttling
DV_SECONDS_PER_FILE = 0.6  # one annotation with its body
SCOPED_INDIVIDUALLY = 2_000_000  # above this, the engagement is scoped on its own
COMPLEX_VOLUME = 500_000
NOT_LOADED = frozenset(
    {
        "User",
        "ActionCadence",
        "ActionCadenceStep",
        "ActionCadenceTracker",
        "ContentDocument",
        "ContentDocumentLink",
    }
)
FILE_OBJECTS = frozenset({"ContentVersion", "Attachment"})


def _ceil(a: int, b: int) -> int:
    return math.ceil(a / b) if b else 0


def estimate(
    objects: list[dict[str, Any]],
    *,
    bulk_threshold: int,
    batch_size: int,
    dataverse_batch_size: int,
) -> dict[str, Any]:
    """Calls and seconds per object and in total, Salesforce and Dataverse."""
    rows = []
    for obj in objects:
        n = int(obj.get("count_with_archived") or obj.get("count") or 0)
        name = obj["name"]
        bulk = n > bulk_threshold
        if bulk:
            sf_calls = 1 + 3 + _ceil(n, batch_size)
            sf_seconds = BULK_JOB_OVERHEAD_SECONDS + n / BULK_RECORDS_PER_SECOND
        else:
            sf_calls = _ceil(n, REST_PAGE) + _ceil(n, batch_size)
            sf_seconds = sf_calls * SF_SECONDS_PER_CALL
        sf_calls += 3  # describe + COUNT() before and after
        files = n if name in FILE_OBJECTS else 0
        sf_calls += files
        sf_seconds += files * SF_SECONDS_PER_CALL
        loaded = 0 if name in NOT_LOADED or name.endswith("Sequence__c") else n
        dv_calls = _ceil(loaded, dataverse_batch_size) * 2 + files  # write + read-back
        dv_seconds = loaded / DV_RECORDS_PER_SECOND + files * DV_SECONDS_PER_FILE
        rows.append(
            {
                "object": name,
                "records": n,
                "method": "bulk" if bulk else "rest",
                "salesforce_calls": sf_calls,
                "salesforce_seconds": round(sf_seconds, 1),
                "dataverse_calls": dv_calls,
                "dataverse_seconds": round(dv_seconds, 1),
            }
        )
    total = {
        k: sum(r[k] for r in rows)
        for k in (
            "records",
            "salesforce_calls",
            "salesforce_seconds",
            "dataverse_calls",
            "dataverse_seconds",
        )
    }
    total["salesforce_seconds"] = round(total["salesforce_seconds"], 1)
    total["dataverse_seconds"] = round(total["dataverse_seconds"], 1)
    return {
        "objects": rows,
        "total": total,
        "assumptions": {
            "salesforce_seconds_per_call": SF_SECONDS_PER_CALL,
            "bulk_records_per_second": BULK_RECORDS_PER_SECOND,
            "dataverse_records_per_second_per_app_user": DV_RECORDS_PER_SECOND,
            "dataverse_batch_size": dataverse_batch_size,
        },
    }


def complexity(
    objects: list[dict[str, Any]], est: dict[str, Any], api: dict[str, Any], ns: str
) -> dict[str, Any]:
    """standard / complex / scoped individually, with one line of reasoning per factor."""
    total = int(est["total"]["records"])
    reasons: list[dict[str, str]] = []
    complex_hits = 0

    unknown = [
        o["name"]
        for o in objects
        if o["name"].endswith("__c") and not o["name"].startswith(ns) and (o.get("count") or 0)
    ]
    if unknown:
        complex_hits += 1
        reasons.append(
            {
                "factor": "object compatibility",
                "finding": f"custom objects with records outside the Leadfwd package: "
                f"{', '.join(unknown)}",
                "effect": "complex: each needs a target table or a decision to leave it",
            }
        )
    else:
        reasons.append(
            {
                "factor": "object compatibility",
                "finding": "only standard objects and the Leadfwd package hold records",
                "effect": "standard",
            }
        )

    hidden = sum(len(o.get("hidden_fields") or []) for o in objects)
    unchecked = [o["name"] for o in objects if o.get("hidden_fields") is None and o.get("fields")]
    big_picklists = sum(
        1 for o in objects for f in o.get("fields", []) if f.get("picklist_values", 0) > 50
    )
    if hidden or unchecked or big_picklists:
        complex_hits += 1
        parts = []
        if hidden:
            parts.append(f"{hidden} fields hidden by field-level security")
        if unchecked:
            parts.append(f"field-level security not checkable on {', '.join(unchecked)}")
        if big_picklists:
            parts.append(f"{big_picklists} picklists with more than 50 values")
        reasons.append(
            {
                "factor": "mapping clarity",
                "finding": "; ".join(parts),
                "effect": "complex: fields cannot all be verified or need value remapping",
            }
        )
    else:
        reasons.append(
            {
                "factor": "mapping clarity",
                "finding": "every field is visible; picklists are small",
                "effect": "standard",
            }
        )

    remaining = api.get("daily_remaining")
    calls = int(est["total"]["salesforce_calls"])
    if remaining is not None and calls > 0.5 * int(remaining):
        complex_hits += 1
        reasons.append(
            {
                "factor": "API constraints",
                "finding": f"about {calls} Salesforce calls against {remaining} remaining today",
                "effect": "complex: spread extraction over days or raise the allocation",
            }
        )
    else:
        finding = (
            f"about {calls} Salesforce calls; {remaining} remaining today"
            if remaining is not None
            else f"about {calls} Salesforce calls; daily allocation unknown"
        )
        reasons.append({"factor": "API constraints", "finding": finding, "effect": "standard"})

    if total > SCOPED_INDIVIDUALLY:
        volume_effect = "scoped individually: above 2,000,000 records"
    elif total > COMPLEX_VOLUME:
        complex_hits += 1
        volume_effect = "complex: above 500,000 records"
    else:
        volume_effect = "standard"
    reasons.append(
        {"factor": "data volume", "finding": f"{total} records", "effect": volume_effect}
    )

    if total > SCOPED_INDIVIDUALLY:
        grade = "scoped individually"
    elif complex_hits:
        grade = "complex"
    else:
        grade = "standard"
    return {"grade": grade, "reasons": reasons}
