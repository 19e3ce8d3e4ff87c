"""The generated org's own custom fields on Contact and Account, one of every Salesforce type.

Real orgs add custom fields of every type to Contact and Account; the migration must turn each
type into the right Dataverse column. Entries use the shape of a describe ``fields[]`` entry
(docs/org-directory.md). Custom number fields report ``double`` with ``scale`` 0 in a real
describe; ``int`` and ``long`` are included too because standard and some package fields report
them and the type mapping must handle every describe type.
"""

from __future__ import annotations

from typing import Any

FieldSpec = dict[str, Any]

# Hidden from the integration user by field-level security (org.json ``hidden_fields``).
HIDDEN_FIELDS: dict[str, list[str]] = {
    "Contact": ["Salary__c"],
    "Account": ["Credit_Score__c"],
}


def _field(name: str, ftype: str, label: str, **extra: Any) -> FieldSpec:
    spec: FieldSpec = {"name": name, "type": ftype, "label": label, "custom": True}
    spec["nillable"] = ftype != "boolean"
    spec.update(extra)
    return spec


def _picklist(values: list[str]) -> list[dict[str, Any]]:
    return [{"value": v, "label": v, "active": True, "defaultValue": False} for v in values]


def _geolocation(base: str, label: str) -> list[FieldSpec]:
    """A compound geolocation and its two parts (data holds only the parts)."""
    compound = base + "__c"
    return [
        _field(compound, "location", label, scale=6),
        _field(base + "__Latitude__s", "double", f"{label} (Latitude)", precision=9, scale=6,
               compoundFieldName=compound),
        _field(base + "__Longitude__s", "double", f"{label} (Longitude)", precision=9, scale=6,
               compoundFieldName=compound),
    ]  # fmt: skip


REGIONS = ["EMEA", "NA", "LATAM", "APAC"]
INTERESTS = ["Analytics", "Automation", "Security", "Cloud", "Mobile", "AI"]
TIERS = ["Gold", "Silver", "Bronze"]
VERTICALS = ["SMB", "Mid-Market", "Enterprise", "Public Sector"]

CONTACT_FIELDS: list[FieldSpec] = [
    _field("Nickname__c", "string", "Nickname", length=80),
    _field("Bio__c", "textarea", "Bio", length=255),
    _field("Career_History__c", "textarea", "Career History", length=32768,
           extraTypeInfo="plaintextarea"),
    _field("Profile_Html__c", "textarea", "Profile (Rich)", length=32768,
           extraTypeInfo="richtextarea", htmlFormatted=True),
    _field("Secondary_Email__c", "email", "Secondary Email", length=80),
    _field("Assistant_Mobile__c", "phone", "Assistant Mobile", length=40),
    _field("Portfolio_Url__c", "url", "Portfolio", length=255),
    _field("Region__c", "picklist", "Region", length=255, picklistValues=_picklist(REGIONS)),
    _field("Interests__c", "multipicklist", "Interests", length=4099,
           picklistValues=_picklist(INTERESTS)),
    _field("Is_VIP__c", "boolean", "VIP", defaultValue=False),
    _field("Years_Experience__c", "double", "Years of Experience", precision=3, scale=0),
    _field("Legacy_Rank__c", "int", "Legacy Rank", digits=9),
    _field("Lifetime_Touches__c", "long", "Lifetime Touches", digits=18),
    _field("Propensity__c", "double", "Propensity", precision=16, scale=4),
    _field("Engagement_Score__c", "percent", "Engagement Score", precision=5, scale=2),
    _field("Salary__c", "currency", "Salary", precision=18, scale=2),
    _field("First_Meeting__c", "date", "First Meeting"),
    _field("Last_Call_At__c", "datetime", "Last Call At"),
    _field("Preferred_Call_Time__c", "time", "Preferred Call Time"),
    *_geolocation("Home_Location", "Home Location"),
]  # fmt: skip

ACCOUNT_FIELDS: list[FieldSpec] = [
    _field("Short_Code__c", "string", "Short Code", length=20),
    _field("Summary__c", "textarea", "Summary", length=255),
    _field("Research_Notes__c", "textarea", "Research Notes", length=131072,
           extraTypeInfo="plaintextarea"),
    _field("Billing_Email__c", "email", "Billing Email", length=80),
    _field("Support_Phone__c", "phone", "Support Phone", length=40),
    _field("Careers_Url__c", "url", "Careers Page", length=255),
    _field("Tier__c", "picklist", "Tier", length=255, picklistValues=_picklist(TIERS)),
    _field("Verticals__c", "multipicklist", "Verticals", length=4099,
           picklistValues=_picklist(VERTICALS)),
    _field("Is_Strategic__c", "boolean", "Strategic", defaultValue=False),
    _field("Employees_Global__c", "double", "Employees (Global)", precision=18, scale=0),
    _field("Seats__c", "int", "Seats", digits=9),
    _field("Legacy_Erp_Number__c", "long", "Legacy ERP Number", digits=18),
    _field("Churn_Risk__c", "double", "Churn Risk", precision=5, scale=3),
    _field("Revenue_Growth__c", "percent", "Revenue Growth", precision=6, scale=2),
    _field("Contract_Value__c", "currency", "Contract Value", precision=18, scale=2),
    _field("Credit_Score__c", "double", "Credit Score", precision=4, scale=0),
    _field("Renewal_Date__c", "date", "Renewal Date"),
    _field("Last_Review_At__c", "datetime", "Last Review At"),
    _field("Support_Hours_Start__c", "time", "Support Hours Start"),
    *_geolocation("HQ_Location", "HQ Location"),
]  # fmt: skip

# Every describe type a Contact/Account custom field can have; a test holds the schema to it.
ALL_CUSTOM_TYPES = frozenset(
    {
        "string", "textarea", "email", "phone", "url", "picklist", "multipicklist", "boolean",
        "int", "long", "double", "percent", "currency", "date", "datetime", "time", "location",
    }
)  # fmt: skip


def schema_files() -> dict[str, dict[str, Any]]:
    """``schema/<Object>.json`` contents for the objects the generator extends."""
    return {
        "Contact": {"name": "Contact", "custom": False, "fields": CONTACT_FIELDS},
        "Account": {"name": "Account", "custom": False, "fields": ACCOUNT_FIELDS},
    }
