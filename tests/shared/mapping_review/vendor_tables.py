"""Dataverse standard columns as ``EntityDefinitions(LogicalName='x')?$expand=Attributes`` JSON.

Source: the Dataverse table/entity reference (logical names, display names, types, formats and
default choice options as published), e.g.
https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/contact

Choice options are included inline (``OptionSet``), as a definition saved after the cast query
``Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet`` carries them.
"""

from __future__ import annotations

from typing import Any

A = tuple[str, str, str, dict[str, Any]]  # logical name, type, display name, extra


def a(name: str, type_: str, label: str, **extra: Any) -> A:
    return (name, type_, label, extra)


def _text(name: str, label: str, fmt: str = "Text", length: int = 100) -> A:
    return a(name, "String", label, fmt=fmt, length=length)


def _address(block: int, street_label: str = "Street 1", prefix: str | None = None) -> list[A]:
    p = f"Address {block}: " if prefix is None else prefix
    n = f"address{block}"
    return [
        _text(f"{n}_line1", p + street_label, length=250),
        _text(f"{n}_line2", p + "Street 2", length=250),
        _text(f"{n}_line3", p + "Street 3", length=250),
        _text(f"{n}_city", p + "City", length=80),
        _text(f"{n}_stateorprovince", p + "State/Province", length=50),
        _text(f"{n}_postalcode", p + "ZIP/Postal Code", length=20),
        _text(f"{n}_country", p + "Country/Region", length=80),
        _text(f"{n}_county", p + "County", length=50),
        a(f"{n}_latitude", "Double", p + "Latitude"),
        a(f"{n}_longitude", "Double", p + "Longitude"),
        _text(f"{n}_telephone1", p + "Phone", fmt="Phone", length=50),
        _text(f"{n}_name", p + "Name", length=200),
        a(f"{n}_composite", "Memo", p + "Address", create=False, update=False),
    ]


def _owner_and_state(states: list[str], reasons: list[tuple[int, str]]) -> list[A]:
    return [
        a("ownerid", "Owner", "Owner", targets=["systemuser", "team"]),
        a("owneridname", "String", "Owner Name", attribute_of="ownerid", create=False),
        a("statecode", "State", "Status", options=list(enumerate(states)), create=False),
        a("statuscode", "Status", "Status Reason", options=reasons),
        a("overriddencreatedon", "DateTime", "Record Created On", update=False),
        a("createdon", "DateTime", "Created On", create=False, update=False),
        a("modifiedon", "DateTime", "Modified On", create=False, update=False),
        a("createdby", "Lookup", "Created By", targets=["systemuser"], create=False, update=False),
        a("versionnumber", "BigInt", "Version Number", create=False, update=False),
        a("importsequencenumber", "Integer", "Import Sequence Number", update=False),
    ]


LEAD_SOURCE_CODES = [
    (1, "Advertisement"),
    (2, "Employee Referral"),
    (3, "External Referral"),
    (4, "Partner"),
    (5, "Public Relations"),
    (6, "Seminar"),
    (7, "Trade Show"),
    (8, "Web"),
    (9, "Word of Mouth"),
    (10, "Other"),
]
INDUSTRY_CODES = [
    (1, "Accounting"),
    (2, "Agriculture and Non-petrol Natural Resource Extraction"),
    (3, "Broadcasting Printing and Publishing"),
    (4, "Brokers"),
    (5, "Building Supply Retail"),
    (6, "Business Services"),
    (7, "Consulting"),
    (8, "Consumer Services"),
    (9, "Design, Direction and Creative Management"),
    (10, "Distributors, Dispatchers and Processors"),
    (11, "Doctor's Offices and Clinics"),
    (12, "Durable Manufacturing"),
    (13, "Eating and Drinking Places"),
    (14, "Entertainment Retail"),
    (15, "Equipment Rental and Leasing"),
    (16, "Financial"),
    (17, "Food and Tobacco Processing"),
    (18, "Inbound Capital Intensive Processing"),
    (19, "Inbound Repair and Services"),
    (20, "Insurance"),
    (21, "Legal Services"),
    (22, "Non-Durable Merchandise Retail"),
    (23, "Outbound Consumer Service"),
    (24, "Petrochemical Extraction and Distribution"),
    (25, "Service Retail"),
    (26, "SIG Affiliations"),
    (27, "Social Services"),
    (28, "Special Outbound Trade Contractors"),
    (29, "Specialty Realty"),
    (30, "Transportation"),
    (31, "Utility Creation and Distribution"),
    (32, "Vehicle Retail"),
    (33, "Wholesale"),
]
PRIORITY = [(0, "Low"), (1, "Normal"), (2, "High")]

_PEOPLE_COMMON = [
    _text("firstname", "First Name", length=50),
    _text("lastname", "Last Name", length=50),
    _text("middlename", "Middle Name", length=50),
    a("fullname", "String", "Full Name", create=False, update=False, length=160),
    _text("salutation", "Salutation", length=100),
    _text("jobtitle", "Job Title", length=100),
    _text("emailaddress1", "Email", fmt="Email"),
    _text("emailaddress2", "Email Address 2", fmt="Email"),
    _text("emailaddress3", "Email Address 3", fmt="Email"),
    _text("telephone1", "Business Phone", fmt="Phone", length=50),
    _text("telephone2", "Home Phone", fmt="Phone", length=50),
    _text("mobilephone", "Mobile Phone", fmt="Phone", length=50),
    _text("fax", "Fax", length=50),
    _text("pager", "Pager", fmt="Phone", length=50),
    _text("websiteurl", "Website", fmt="Url", length=200),
    a("description", "Memo", "Description", length=2000),
    a("leadsourcecode", "Picklist", "Lead Source", options=LEAD_SOURCE_CODES),
    a("donotemail", "Boolean", "Do not allow Emails"),
    a("donotphone", "Boolean", "Do not allow Phone Calls"),
    a("donotfax", "Boolean", "Do not allow Faxes"),
    a("donotbulkemail", "Boolean", "Do not allow Bulk Emails"),
    a("donotpostalmail", "Boolean", "Do not allow Mails"),
    a(
        "preferredcontactmethodcode",
        "Picklist",
        "Preferred Method of Contact",
        options=[(1, "Any"), (2, "Email"), (3, "Phone"), (4, "Fax"), (5, "Mail")],
    ),
    _text("yomifirstname", "Yomi First Name", length=150),
    _text("yomilastname", "Yomi Last Name", length=150),
]

DATAVERSE: dict[str, tuple[str, str, list[A]]] = {
    "contact": (
        "Contact",
        "contacts",
        [
            a("contactid", "Uniqueidentifier", "Contact", primary=True),
            *_PEOPLE_COMMON,
            _text("suffix", "Suffix", length=10),
            _text("nickname", "Nickname", length=100),
            _text("department", "Department", length=100),
            _text("telephone3", "Telephone 3", fmt="Phone", length=50),
            _text("assistantname", "Assistant", length=100),
            _text("assistantphone", "Assistant Phone", fmt="Phone", length=50),
            _text("managername", "Manager", length=100),
            _text("managerphone", "Manager Phone", fmt="Phone", length=50),
            a("birthdate", "DateTime", "Birthday", date_only=True),
            a("anniversary", "DateTime", "Anniversary", date_only=True),
            _text("spousesname", "Spouse/Partner Name", length=100),
            a("gendercode", "Picklist", "Gender", options=[(1, "Male"), (2, "Female")]),
            a(
                "familystatuscode",
                "Picklist",
                "Marital Status",
                options=[(1, "Single"), (2, "Married"), (3, "Divorced"), (4, "Widowed")],
            ),
            a("annualincome", "Money", "Annual Income"),
            a("creditlimit", "Money", "Credit Limit"),
            _text("governmentid", "Government", length=50),
            _text("employeeid", "Employee", length=50),
            a("numberofchildren", "Integer", "No. of Children"),
            a("parentcustomerid", "Customer", "Company Name", targets=["account", "contact"]),
            a(
                "parentcustomeridname",
                "String",
                "Parent Customer Name",
                attribute_of="parentcustomerid",
                create=False,
            ),
            a("originatingleadid", "Lookup", "Originating Lead", targets=["lead"]),
            a(
                "accountrolecode",
                "Picklist",
                "Role",
                options=[(1, "Decision Maker"), (2, "Employee"), (3, "Influencer")],
            ),
            *_address(1),
            *_address(2),
            *_owner_and_state(["Active", "Inactive"], [(1, "Active"), (2, "Inactive")]),
        ],
    ),
    "account": (
        "Account",
        "accounts",
        [
            a("accountid", "Uniqueidentifier", "Account", primary=True),
            _text("name", "Account Name", length=160),
            _text("accountnumber", "Account Number", length=20),
            a("parentaccountid", "Lookup", "Parent Account", targets=["account"]),
            a("primarycontactid", "Lookup", "Primary Contact", targets=["contact"]),
            _text("telephone1", "Main Phone", fmt="Phone", length=50),
            _text("telephone2", "Other Phone", fmt="Phone", length=50),
            _text("telephone3", "Telephone 3", fmt="Phone", length=50),
            _text("fax", "Fax", length=50),
            _text("emailaddress1", "Email", fmt="Email"),
            _text("emailaddress2", "Email Address 2", fmt="Email"),
            _text("emailaddress3", "Email Address 3", fmt="Email"),
            _text("websiteurl", "Website", fmt="Url", length=200),
            *_address(1),
            *_address(2),
            a("industrycode", "Picklist", "Industry", options=INDUSTRY_CODES),
            a("revenue", "Money", "Annual Revenue"),
            a("numberofemployees", "Integer", "Number of Employees"),
            a(
                "ownershipcode",
                "Picklist",
                "Ownership",
                options=[(1, "Public"), (2, "Private"), (3, "Subsidiary"), (4, "Other")],
            ),
            _text("tickersymbol", "Ticker Symbol", fmt="TickerSymbol", length=10),
            _text("stockexchange", "Stock Exchange", length=20),
            _text("sic", "SIC Code", length=20),
            a("description", "Memo", "Description", length=2000),
            a("accountratingcode", "Picklist", "Account Rating", options=[(1, "Default Value")]),
            a(
                "customertypecode",
                "Picklist",
                "Relationship Type",
                options=[
                    (1, "Competitor"),
                    (2, "Consultant"),
                    (3, "Customer"),
                    (4, "Investor"),
                    (5, "Partner"),
                    (6, "Influencer"),
                    (7, "Press"),
                    (8, "Prospect"),
                    (9, "Reseller"),
                    (10, "Supplier"),
                    (11, "Vendor"),
                    (12, "Other"),
                ],
            ),
            a(
                "accountcategorycode",
                "Picklist",
                "Category",
                options=[(1, "Preferred Customer"), (2, "Standard")],
            ),
            a(
                "accountclassificationcode",
                "Picklist",
                "Classification",
                options=[(1, "Default Value")],
            ),
            a("businesstypecode", "Picklist", "Business Type", options=[(1, "Default Value")]),
            a("creditlimit", "Money", "Credit Limit"),
            a("creditonhold", "Boolean", "Credit Hold"),
            a(
                "paymenttermscode",
                "Picklist",
                "Payment Terms",
                options=[(1, "Net 30"), (2, "2% 10, Net 30"), (3, "Net 45"), (4, "Net 60")],
            ),
            a("marketcap", "Money", "Market Capitalization"),
            a("sharesoutstanding", "Integer", "Shares Outstanding"),
            a("donotemail", "Boolean", "Do not allow Emails"),
            a("donotphone", "Boolean", "Do not allow Phone Calls"),
            a("donotfax", "Boolean", "Do not allow Faxes"),
            a(
                "preferredcontactmethodcode",
                "Picklist",
                "Preferred Method of Contact",
                options=[(1, "Any"), (2, "Email"), (3, "Phone"), (4, "Fax"), (5, "Mail")],
            ),
            a("originatingleadid", "Lookup", "Originating Lead", targets=["lead"]),
            _text("yominame", "Yomi Account Name", length=160),
            *_owner_and_state(["Active", "Inactive"], [(1, "Active"), (2, "Inactive")]),
        ],
    ),
    "lead": (
        "Lead",
        "leads",
        [
            a("leadid", "Uniqueidentifier", "Lead", primary=True),
            _text("subject", "Topic", length=300),
            *_PEOPLE_COMMON,
            _text("telephone3", "Other Phone", fmt="Phone", length=50),
            _text("companyname", "Company Name", length=100),
            *_address(1, street_label="Street 1", prefix=""),
            *_address(2),
            a("industrycode", "Picklist", "Industry", options=INDUSTRY_CODES),
            a(
                "leadqualitycode",
                "Picklist",
                "Rating",
                options=[(1, "Hot"), (2, "Warm"), (3, "Cold")],
            ),
            a("revenue", "Money", "Annual Revenue"),
            a("numberofemployees", "Integer", "No. of Employees"),
            _text("sic", "SIC Code", length=20),
            a("parentaccountid", "Lookup", "Existing Account", targets=["account"]),
            a("parentcontactid", "Lookup", "Existing Contact", targets=["contact"]),
            a("budgetamount", "Money", "Budget Amount"),
            a(
                "purchasetimeframe",
                "Picklist",
                "Purchase Timeframe",
                options=[
                    (0, "Immediate"),
                    (1, "This Quarter"),
                    (2, "Next Quarter"),
                    (3, "This Year"),
                    (4, "Unknown"),
                ],
            ),
            a("decisionmaker", "Boolean", "Decision Maker?"),
            a("estimatedamount", "Money", "Est. Value"),
            a("estimatedclosedate", "DateTime", "Est. Close Date", date_only=True),
            a("qualificationcomments", "Memo", "Qualification Comments", length=2000),
            a("prioritycode", "Picklist", "Priority", options=[(1, "Default Value")]),
            a("salesstagecode", "Picklist", "Sales Stage", options=[(1, "Default Value")]),
            a("campaignid", "Lookup", "Source Campaign", targets=["campaign"]),
            *_owner_and_state(
                ["Open", "Qualified", "Disqualified"],
                [
                    (1, "New"),
                    (2, "Contacted"),
                    (3, "Qualified"),
                    (4, "Lost"),
                    (5, "Cannot Contact"),
                    (6, "No Longer Interested"),
                    (7, "Canceled"),
                ],
            ),
        ],
    ),
}

_REGARDING = ["account", "contact", "lead", "opportunity"]


def _activity(extra: list[A], states: list[str], reasons: list[tuple[int, str]]) -> list[A]:
    return [
        a("activityid", "Uniqueidentifier", "Activity", primary=True),
        _text("subject", "Subject", length=200),
        a("description", "Memo", "Description", length=2000),
        a("regardingobjectid", "Lookup", "Regarding", targets=_REGARDING),
        a("prioritycode", "Picklist", "Priority", options=PRIORITY),
        a("scheduledstart", "DateTime", "Start Date"),
        a("scheduledend", "DateTime", "Due"),
        a("actualstart", "DateTime", "Actual Start"),
        a("actualend", "DateTime", "Actual End"),
        a("actualdurationminutes", "Integer", "Actual Duration"),
        a("scheduleddurationminutes", "Integer", "Scheduled Duration"),
        _text("category", "Category", length=250),
        _text("subcategory", "Sub-Category", length=250),
        a("activitytypecode", "EntityName", "Activity Type", create=False, update=False),
        *extra,
        *_owner_and_state(states, reasons),
    ]


DATAVERSE.update(
    {
        "task": (
            "Task",
            "tasks",
            _activity(
                [a("percentcomplete", "Integer", "Percent Complete")],
                ["Open", "Completed", "Canceled"],
                [
                    (2, "Not Started"),
                    (3, "In Progress"),
                    (4, "Waiting on someone else"),
                    (5, "Completed"),
                    (6, "Canceled"),
                    (7, "Deferred"),
                ],
            ),
        ),
        "phonecall": (
            "Phone Call",
            "phonecalls",
            _activity(
                [
                    _text("phonenumber", "Phone Number", fmt="Phone", length=200),
                    a(
                        "directioncode",
                        "Boolean",
                        "Direction",
                        options=[(0, "Incoming"), (1, "Outgoing")],
                    ),
                    a(
                        "from",
                        "PartyList",
                        "Call From",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a(
                        "to",
                        "PartyList",
                        "Call To",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a("leftvoicemail", "Boolean", "Left Voice Mail"),
                ],
                ["Open", "Completed", "Canceled"],
                [(1, "Open"), (2, "Made"), (3, "Canceled"), (4, "Received")],
            ),
        ),
        "appointment": (
            "Appointment",
            "appointments",
            _activity(
                [
                    _text("location", "Location", length=200),
                    a("isalldayevent", "Boolean", "All Day Event"),
                    a(
                        "requiredattendees",
                        "PartyList",
                        "Required Attendees",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a(
                        "optionalattendees",
                        "PartyList",
                        "Optional Attendees",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a("organizer", "PartyList", "Organizer", targets=["systemuser"]),
                ],
                ["Open", "Completed", "Canceled", "Scheduled"],
                [
                    (1, "Free"),
                    (2, "Tentative"),
                    (3, "Completed"),
                    (4, "Canceled"),
                    (5, "Busy"),
                    (6, "Out of Office"),
                ],
            ),
        ),
        "email": (
            "Email",
            "emails",
            _activity(
                [
                    _text("sender", "Sender", length=250),
                    a("torecipients", "String", "To Recipients", length=500, create=False),
                    a(
                        "from",
                        "PartyList",
                        "From",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a(
                        "to",
                        "PartyList",
                        "To",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a(
                        "cc",
                        "PartyList",
                        "Cc",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a(
                        "bcc",
                        "PartyList",
                        "Bcc",
                        targets=["systemuser", "contact", "account", "lead"],
                    ),
                    a(
                        "directioncode",
                        "Boolean",
                        "Direction",
                        options=[(0, "Incoming"), (1, "Outgoing")],
                    ),
                    _text("messageid", "Message ID", length=320),
                    _text("inreplyto", "In Reply To Message", length=320),
                    _text("conversationindex", "Conversation Index", length=2048),
                    a("senton", "DateTime", "Date Sent", create=False, update=False),
                    a("parentactivityid", "Lookup", "Parent Activity Id", targets=["email"]),
                    a("readreceiptrequested", "Boolean", "Read Receipt Requested"),
                    a("deliveryreceiptrequested", "Boolean", "Delivery Receipt Requested"),
                    _text("trackingtoken", "Tracking Token", length=50),
                    a("attachmentcount", "Integer", "Attachment Count", create=False, update=False),
                ],
                ["Open", "Completed", "Canceled"],
                [
                    (1, "Draft"),
                    (2, "Completed"),
                    (3, "Sent"),
                    (4, "Received"),
                    (5, "Canceled"),
                    (6, "Pending Send"),
                    (7, "Sending"),
                    (8, "Failed"),
                ],
            ),
        ),
    }
)

_ODATA = {
    "String": "StringAttributeMetadata",
    "Memo": "MemoAttributeMetadata",
    "Integer": "IntegerAttributeMetadata",
    "BigInt": "BigIntAttributeMetadata",
    "Decimal": "DecimalAttributeMetadata",
    "Double": "DoubleAttributeMetadata",
    "Money": "MoneyAttributeMetadata",
    "Boolean": "BooleanAttributeMetadata",
    "DateTime": "DateTimeAttributeMetadata",
    "Picklist": "PicklistAttributeMetadata",
    "State": "StateAttributeMetadata",
    "Status": "StatusAttributeMetadata",
    "Lookup": "LookupAttributeMetadata",
    "Customer": "LookupAttributeMetadata",
    "Owner": "LookupAttributeMetadata",
    "PartyList": "LookupAttributeMetadata",
    "Uniqueidentifier": "UniqueIdentifierAttributeMetadata",
    "EntityName": "EntityNameAttributeMetadata",
}


def _label(text: str) -> dict[str, Any]:
    loc = {
        "@odata.type": "#Microsoft.Dynamics.CRM.LocalizedLabel",
        "Label": text,
        "LanguageCode": 1033,
        "IsManaged": True,
    }
    return {"LocalizedLabels": [loc], "UserLocalizedLabel": loc}


def attribute(table: str, attr: A) -> dict[str, Any]:
    """One ``Attributes[]`` entry in the Web API's shape."""
    name, type_, label, extra = attr
    out: dict[str, Any] = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{_ODATA[type_]}",
        "LogicalName": name,
        "SchemaName": name[:1].upper() + name[1:],
        "AttributeType": type_,
        "AttributeTypeName": {"Value": f"{type_}Type"},
        "DisplayName": _label(label),
        "EntityLogicalName": table,
        "IsCustomAttribute": False,
        "IsPrimaryId": bool(extra.get("primary", False)),
        "IsValidForCreate": bool(extra.get("create", True)),
        "IsValidForUpdate": bool(extra.get("update", True)),
        "IsValidForRead": True,
        "AttributeOf": extra.get("attribute_of"),
        "RequiredLevel": {"Value": "None", "CanBeChanged": True},
    }
    if type_ == "String":
        out["MaxLength"] = extra.get("length", 100)
        out["FormatName"] = {"Value": extra.get("fmt", "Text")}
    if type_ == "Memo":
        out["MaxLength"] = extra.get("length", 2000)
        out["Format"] = "TextArea"
    if type_ == "DateTime":
        out["Format"] = "DateOnly" if extra.get("date_only") else "DateAndTime"
        out["DateTimeBehavior"] = {"Value": "DateOnly" if extra.get("date_only") else "UserLocal"}
    if type_ in {"Lookup", "Customer", "Owner", "PartyList"}:
        out["Targets"] = extra.get("targets", [])
    if "options" in extra:
        out["OptionSet"] = {
            "@odata.type": "#Microsoft.Dynamics.CRM.OptionSetMetadata",
            "IsGlobal": False,
            "OptionSetType": type_ if type_ != "Boolean" else "Boolean",
            "Options": [{"Value": v, "Label": _label(t)} for v, t in extra["options"]],
        }
    return out


def entity_definition(table: str) -> dict[str, Any]:
    """A whole ``EntityDefinitions(LogicalName='<table>')?$expand=Attributes`` response."""
    label, entity_set, attrs = DATAVERSE[table]
    return {
        "@odata.context": "https://org.crm.dynamics.com/api/data/v9.2/$metadata"
        "#EntityDefinitions(Attributes())/$entity",
        "LogicalName": table,
        "SchemaName": table[:1].upper() + table[1:],
        "EntitySetName": entity_set,
        "DisplayName": _label(label),
        "PrimaryIdAttribute": next(x[0] for x in attrs if x[3].get("primary")),
        "IsActivity": table in {"task", "phonecall", "appointment", "email"},
        "IsCustomEntity": False,
        "Attributes": [attribute(table, x) for x in attrs],
    }
