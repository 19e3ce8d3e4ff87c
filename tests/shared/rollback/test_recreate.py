"""Re-creating a row a delta deleted: its writable columns, lookups, date and state."""

from __future__ import annotations

from shared.dataverse.metadata import Attribute, TableInfo
from shared.rollback.actions import NAV_ANNOTATION, TABLE_ANNOTATION, recreate_payload

TASK = TableInfo(
    logical="task",
    entity_set="tasks",
    primary_id="activityid",
    is_activity=True,
    attributes={
        "activityid": Attribute("activityid", "ActivityId", "Uniqueidentifier"),
        "subject": Attribute("subject", "Subject", "String"),
        "overriddencreatedon": Attribute("overriddencreatedon", "OverriddenCreatedOn", "DateTime"),
        "createdon": Attribute("createdon", "CreatedOn", "DateTime", valid_create=False),
        "statecode": Attribute("statecode", "StateCode", "State"),
        "statuscode": Attribute("statuscode", "StatusCode", "Status"),
        "ownerid": Attribute("ownerid", "OwnerId", "Owner"),
        "regardingobjectid": Attribute("regardingobjectid", "RegardingObjectId", "Lookup"),
        "createdby": Attribute("createdby", "CreatedBy", "Lookup", valid_create=False),
    },
)


def test_the_payload_puts_back_columns_links_creation_date_and_state() -> None:
    pre = {
        "etag": 'W/"1"',
        "values": {
            "activityid": "a1",
            "subject": "Call back",
            "createdon": "2025-03-01T10:00:00Z",
            "overriddencreatedon": "2026-11-28T20:00:00Z",
            "statecode": 1,
            "statuscode": 5,
            "_ownerid_value": "u1",
            "_ownerid_value" + TABLE_ANNOTATION: "systemuser",
            "_ownerid_value" + NAV_ANNOTATION: "ownerid",
            "_regardingobjectid_value": "c1",
            "_regardingobjectid_value" + TABLE_ANNOTATION: "contact",
            "_regardingobjectid_value" + NAV_ANNOTATION: "regardingobjectid_contact_task",
            "_createdby_value": "u2",
            "_createdby_value" + TABLE_ANNOTATION: "systemuser",
            "_createdby_value" + NAV_ANNOTATION: "createdby",
            "description": None,
        },
    }
    body, state = recreate_payload(pre, TASK, {"systemuser": "systemusers", "contact": "contacts"})
    assert body == {
        "subject": "Call back",
        "overriddencreatedon": "2025-03-01T10:00:00Z",  # the original creation date
        "ownerid@odata.bind": "/systemusers(u1)",
        "regardingobjectid_contact_task@odata.bind": "/contacts(c1)",
    }
    assert state == {"statecode": 1, "statuscode": 5}


def test_an_open_row_needs_no_state_change() -> None:
    body, state = recreate_payload(
        {"values": {"subject": "x", "statecode": 0, "statuscode": 2}}, TASK, {}
    )
    assert body == {"subject": "x"} and state == {}
