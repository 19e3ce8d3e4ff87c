"""Tasks (calls, emails, to-dos), meetings (Events) and EmailMessages of clean people.

Every activity keeps its original timestamps, regards the person (WhoId) and, for contacts,
their company (WhatId): the migration must rebuild the same timeline. Completed activities
older than a year are archived, as Salesforce does, so only ``queryAll`` returns them.
Email tasks come with the EmailMessage that Salesforce links through ``ActivityId``.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from emulators.salesforce.generate import values as v
from emulators.salesforce.generate.companies import user_email, user_name
from emulators.salesforce.generate.people import person_email, sequence_name
from emulators.salesforce.generate.population import Population, mix
from emulators.salesforce.generate.writer import IdAllocator, OrgWriter

ARCHIVE_AFTER = dt.timedelta(days=365)
CALL_DISPOSITIONS = ("Connected", "Left voicemail", "No answer", "Meeting booked")
OUTCOMES = ("Interested", "Not Interested", "Meeting Booked", "No Response", "Bad Data")
TODO_SUBJECTS = ("Send pricing", "Follow up on proposal", "Prepare demo", "Update contact info")


def _people(pop: Population) -> Iterator[tuple[str, int]]:
    for n in range(pop.contacts):
        yield "Contact", n
    for n in range(pop.leads):
        if not pop.lead_converted(n):
            yield "Lead", n


def task_record(
    pop: Population, rng: random.Random, task_id: str, who: str, what: str | None, owner: str
) -> dict[str, Any]:
    """One task of a subtype chosen at random: Call, Email or a plain Task."""
    when = v.moment(rng, v.ORG_START, v.BASE_TIME + dt.timedelta(days=30))
    done = when < v.BASE_TIME
    subtype = rng.choice(("Call", "Call", "Email", "Email", "Task"))
    record: dict[str, Any] = {
        "Id": task_id,
        "WhoId": who,
        "OwnerId": owner,
        "ActivityDate": v.sf_date(when.date()),
        "Status": "Completed" if done else rng.choice(("Not Started", "In Progress")),
        "Priority": rng.choice(("High", "Normal", "Normal", "Low")),
        "TaskSubtype": subtype,
        "IsArchived": done and v.BASE_TIME - when > ARCHIVE_AFTER,
    }
    if what:
        record["WhatId"] = what
    if subtype == "Call":
        record["Subject"] = "Call"
        record["Type"] = "Call"
        record["CallType"] = rng.choice(("Outbound", "Outbound", "Inbound", "Internal"))
        record["CallDurationInSeconds"] = rng.randrange(15, 2400) if done else None
        record["CallDisposition"] = rng.choice(CALL_DISPOSITIONS) if done else None
        record["Description"] = "Discussed timeline and budget."
    elif subtype == "Email":
        record["Subject"] = f"Email: Quick question ({rng.randrange(1, 6)})"
        record["Type"] = "Email"
        record["Description"] = "Hi,\n\nWorth a 15 minute chat next week?\n\nBest"
    else:
        record["Subject"] = rng.choice(TODO_SUBJECTS)
        record["Type"] = "Other"
    if rng.random() < 0.5:
        record["leadfwd__Sequence_Name__c"] = sequence_name(rng.randrange(pop.sequences))
        record["leadfwd__Step_Number__c"] = rng.randrange(1, 9)
        record["leadfwd__Open_Count__c"] = rng.randrange(0, 12) if subtype == "Email" else 0
        record["leadfwd__Click_Count__c"] = rng.randrange(0, 3) if subtype == "Email" else 0
        record["leadfwd__Replied__c"] = rng.random() < 0.15
        record["leadfwd__Outcome__c"] = rng.choice(OUTCOMES)
    record = {k: val for k, val in record.items() if val is not None}
    record.update(v.system_fields(rng, when, owner))
    return record


def email_message(
    pop: Population,
    rng: random.Random,
    task: dict[str, Any],
    owner: int,
    to: str,
    related: str | None,
) -> dict[str, Any]:
    """The EmailMessage Salesforce keeps for an email task (linked by ``ActivityId``)."""
    first, last = user_name(pop, owner)
    text = str(task.get("Description", ""))
    html = "<html><body>" + "".join(f"<p>{line}</p>" for line in text.split("\n") if line)
    record: dict[str, Any] = {
        "Id": "",
        "ActivityId": task["Id"],
        "Subject": str(task["Subject"]).removeprefix("Email: "),
        "FromName": f"{first} {last}",
        "FromAddress": user_email(pop, owner),
        "ToAddress": to,
        "TextBody": text,
        "HtmlBody": html + "</body></html>",
        "Incoming": False,
        "Status": "3",
        "MessageDate": task["CreatedDate"],
    }
    if related:
        record["RelatedToId"] = related
    record.update(v.system_fields(rng, v.BASE_TIME - dt.timedelta(days=1), task["OwnerId"]))
    record["CreatedDate"] = record["LastModifiedDate"] = record["SystemModstamp"] = task[
        "CreatedDate"
    ]
    return record


def meeting_record(
    rng: random.Random, event_id: str, who: str, what: str | None, owner: str
) -> dict[str, Any]:
    start = v.moment(rng, v.ORG_START, v.BASE_TIME + dt.timedelta(days=30))
    start = start.replace(minute=rng.choice((0, 30)), second=0)
    minutes = rng.choice((15, 30, 45, 60, 90))
    record: dict[str, Any] = {
        "Id": event_id,
        "WhoId": who,
        "OwnerId": owner,
        "Subject": rng.choice(("Discovery call", "Demo", "Pricing review", "Kick-off")),
        "Type": "Meeting",
        "EventSubtype": "Event",
        "StartDateTime": v.sf_datetime(start),
        "EndDateTime": v.sf_datetime(start + dt.timedelta(minutes=minutes)),
        "ActivityDateTime": v.sf_datetime(start),
        "ActivityDate": v.sf_date(start.date()),
        "DurationInMinutes": minutes,
        "IsAllDayEvent": False,
        "Location": rng.choice(("Zoom", "Teams", "Customer office", "Phone")),
        "ShowAs": "Busy",
        "IsArchived": v.BASE_TIME - start > ARCHIVE_AFTER,
    }
    if what:
        record["WhatId"] = what
    record.update(v.system_fields(rng, start - dt.timedelta(days=3), owner))
    return record


def write_activities(pop: Population, w: OrgWriter, ids: IdAllocator) -> None:
    """About 1.5 tasks and 0.2 meetings per contact, 0.5 tasks per open lead."""
    rng = random.Random(f"{pop.seed}:activities")
    for kind, n in _people(pop):
        is_contact = kind == "Contact"
        who = pop.contact_id(n) if is_contact else pop.lead_id(n)
        what = pop.account_id(pop.contact_account(n)) if is_contact else None
        owner_n = pop.owner_index(3 if is_contact else 4, n)
        owner = pop.user_id(owner_n)
        h = mix(pop.seed, 71, n if is_contact else n + 10**9)
        tasks = h % 4 if is_contact else h % 2
        for _ in range(tasks):
            task = task_record(pop, rng, ids.next("Task"), who, what, owner)
            w.record("Task", task)
            if task["TaskSubtype"] == "Email":
                message = email_message(pop, rng, task, owner_n, person_email(pop, kind, n), what)
                message["Id"] = ids.next("EmailMessage")
                w.record("EmailMessage", message)
        if is_contact and (h >> 8) % 5 == 0:
            w.record("Event", meeting_record(rng, ids.next("Event"), who, what, owner))
