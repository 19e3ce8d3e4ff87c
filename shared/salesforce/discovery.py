"""Discovery: know exactly what is in the source before anything moves.

Collects, per object: ``COUNT()``, every field with its type (standard and custom), fields
hidden by field-level security (Tooling ``FieldDefinition`` minus describe), Leadfwd package
objects and fields; users active/inactive and which have a Dynamics user with the same email;
records the sync created without an originating external id (de-dup candidates); API-call and
duration estimates for both sides; and a complexity grade with its reasoning. One object that
cannot be counted or described is reported with the reason, and discovery goes on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from shared.errors import MigrationError
from shared.quoting import soql_in
from shared.salesforce.client import SalesforceClient
from shared.salesforce.describe import field_definitions, hidden_fields
from shared.salesforce.estimate import complexity, estimate

CORE_OBJECTS = (
    "User",
    "Account",
    "Contact",
    "Lead",
    "Opportunity",
    "Task",
    "Event",
    "EmailMessage",
    "Note",
    "Attachment",
    "ContentVersion",
    "ContentDocument",
    "ContentDocumentLink",
    "ActionCadence",
    "ActionCadenceStep",
    "ActionCadenceTracker",
)
# Activities: archived rows (and recycle-bin rows) are only returned by queryAll, which
# extraction uses for them; discovery counts both ways so the difference is visible.
ARCHIVING_OBJECTS = ("Task", "Event")
# Objects whose owner is not carried over (users themselves, cadence definitions).
NO_OWNER_MIGRATION = frozenset({"User", "ActionCadence", "ActionCadenceTracker"})


def _err(exc: MigrationError) -> str:
    return exc.message


def discover(
    client: SalesforceClient,
    *,
    namespace: str = "leadfwd__",
    objects: Iterable[str] | None = None,
    dynamics_user_emails: Iterable[str] | None = None,
    dynamics_users_source: str | None = None,
    bulk_threshold: int = 10_000,
    batch_size: int = 2000,
    dataverse_batch_size: int = 500,
) -> dict[str, Any]:
    """Inspect the org and return the discovery document (rendered by ``discovery_report``)."""
    started = dt.datetime.now(dt.UTC)
    listing = client.describe_global().get("sobjects", [])
    available = {o["name"]: o for o in listing}
    if objects:
        names = list(objects)
    else:
        names = [n for n in CORE_OBJECTS if n in available]
        names += sorted(
            n for n, o in available.items() if n.endswith("__c") and o.get("queryable", True)
        )
    out_objects = [_object(client, name, available, namespace) for name in names]

    users = _users(client, dynamics_user_emails, dynamics_users_source)
    dedup = _dedup(client, out_objects, namespace)
    owners = _fallback_owners(client, out_objects, users)
    try:
        limits = client.limits()
        api = {
            "daily_max": limits.get("DailyApiRequests", {}).get("Max"),
            "daily_remaining": limits.get("DailyApiRequests", {}).get("Remaining"),
        }
    except MigrationError as exc:
        api = {"daily_max": None, "daily_remaining": None, "error": _err(exc)}
    est = estimate(
        out_objects,
        bulk_threshold=bulk_threshold,
        batch_size=batch_size,
        dataverse_batch_size=dataverse_batch_size,
    )
    grade = complexity(out_objects, est, api, namespace)
    leadfwd_objects = [o["name"] for o in out_objects if o["name"].startswith(namespace)]
    leadfwd_fields = {
        o["name"]: [f["name"] for f in o.get("fields", []) if f["name"].startswith(namespace)]
        for o in out_objects
        if not o["name"].startswith(namespace)
    }
    return {
        "generated_at": started.isoformat(timespec="seconds"),
        "instance_url": client.settings.instance_url,
        "namespace": namespace,
        "objects": out_objects,
        "leadfwd": {
            "package_found": bool(leadfwd_objects or any(leadfwd_fields.values())),
            "objects": leadfwd_objects,
            "fields_on_standard_objects": {k: v for k, v in leadfwd_fields.items() if v},
        },
        "users": users,
        "dedup_candidates": dedup,
        "fallback_owners": owners,
        "api": {**api, **client.usage.to_dict()},
        "estimate": est,
        "complexity": grade,
    }


def _object(
    client: SalesforceClient, name: str, available: dict[str, Any], ns: str
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "errors": []}
    if name not in available:
        entry["errors"].append(
            f"{name} is not visible to the integration user: it does not exist or the user "
            "lacks Read permission on it"
        )
        entry.update(count=None, fields=[], hidden_fields=None, custom=name.endswith("__c"))
        return entry
    entry["custom"] = bool(available[name].get("custom"))
    try:
        describe = client.describe(name)
    except MigrationError as exc:
        entry["errors"].append(_err(exc))
        entry.update(count=None, fields=[], hidden_fields=None)
        return entry
    entry["fields"] = [
        {
            "name": f["name"],
            "type": f["type"],
            "label": f.get("label"),
            "custom": bool(f.get("custom")),
            "length": f.get("length"),
            "reference_to": f.get("referenceTo") or [],
            "picklist_values": len(f.get("picklistValues") or []),
        }
        for f in describe.get("fields", [])
    ]
    entry["standard_fields"] = sum(1 for f in entry["fields"] if not f["custom"])
    entry["custom_fields"] = sum(1 for f in entry["fields"] if f["custom"])
    try:
        defs = field_definitions(
            lambda q: client.tooling_query(q, what=f"FieldDefinition of {name}"), name
        )
        entry["hidden_fields"] = [
            {"name": n, "type": defs[n]} for n in hidden_fields(describe, defs)
        ]
    except MigrationError as exc:
        entry["hidden_fields"] = None
        entry["errors"].append(
            f"field-level security not checked: {_err(exc)} (the integration user needs "
            "View Setup and Configuration for the Tooling API)"
        )
    if name == "ContentDocumentLink":
        entry["count"] = None
        entry["errors"].append(
            "not counted: Salesforce only allows ContentDocumentLink queries filtered by "
            "LinkedEntityId; extraction counts it per chunk of parent records"
        )
        return entry
    try:
        entry["count"] = client.count(name)
    except MigrationError as exc:
        entry["count"] = None
        entry["errors"].append(f"COUNT() failed: {_err(exc)}")
    if name in ARCHIVING_OBJECTS:
        try:
            entry["count_with_archived"] = client.count(name, include_deleted=True)
        except MigrationError as exc:
            entry["errors"].append(f"queryAll COUNT() failed: {_err(exc)}")
    return entry


def _users(
    client: SalesforceClient, dynamics: Iterable[str] | None, dynamics_source: str | None
) -> dict[str, Any]:
    soql = "SELECT Id, Name, Email, Username, IsActive FROM User ORDER BY Id"
    try:
        rows = [r for p in client.query_pages(soql, sobject="User") for r in p["records"]]
    except MigrationError as exc:
        return {"error": _err(exc)}
    emails = {e.strip().lower() for e in dynamics or [] if e and e.strip()}
    checked = dynamics is not None
    users = []
    for row in rows:
        email = (row.get("Email") or "").lower()
        users.append(
            {
                "id": row["Id"],
                "name": row.get("Name"),
                "email": row.get("Email"),
                "active": bool(row.get("IsActive")),
                "dynamics_match": (email in emails) if checked else None,
            }
        )
    return {
        "total": len(users),
        "active": sum(u["active"] for u in users),
        "inactive": sum(not u["active"] for u in users),
        "dynamics_checked": checked,
        "dynamics_source": dynamics_source,
        "matched_in_dynamics": sum(bool(u["dynamics_match"]) for u in users) if checked else None,
        "users": users,
    }


def _fallback_owners(
    client: SalesforceClient, objects: list[dict[str, Any]], users: dict[str, Any]
) -> dict[str, Any]:
    """Per object, records owned by an inactive user or one with no Dynamics match.

    Those records get ``dataverse.fallback_owner_email`` at load time and are reported;
    knowing how many before the load lets the admin create or map users first.
    """
    if "users" not in users:
        return {"checked": False, "reason": users.get("error", "users not read")}
    ids = sorted(u["id"] for u in users["users"] if not u["active"] or u["dynamics_match"] is False)
    out: dict[str, Any] = {
        "checked": True,
        "owner_ids": ids,
        "basis": "inactive users"
        + (" and users without a Dynamics match" if users["dynamics_checked"] else ""),
        "objects": {},
    }
    if not ids:
        return out
    for obj in objects:
        has_owner = any(f["name"] == "OwnerId" for f in obj.get("fields", []))
        if not has_owner or not obj.get("count") or obj["name"] in NO_OWNER_MIGRATION:
            continue
        total = 0
        try:
            for start in range(0, len(ids), 200):
                where = f"OwnerId IN {soql_in(ids[start : start + 200])}"
                total += client.count(
                    obj["name"], where, include_deleted=obj["name"] in ARCHIVING_OBJECTS
                )
        except MigrationError as exc:
            out["objects"][obj["name"]] = {"error": _err(exc)}
            continue
        out["objects"][obj["name"]] = {"count": total}
    return out


def _dedup(client: SalesforceClient, objects: list[dict[str, Any]], ns: str) -> dict[str, Any]:
    flag, ext = f"{ns}Created_By_Sync__c", f"{ns}External_Id__c"
    out: dict[str, Any] = {}
    for obj in objects:
        visible = {f["name"] for f in obj.get("fields", [])}
        if flag not in visible or ext not in visible:
            continue
        where = f"{flag} = true AND {ext} = null"
        try:
            count = client.count(obj["name"], where)
            sample_q = f"SELECT Id FROM {obj['name']} WHERE {where} ORDER BY Id LIMIT 50"
            sample = [r["Id"] for p in client.query_pages(sample_q) for r in p["records"]]
        except MigrationError as exc:
            out[obj["name"]] = {"error": _err(exc)}
            continue
        out[obj["name"]] = {"count": count, "criteria": where, "sample_ids": sample}
    return out
