"""Curated Salesforce ↔ Dataverse correspondences that names alone would not find.

Only correspondences whose names differ enough that similarity would miss or misplace them
live here (``Title`` → ``jobtitle``, ``MailingStreet`` → ``address1_line1``). Obvious ones
(``FirstName`` → ``firstname``) are left to the matcher on purpose, so the accuracy measured in
``docs/mapping-accuracy.md`` says something about the matcher and not only about this table.

Every entry names where it comes from: the vendors' published field references

- Salesforce Object Reference, e.g.
  https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contact.htm
- Dataverse table/entity reference, e.g.
  https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact

and the convention that decides the pairing (which address block, which phone slot).
"""

from __future__ import annotations

from dataclasses import dataclass

SF_REF = "https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/"
DV_REF = "https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/"


@dataclass(frozen=True)
class Correspondence:
    """One known pairing of a Salesforce field with a Dataverse column."""

    source_object: str
    source_field: str
    target_table: str
    target_column: str
    why: str
    transform: str | None = None
    values: tuple[tuple[str, bool], ...] = ()

    @property
    def sources(self) -> tuple[str, str]:
        """The two published references the pairing was read from."""
        obj = {"EmailMessage": "emailmessage", "Event": "event"}.get(
            self.source_object, self.source_object.lower()
        )
        return (f"{SF_REF}sforce_api_objects_{obj}.htm", f"{DV_REF}{self.target_table}")


@dataclass(frozen=True)
class ObjectPair:
    """Where one Salesforce object (or one route of it) lands, as the default map names it."""

    name: str
    source: str
    target: str
    kind: str = "record"
    route_field: str | None = None
    route_in: tuple[str | None, ...] = ()


#: Where each standard object lands by default. Task splits by ``TaskSubtype``: calls become
#: phone calls, emails become emails, the rest tasks (as in the default map).
OBJECT_PAIRS: tuple[ObjectPair, ...] = (
    ObjectPair("account", "Account", "account"),
    ObjectPair("contact", "Contact", "contact"),
    ObjectPair("lead", "Lead", "lead"),
    ObjectPair("opportunity", "Opportunity", "opportunity"),
    ObjectPair(
        "task", "Task", "task", "activity", "TaskSubtype", ("Task", "Cadence", "LinkedIn", None)
    ),
    ObjectPair("task_call", "Task", "phonecall", "activity", "TaskSubtype", ("Call",)),
    ObjectPair("task_email", "Task", "email", "activity", "TaskSubtype", ("Email", "ListEmail")),
    ObjectPair("event", "Event", "appointment", "activity"),
    ObjectPair("email_message", "EmailMessage", "email", "activity"),
)

_ADDRESS_PARTS = {
    "Street": "line1",
    "City": "city",
    "State": "stateorprovince",
    "PostalCode": "postalcode",
    "Country": "country",
    "Latitude": "latitude",
    "Longitude": "longitude",
}


def _address(obj: str, table: str, prefix: str, block: str, why: str) -> list[Correspondence]:
    return [
        Correspondence(obj, f"{prefix}{part}", table, f"{block}_{col}", why)
        for part, col in _ADDRESS_PARTS.items()
    ]


def _activity_common(obj: str, table: str) -> list[Correspondence]:
    return [
        Correspondence(obj, "WhatId", table, "regardingobjectid", "related-to record"),
        Correspondence(obj, "Priority", table, "prioritycode", "priority picklist"),
        Correspondence(obj, "Status", table, "statuscode", "status → status reason"),
        Correspondence(obj, "CreatedDate", table, "overriddencreatedon", "keep original time"),
    ]


def _people(obj: str, table: str) -> list[Correspondence]:
    return [
        Correspondence(obj, "Phone", table, "telephone1", "business phone slot"),
        Correspondence(obj, "Email", table, "emailaddress1", "primary email slot"),
        Correspondence(obj, "Title", table, "jobtitle", "job title"),
        Correspondence(obj, "LeadSource", table, "leadsourcecode", "lead source picklist"),
        Correspondence(obj, "HasOptedOutOfEmail", table, "donotemail", "email opt-out"),
        Correspondence(obj, "HasOptedOutOfFax", table, "donotfax", "fax opt-out"),
        Correspondence(obj, "DoNotCall", table, "donotphone", "phone opt-out"),
        Correspondence(obj, "CreatedDate", table, "overriddencreatedon", "keep original time"),
    ]


CORRESPONDENCES: tuple[Correspondence, ...] = (
    *_people("Contact", "contact"),
    *_address("Contact", "contact", "Mailing", "address1", "mailing address is address 1"),
    *_address("Contact", "contact", "Other", "address2", "other address is address 2"),
    Correspondence("Contact", "HomePhone", "contact", "telephone2", "home phone slot"),
    Correspondence("Contact", "OtherPhone", "contact", "telephone3", "third phone slot"),
    Correspondence("Contact", "AccountId", "contact", "parentcustomerid", "company link"),
    *_people("Lead", "lead"),
    *_address("Lead", "lead", "", "address1", "the lead's one address is address 1"),
    Correspondence("Lead", "Company", "lead", "companyname", "company name text"),
    Correspondence("Lead", "Website", "lead", "websiteurl", "website"),
    Correspondence("Lead", "Status", "lead", "statuscode", "lead status → status reason"),
    Correspondence("Lead", "Rating", "lead", "leadqualitycode", "Hot/Warm/Cold rating"),
    Correspondence("Lead", "Industry", "lead", "industrycode", "industry picklist"),
    Correspondence("Lead", "AnnualRevenue", "lead", "revenue", "annual revenue (money)"),
    *_address("Account", "account", "Billing", "address1", "billing address is address 1"),
    *_address("Account", "account", "Shipping", "address2", "shipping address is address 2"),
    Correspondence("Account", "Phone", "account", "telephone1", "main phone slot"),
    Correspondence("Account", "Website", "account", "websiteurl", "website"),
    Correspondence("Account", "Type", "account", "customertypecode", "type → relationship type"),
    Correspondence("Account", "ParentId", "account", "parentaccountid", "parent account"),
    Correspondence("Account", "Industry", "account", "industrycode", "industry picklist"),
    Correspondence("Account", "AnnualRevenue", "account", "revenue", "annual revenue (money)"),
    Correspondence("Account", "Ownership", "account", "ownershipcode", "ownership picklist"),
    Correspondence("Account", "Rating", "account", "accountratingcode", "account rating"),
    Correspondence("Account", "CreatedDate", "account", "overriddencreatedon", "original time"),
    Correspondence("Opportunity", "Amount", "opportunity", "estimatedvalue", "deal value"),
    Correspondence("Opportunity", "CloseDate", "opportunity", "estimatedclosedate", "close date"),
    Correspondence("Opportunity", "StageName", "opportunity", "stepname", "stage as text"),
    Correspondence("Opportunity", "Probability", "opportunity", "closeprobability", "percent"),
    Correspondence("Opportunity", "AccountId", "opportunity", "customerid", "the account"),
    *_activity_common("Task", "task"),
    Correspondence("Task", "WhoId", "task", "regardingobjectid", "person, when no WhatId"),
    Correspondence("Task", "ActivityDate", "task", "scheduledend", "due date"),
    Correspondence("Task", "CompletedDateTime", "task", "actualend", "completion time"),
    *_activity_common("Task", "phonecall"),
    Correspondence("Task", "WhoId", "phonecall", "to", "the person called"),
    Correspondence("Task", "ActivityDate", "phonecall", "scheduledend", "due date"),
    Correspondence("Task", "CompletedDateTime", "phonecall", "actualend", "call time"),
    Correspondence(
        "Task",
        "CallDurationInSeconds",
        "phonecall",
        "actualdurationminutes",
        "seconds → minutes",
        transform="duration_minutes",
    ),
    Correspondence(
        "Task",
        "CallType",
        "phonecall",
        "directioncode",
        "inbound/outbound → direction",
        transform="boolean",
        values=(("Outbound", True), ("Inbound", False), ("Internal", True)),
    ),
    *_activity_common("Task", "email"),
    Correspondence("Task", "WhoId", "email", "to", "the person written to"),
    Correspondence("Task", "ActivityDate", "email", "scheduledend", "due date"),
    Correspondence("Task", "CompletedDateTime", "email", "actualend", "sent time"),
    *_activity_common("Event", "appointment"),
    Correspondence("Event", "WhoId", "appointment", "requiredattendees", "the person met"),
    Correspondence("Event", "StartDateTime", "appointment", "scheduledstart", "start"),
    Correspondence("Event", "EndDateTime", "appointment", "scheduledend", "end"),
    Correspondence("Event", "DurationInMinutes", "appointment", "scheduleddurationminutes", "min"),
    Correspondence("EmailMessage", "RelatedToId", "email", "regardingobjectid", "related-to"),
    Correspondence("EmailMessage", "HtmlBody", "email", "description", "the email body"),
    Correspondence("EmailMessage", "FromAddress", "email", "from", "sender party"),
    Correspondence("EmailMessage", "ToAddress", "email", "to", "recipient parties"),
    Correspondence("EmailMessage", "CcAddress", "email", "cc", "cc parties"),
    Correspondence("EmailMessage", "BccAddress", "email", "bcc", "bcc parties"),
    Correspondence("EmailMessage", "MessageDate", "email", "actualend", "sent/received time"),
    Correspondence(
        "EmailMessage",
        "Incoming",
        "email",
        "directioncode",
        "direction (Incoming=true is direction Incoming, i.e. false)",
        transform="boolean",
        values=(("true", False), ("false", True)),
    ),
    Correspondence("EmailMessage", "MessageIdentifier", "email", "messageid", "RFC 5322 id"),
    Correspondence("EmailMessage", "Status", "email", "statuscode", "status → status reason"),
    Correspondence("EmailMessage", "CreatedDate", "email", "overriddencreatedon", "original"),
    Correspondence(
        "EmailMessage", "ReplyToEmailMessageId", "email", "parentactivityid", "thread parent"
    ),
)

#: Standard system fields Salesforce maintains itself: never migrated as data.
SYSTEM_FIELDS = frozenset(
    {
        "IsDeleted",
        "MasterRecordId",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "LastActivityDate",
        "LastViewedDate",
        "LastReferencedDate",
        "LastCURequestDate",
        "LastCUUpdateDate",
        "LastTransferDate",
        "PhotoUrl",
        "Jigsaw",
        "JigsawContactId",
        "JigsawCompanyId",
        "CleanStatus",
        "IsEmailBounced",
        "EmailBouncedReason",
        "EmailBouncedDate",
        "IndividualId",
        "IsUnreadByOwner",
        "IsArchived",
        "IsClosed",
        "IsHighPriority",
        "IsRecurrence",
        "RecurrenceActivityId",
        "IsChild",
        "IsGroupEvent",
        "GroupEventType",
        "WhoCount",
        "WhatCount",
        "TaskSubtype",
        "EventSubtype",
        "ActivityDateTime",
        "IsConverted",
        "ConvertedDate",
        "ConvertedAccountId",
        "ConvertedContactId",
        "ConvertedOpportunityId",
        "HasAttachment",
        "IsExternallyVisible",
        "IsClientManaged",
        "IsPrivateDraft",
        "IsBounced",
        "IsTracked",
        "IsOpened",
        "FirstOpenedDate",
        "LastOpenedDate",
        "ActivityId",
        "ThreadIdentifier",
        "AttachmentCount",
        "DandbCompanyId",
        "OperatingHoursId",
        "CallObject",
        "ActivityDate",
        "GeocodeAccuracy",
        "MailingGeocodeAccuracy",
        "OtherGeocodeAccuracy",
        "BillingGeocodeAccuracy",
        "ShippingGeocodeAccuracy",
    }
)

#: Why some standard fields are skipped rather than given a new column.
SKIP_REASONS = {
    "IsConverted": "lead conversion is not migrated: every lead is re-qualified in Dynamics",
    "ActivityDateTime": "same instant as StartDateTime",
    "ActivityDate": "same day as StartDateTime (events); tasks map it to their due date",
    "TaskSubtype": "routes the task to task/phonecall/email; not a column",
}


#: Correspondences that hold for every object pair (the table must have the column).
ANY_OBJECT: dict[str, tuple[str, str]] = {
    "CreatedDate": ("overriddencreatedon", "keep the original creation time"),
}


def lookup(source_object: str, source_field: str, target_table: str) -> Correspondence | None:
    """The curated correspondence for one source field on one object pair, if any."""
    found = _INDEX.get((source_object, source_field, target_table))
    if found is None and source_field in ANY_OBJECT:
        column, why = ANY_OBJECT[source_field]
        found = Correspondence(source_object, source_field, target_table, column, why)
    return found


_INDEX = {(c.source_object, c.source_field, c.target_table): c for c in CORRESPONDENCES}
