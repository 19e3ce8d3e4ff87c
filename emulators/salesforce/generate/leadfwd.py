"""Leadfwd package records: sequences, their steps, enrollments and engagement events.

Steps cover every channel, action type and delay rule across the org. Enrollments go to clean
contacts and clean, unconverted leads (about 60% of people, 1.5 each); each enrollment's
engagement events follow its sequence's steps up to its current step, so an email step yields
sent/opened/clicked/replied events, a call step a call with duration and outcome, and so on.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from typing import Any

from emulators.salesforce.generate import values as v
from emulators.salesforce.generate.people import person_email, sequence_name
from emulators.salesforce.generate.population import Population, mix
from emulators.salesforce.generate.writer import IdAllocator, OrgWriter

CHANNELS = ("Email", "LinkedIn", "SMS", "Voicemail", "Call", "Manual")
ACTION_TYPES: dict[str, tuple[str, ...]] = {
    "Email": ("Auto Email", "Manual Email"),
    "LinkedIn": ("LinkedIn Connect", "LinkedIn Message", "LinkedIn View Profile"),
    "SMS": ("SMS",),
    "Voicemail": ("Voicemail Drop",),
    "Call": ("Call",),
    "Manual": ("Manual Task",),
}
DELAY_RULES = ("After Previous Step", "Business Days Only", "Specific Time of Day")
PURPOSES = ("Inbound", "Outbound", "Customer Support", "Onboarding or Training", "Event", "Other")
ENROLLMENT_STATUSES = (
    "Active", "Paused", "Completed", "Ended Early", "Replied", "Bounced", "Unsubscribed",
    "Opted Out",
)  # fmt: skip
TERMINAL = frozenset(ENROLLMENT_STATUSES) - {"Active", "Paused"}
CALL_OUTCOMES = ("Connected", "Left Voicemail", "No Answer", "Busy", "Wrong Number")


def step_channel(pop: Population, sequence: int, step: int) -> str:
    """Channel of step ``step`` (from 1) of ``sequence``: a pure function, used by events."""
    if step == 1:
        return "Email"
    return CHANNELS[(sequence + step * 5 + pop.seed) % len(CHANNELS)]


def sequence_record(pop: Population, rng: random.Random, n: int, seq_id: str) -> dict[str, Any]:
    created = v.moment(rng, v.ORG_START, v.BASE_TIME - dt.timedelta(days=60))
    owner = pop.owner_of(5, n)
    record: dict[str, Any] = {
        "Id": seq_id,
        "Name": sequence_name(n),
        "OwnerId": owner,
        "leadfwd__Purpose__c": PURPOSES[n % len(PURPOSES)],
        "leadfwd__Access__c": "Shared" if n % 4 else "Private",
        "leadfwd__Status__c": ("Active", "Active", "Paused", "Archived")[n % 4],
        "leadfwd__Reply_Action__c": "End Sequence Early" if n % 3 else "Do Nothing",
        "leadfwd__Opt_Out_Action__c": (
            "End Sequence", "Set Opted Out in CRM", "Add to Suppression List"
        )[n % 3],
        "leadfwd__Tags__c": ";".join(("q1", "emea", "smb")[: 1 + n % 3]),
        "leadfwd__External_Id__c": f"lf-seq-{pop.seed}-{n + 1}",
    }  # fmt: skip
    record.update(v.system_fields(rng, created, owner))
    return record


def write_sequences(pop: Population, w: OrgWriter, ids: IdAllocator) -> None:
    """Sequences and their steps (steps get allocated ids, sequences index ids)."""
    rng = random.Random(f"{pop.seed}:sequences")
    for n in range(pop.sequences):
        seq = sequence_record(pop, rng, n, pop.sequence_id(n))
        w.record("leadfwd__Sequence__c", seq)
        created = dt.datetime.strptime(seq["CreatedDate"], "%Y-%m-%dT%H:%M:%S.000%z")
        for step in range(1, pop.sequence_steps(n) + 1):
            channel = step_channel(pop, n, step)
            actions = ACTION_TYPES[channel]
            rule = DELAY_RULES[(n + step) % len(DELAY_RULES)]
            record: dict[str, Any] = {
                "Id": ids.next("leadfwd__Sequence_Step__c"),
                "Name": f"Step {step}",
                "leadfwd__Sequence__c": seq["Id"],
                "leadfwd__Step_Number__c": step,
                "leadfwd__Channel__c": channel,
                "leadfwd__Action_Type__c": actions[(n + step) % len(actions)],
                "leadfwd__Delay_Days__c": 0 if step == 1 else rng.choice((1, 2, 3, 5, 7)),
                "leadfwd__Delay_Hours__c": rng.choice((0, 0, 4, 12)),
                "leadfwd__Delay_Rule__c": rule,
            }  # fmt: skip
            if rule == "Specific Time of Day":
                record["leadfwd__Send_Time__c"] = (
                    f"{rng.randrange(7, 11):02d}:{rng.choice((0, 30)):02d}"
                )
            if channel == "Email":
                record["leadfwd__Subject__c"] = (
                    f"Quick question about {{{{Account.Name}}}} ({step})"
                )
                record["leadfwd__Template_Name__c"] = f"{sequence_name(n)} - email {step}"
                record["leadfwd__Template_Id__c"] = f"tmpl-{pop.seed}-{n + 1}-{step}"
            record.update(v.system_fields(rng, created, seq["OwnerId"]))
            w.record("leadfwd__Sequence_Step__c", record)


def _people(pop: Population) -> Iterator[tuple[str, int, str]]:
    """Every clean person that can be enrolled: (kind, index, id)."""
    for n in range(pop.contacts):
        yield "Contact", n, pop.contact_id(n)
    for n in range(pop.leads):
        if not pop.lead_converted(n):
            yield "Lead", n, pop.lead_id(n)


def write_enrollments(pop: Population, w: OrgWriter, ids: IdAllocator) -> None:
    """Enrollments of clean people, each followed by its engagement events."""
    rng = random.Random(f"{pop.seed}:enrollments")
    counter = 0
    for kind, n, person_id in _people(pop):
        for k in range(pop.person_enrollments(kind, n)):
            seq = mix(pop.seed, 61 + k, n + (0 if kind == "Contact" else 10**9)) % pop.sequences
            steps = pop.sequence_steps(seq)
            status = rng.choice(ENROLLMENT_STATUSES)
            current = steps if status == "Completed" else rng.randrange(1, steps + 1)
            enrolled = v.moment(rng, v.ORG_START, v.BASE_TIME - dt.timedelta(days=20))
            last = enrolled + dt.timedelta(days=2 * current, hours=rng.randrange(1, 9))
            counter += 1
            owner = pop.owner_of(3 if kind == "Contact" else 4, n)
            enrollment: dict[str, Any] = {
                "Id": ids.next("leadfwd__Sequence_Enrollment__c"),
                "Name": f"ENR-{counter:07d}",
                "OwnerId": owner,
                "leadfwd__Sequence__c": pop.sequence_id(seq),
                "leadfwd__Status__c": status,
                "leadfwd__Current_Step__c": current,
                "leadfwd__Enrolled_At__c": v.sf_datetime(enrolled),
                "leadfwd__Last_Activity_At__c": v.sf_datetime(last),
            }
            enrollment["leadfwd__Contact__c" if kind == "Contact" else "leadfwd__Lead__c"] = (
                person_id
            )
            if status in TERMINAL:
                enrollment["leadfwd__Ended_At__c"] = v.sf_datetime(last)
            enrollment.update(v.system_fields(rng, enrolled, owner))
            w.record("leadfwd__Sequence_Enrollment__c", enrollment)
            for event in engagement_events(pop, rng, enrollment, kind, n, seq, enrolled):
                event["Id"] = ids.next("leadfwd__Engagement_Event__c")
                w.record("leadfwd__Engagement_Event__c", event)


def _event_types(channel: str, rng: random.Random, status: str, last: bool) -> list[str]:
    if channel == "Email":
        types = ["Sent", "Delivered"]
        if status == "Bounced" and last:
            return ["Sent", "Bounced"]
        if rng.random() < 0.5:
            types.append("Opened")
            if rng.random() < 0.3:
                types.append("Clicked")
        if last and status == "Replied":
            types.append("Replied")
        if last and status in ("Unsubscribed", "Opted Out"):
            types.append("Unsubscribed")
        return types
    return {
        "LinkedIn": ["LinkedIn Invite Sent", "LinkedIn Message Sent"][: 1 + rng.randrange(2)],
        "SMS": ["SMS"],
        "Voicemail": ["Voicemail Drop"],
        "Call": ["Call"],
        "Manual": [],
    }[channel]


def engagement_events(
    pop: Population,
    rng: random.Random,
    enrollment: dict[str, Any],
    kind: str,
    n: int,
    seq: int,
    enrolled: dt.datetime,
) -> Iterator[dict[str, Any]]:
    """Events (without ``Id``) for the steps an enrollment has reached."""
    current = int(enrollment["leadfwd__Current_Step__c"])
    at = enrolled
    for step in range(1, current + 1):
        channel = step_channel(pop, seq, step)
        at = at + dt.timedelta(days=1 + rng.randrange(3), minutes=rng.randrange(600))
        last = step == current
        for offset, event_type in enumerate(
            _event_types(channel, rng, enrollment["leadfwd__Status__c"], last)
        ):
            when = at + dt.timedelta(minutes=17 * offset * offset)
            event: dict[str, Any] = {
                "Id": None,
                "leadfwd__Enrollment__c": enrollment["Id"],
                "leadfwd__Event_Type__c": event_type,
                "leadfwd__Channel__c": channel,
                "leadfwd__Step_Number__c": step,
                "leadfwd__Occurred_At__c": v.sf_datetime(when),
            }
            event["leadfwd__Contact__c" if kind == "Contact" else "leadfwd__Lead__c"] = (
                enrollment.get("leadfwd__Contact__c") or enrollment.get("leadfwd__Lead__c")
            )
            if channel == "Email":
                event["leadfwd__Subject__c"] = f"Quick question ({step})"
                if event_type == "Clicked":
                    event["leadfwd__Link_Url__c"] = "https://www.acme-outbound.example/demo"
                if event_type == "Replied":
                    event["leadfwd__Body__c"] = "Thanks - can we talk next week?\n\n> " + (
                        person_email(pop, kind, n)
                    )
            elif channel == "Call":
                outcome = rng.choice(CALL_OUTCOMES)
                event["leadfwd__Call_Outcome__c"] = outcome
                event["leadfwd__Call_Duration_Seconds__c"] = (
                    rng.randrange(30, 1800) if outcome == "Connected" else rng.randrange(0, 40)
                )
            elif channel in ("SMS", "LinkedIn"):
                event["leadfwd__Body__c"] = "Hi! Following up on my email - worth a chat?"
            event.update(v.system_fields(rng, when, enrollment["OwnerId"]))
            yield event
