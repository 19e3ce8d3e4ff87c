"""Plant the defects real orgs have, and list each in the defects manifest.

Planted records are extra records written after the clean ones, built from a clean record and
then spoiled with one defect class (the duplicate that is also sync-created carries two classes
by design; a Unicode name may span first and last name). Children never hang off a planted
record, so every outcome in ``defects.json`` is the whole story: a clean record never changes
outcome because of a defect elsewhere. Parents that must be missing are real deleted rows
(``IsDeleted``, visible to ``queryAll`` only) or ids that never existed.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from emulators.salesforce.generate import files
from emulators.salesforce.generate import values as v
from emulators.salesforce.generate.companies import account_record
from emulators.salesforce.generate.defects_log import DefectLog
from emulators.salesforce.generate.people import contact_record, lead_record
from emulators.salesforce.generate.population import Population
from emulators.salesforce.generate.sfids import id_for
from emulators.salesforce.generate.writer import IdAllocator, OrgWriter

BIG_FILE_BYTES = 5 * 1024 * 1024 + 1024
NEVER_EXISTED = 62**8  # a counter far beyond anything generated

UNICODE_NAMES = (
    ("FirstName", "Ana 🚀", "LastName", "López 👩\u200d💻"),
    ("FirstName", "مريم", "LastName", "כהן"),
    ("FirstName", "Zoe\u0308", "LastName", "Nguye\u0302\u0303n"),
)
CONTROL_TEXT = "Called back\x07 twice;\x0bleft\x1b[0m a voicemail.\x0c"
# 101 characters: one more than Dataverse contact.jobtitle holds (Salesforce allows 128).
LONG_TITLE = (
    "Senior Vice President, Global Strategic Partnerships, Alliances and Channel Ecosystem "
    "Development, EU"
)
HTML_NOTE = (
    '<div style="color:red"><h1>Renewal</h1><p>Budget <b>approved</b> &amp; signed.</p>'
    '<script>alert("x")</script><img src="https://example.com/x.png"></div>'
)


class Planter:
    """Writes planted records; every spoiled value goes through :meth:`spoil`."""

    def __init__(self, pop: Population, w: OrgWriter, ids: IdAllocator, log: DefectLog) -> None:
        self.pop, self.w, self.ids, self.log = pop, w, ids, log
        self.rng = random.Random(f"{pop.seed}:defects")
        self.contact0 = pop.contact_id(0)
        self.owner = pop.user_id(0)
        self.inactive = pop.user_id(pop.active_users)
        self.unmapped = pop.user_id(pop.unmapped_user_index)
        self.deleted: dict[str, str] = {}
        self._contact_n = pop.contacts
        self._account_n = pop.accounts
        self._lead_n = pop.leads

    def spoil(
        self, sobject: str, record: dict[str, Any], defect: str, field: str, value: Any
    ) -> None:
        record[field] = value
        self.log.add(sobject, record["Id"], defect, field, value)

    # ---- record factories (clean first, spoiled by the caller) --------------------------------
    def contact(self) -> dict[str, Any]:
        n = self._contact_n
        self._contact_n += 1
        return contact_record(self.pop, self.rng, n, self.ids.next("Contact"))

    def account(self) -> dict[str, Any]:
        n = self._account_n
        self._account_n += 1
        return account_record(self.pop, self.rng, n, self.ids.next("Account"))

    def lead(self) -> dict[str, Any]:
        n = self._lead_n
        self._lead_n += 1
        return lead_record(self.pop, self.rng, n, self.ids.next("Lead"))

    def deleted_parents(self) -> None:
        """One deleted account, contact, opportunity and sequence for orphans to point at."""
        account = self.account()
        account["IsDeleted"] = True
        self.w.record("Account", account)
        contact = self.contact()
        contact["IsDeleted"] = True
        self.w.record("Contact", contact)
        opp_id = self.ids.next("Opportunity")
        opportunity = {
            "Id": opp_id,
            "Name": "Lost deal (deleted)",
            "AccountId": self.pop.account_id(0),
            "StageName": "Closed Lost",
            "CloseDate": "2025-03-31",
            "OwnerId": self.owner,
        }
        opportunity.update(v.system_fields(self.rng, v.ORG_START, self.owner, deleted=True))
        self.w.record("Opportunity", opportunity)
        seq_id = self.ids.next("leadfwd__Sequence__c")
        sequence = {"Id": seq_id, "Name": "Retired Q1 blitz (deleted)", "OwnerId": self.owner}
        sequence.update(v.system_fields(self.rng, v.ORG_START, self.owner, deleted=True))
        self.w.record("leadfwd__Sequence__c", sequence)
        self.deleted = {
            "Account": account["Id"],
            "Contact": contact["Id"],
            "Opportunity": opp_id,
            "Sequence": seq_id,
        }

    # ---- people ---------------------------------------------------------------------------------
    def contacts(self) -> int:
        """Plant the contact defects; return how many live contacts were written."""
        planted: list[dict[str, Any]] = []

        def new(defect: str, field: str, value: Any) -> dict[str, Any]:
            record = self.contact()
            self.spoil("Contact", record, defect, field, value)
            planted.append(record)
            return record

        new("invalid_email", "Email", "bob@")
        new("invalid_email", "Email", "jane doe@example.com")
        new("text_too_long", "Title", LONG_TITLE)
        new("multipicklist_unmapped", "Interests__c", "Cloud;Quantum Knitting")
        new("lookup_to_deleted", "AccountId", self.deleted["Account"])
        new("lookup_never_existed", "AccountId", id_for("Account", NEVER_EXISTED))
        new("inactive_owner", "OwnerId", self.inactive)
        new("owner_without_dynamics_user", "OwnerId", self.unmapped)
        original = new("duplicate_email", "Email", "dana.kim@shared-inbox.example")
        duplicate = new("duplicate_email", "Email", original["Email"])
        duplicate["leadfwd__Created_By_Sync__c"] = True
        self.spoil(
            "Contact",
            duplicate,
            "sync_created_without_external_id",
            "leadfwd__External_Id__c",
            None,
        )
        first = new("duplicate_email", "Email", "Lee.Moreau@Contoso-Partners.example")
        new("duplicate_email", "Email", first["Email"].lower())
        lone = new("sync_created_without_external_id", "leadfwd__External_Id__c", None)
        lone["leadfwd__Created_By_Sync__c"] = True
        self.same_person = self.contact()
        planted.append(self.same_person)
        new("date_before_1753", "Birthdate", "1700-01-01")
        for first_field, first_value, last_field, last_value in UNICODE_NAMES:
            record = new("unicode_text", first_field, first_value)
            self.spoil("Contact", record, "unicode_text", last_field, last_value)
        new("control_characters", "Description", CONTROL_TEXT)
        icebreaker = "Saw your keynote. " + "You said pipeline is a team sport. " * 140
        new("icebreaker_too_long", "leadfwd__Icebreaker__c", icebreaker.strip())
        new("decimal_out_of_range", "Propensity__c", 1_234_567_890_123.5)
        for record in planted:
            if record.get("leadfwd__External_Id__c") is None:
                record.pop("leadfwd__External_Id__c", None)
            self.w.record("Contact", record)
        return len(planted)

    def leads(self) -> None:
        def new(defect: str, field: str, value: Any) -> None:
            record = self.lead()
            self.spoil("Lead", record, defect, field, value)
            self.w.record("Lead", record)

        new("picklist_unmapped", "LeadSource", "Trade Show 2019")
        new("invalid_email", "Email", "lead@@example.com")
        new("lead_and_contact_same_person", "Email", self.same_person["Email"])
        new("duplicate_email", "Email", "sam.okafor@twice-imported.example")
        new("duplicate_email", "Email", "sam.okafor@twice-imported.example")

    # ---- accounts -------------------------------------------------------------------------------
    def accounts(self) -> None:
        def new(defect: str | None = None, field: str = "", value: Any = None) -> dict[str, Any]:
            record = self.account()
            if defect:
                self.spoil("Account", record, defect, field, value)
            return record

        records = [
            new("picklist_unmapped", "Industry", "Asteroid Mining"),
            new("inactive_owner", "OwnerId", self.inactive),
            new("owner_without_dynamics_user", "OwnerId", self.unmapped),
        ]
        # A -> B -> A: the cycle is broken at the account with the smaller Id (A); B keeps its
        # link. A self-parent loses its link.
        cycle_a, cycle_b = new(), new()
        self.spoil("Account", cycle_a, "parent_cycle", "ParentId", cycle_b["Id"])
        cycle_b["ParentId"] = cycle_a["Id"]
        selfish = new()
        self.spoil("Account", selfish, "self_parent", "ParentId", selfish["Id"])
        records += [cycle_a, cycle_b, selfish]
        records += [
            new("lookup_to_deleted", "ParentId", self.deleted["Account"]),
            new("integer_out_of_range", "Employees_Global__c", 3_000_000_000),
            new("decimal_out_of_range", "Contract_Value__c", 1_000_000_000_000_000.0),
            new("date_after_9999_12_30", "Renewal_Date__c", "9999-12-31"),
            new("control_characters", "Description", CONTROL_TEXT),
            new("text_too_long", "Name", "Globex " + "International Holdings " * 8),
            new("unicode_text", "Name", "Café Ōsaka 株式会社 🚲"),
        ]
        for record in records:
            self.w.record("Account", record)

    # ---- activities, Leadfwd records and files ------------------------------------------------
    def _task(self, who: str | None, what: str | None) -> dict[str, Any]:
        record: dict[str, Any] = {"Id": self.ids.next("Task")}
        if who:
            record["WhoId"] = who
        if what:
            record["WhatId"] = what
        record.update(
            Subject="Call", TaskSubtype="Call", Type="Call", Status="Completed", Priority="Normal",
            ActivityDate="2025-11-03", CallType="Outbound", CallDurationInSeconds=95,
            OwnerId=self.owner, IsArchived=False,
        )  # fmt: skip
        record.update(v.system_fields(self.rng, v.BASE_TIME - dt.timedelta(days=58), self.owner))
        return record

    def activities(self) -> None:
        contact1 = self.pop.contact_id(1)
        for defect, who, what in (
            ("regarding_deleted_record", self.contact0, self.deleted["Opportunity"]),
            ("regarding_unmigrated_record", contact1, id_for("Campaign", NEVER_EXISTED)),
        ):
            task = self._task(who, what)
            self.log.add("Task", task["Id"], defect, "WhatId", what)
            self.w.record("Task", task)
        orphan = self._task(self.deleted["Contact"], None)
        self.log.add("Task", orphan["Id"], "person_deleted_no_fallback", "WhoId", orphan["WhoId"])
        self.w.record("Task", orphan)

        event_base = {
            "leadfwd__Event_Type__c": "Opened",
            "leadfwd__Channel__c": "Email",
            "leadfwd__Step_Number__c": 1,
            "leadfwd__Occurred_At__c": "2025-10-01T10:00:00.000+0000",
        }
        for defect, field, value, extra in (
            ("regarding_deleted_record", "leadfwd__Opportunity__c", self.deleted["Opportunity"],
             {"leadfwd__Contact__c": self.contact0}),
            ("person_deleted_no_fallback", "leadfwd__Contact__c", self.deleted["Contact"], {}),
        ):  # fmt: skip
            event: dict[str, Any] = {"Id": self.ids.next("leadfwd__Engagement_Event__c")}
            event.update(event_base)
            event.update(extra)
            event[field] = value
            event.update(v.system_fields(self.rng, v.BASE_TIME - dt.timedelta(days=92), self.owner))
            self.log.add("leadfwd__Engagement_Event__c", event["Id"], defect, field, value)
            self.w.record("leadfwd__Engagement_Event__c", event)

        enrollment: dict[str, Any] = {
            "Id": self.ids.next("leadfwd__Sequence_Enrollment__c"),
            "Name": "ENR-DELETED-SEQ",
            "OwnerId": self.owner,
            "leadfwd__Sequence__c": self.deleted["Sequence"],
            "leadfwd__Contact__c": self.contact0,
            "leadfwd__Status__c": "Ended Early",
            "leadfwd__Current_Step__c": 2,
            "leadfwd__Enrolled_At__c": "2025-02-03T08:00:00.000+0000",
            "leadfwd__Ended_At__c": "2025-02-10T08:00:00.000+0000",
        }
        enrollment.update(v.system_fields(self.rng, v.ORG_START, self.owner))
        self.log.add("leadfwd__Sequence_Enrollment__c", enrollment["Id"],
                     "enrollment_in_deleted_sequence", "leadfwd__Sequence__c",
                     self.deleted["Sequence"])  # fmt: skip
        self.w.record("leadfwd__Sequence_Enrollment__c", enrollment)

    def files(self) -> None:
        created = v.BASE_TIME - dt.timedelta(days=40)
        common: dict[str, Any] = {"owner": self.owner, "created": created, "rng": self.rng}
        note_id = files.note(self.w, self.ids, parent=self.contact0, title="Renewal (pasted)",
                             body=HTML_NOTE, **common)  # fmt: skip
        self.log.add("Note", note_id, "html_in_note", "Body", HTML_NOTE)
        big = files.file_body(self.rng, "pdf", BIG_FILE_BYTES)
        big_id = files.content_file(self.w, self.ids, title="Signed MSA (scanned)", ext="pdf",
                                    body=big, linked=self.contact0, **common)  # fmt: skip
        self.log.add("ContentVersion", big_id, "file_over_5mb", "ContentSize", BIG_FILE_BYTES)
        empty_id = files.content_file(self.w, self.ids, title="Empty export", ext="csv", body=b"",
                                      linked=self.contact0, **common)  # fmt: skip
        self.log.add("ContentVersion", empty_id, "zero_byte_file", "ContentSize", 0)
        empty_att = files.attachment(self.w, self.ids, parent=self.contact0, name="blank.txt",
                                     ext="txt", body=b"", **common)  # fmt: skip
        self.log.add("Attachment", empty_att, "zero_byte_file", "BodyLength", 0)


def plant_defects(pop: Population, w: OrgWriter, ids: IdAllocator, log: DefectLog) -> int:
    """Plant every defect class; return the number of live planted contacts."""
    planter = Planter(pop, w, ids, log)
    planter.deleted_parents()
    planter.accounts()
    live_contacts = planter.contacts()
    planter.leads()
    planter.activities()
    planter.files()
    return live_contacts
