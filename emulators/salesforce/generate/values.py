"""Value pools and formatting shared by every section of the generator.

The pools hold only values that a correct migration writes unchanged: names shorter than the
Dataverse columns, Salesforce's standard picklist values, valid emails and dates in range.
Anything awkward is planted on purpose by ``defects.py`` and listed in ``defects.json``.
Time comes from a fixed base date, never the clock, so output is the same on every run.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

BASE_TIME = dt.datetime(2026, 1, 1, 9, 0, 0, tzinfo=dt.UTC)
ORG_START = BASE_TIME - dt.timedelta(days=3 * 365)

FIRST_NAMES = (
    "Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiroshi", "Ines", "Jamal",
    "Karin", "Liam", "Maya", "Noah", "Olga", "Priya", "Quinn", "Rafael", "Sofia", "Tomas",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aisha", "Bruno", "Carmen", "Dmitri",
    "Emma", "Felix", "Giulia", "Hannah", "Ivan", "Julia", "Kofi", "Lucia", "Marco", "Nadia",
)  # fmt: skip
LAST_NAMES = (
    "Ortiz", "Schmidt", "Nakamura", "Okafor", "Dubois", "Kowalski", "Rossi", "Jensen",
    "Haddad", "Silva", "Novak", "Andersen", "Fischer", "Garcia", "Ivanova", "Kim", "Larsen",
    "Moreau", "Nguyen", "O'Brien", "Petrov", "Quintero", "Reyes", "Sato", "Tanaka", "Weber",
    "Yilmaz", "Zhang", "Abbott", "Becker", "Castillo", "Dlamini", "Eriksson", "Fontaine",
    "Gupta", "Hoffmann", "Ibrahim", "Jovanovic", "Khan", "Lindqvist", "Mendes", "Van der Berg",
)  # fmt: skip
COMPANY_WORDS = (
    "Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware",
    "Wingtip", "Alpine", "Blue Yonder", "Coho", "Fourth Coffee", "Lamna", "Margie's",
    "Relecloud", "Trey", "Woodgrove", "Humongous", "Lucerne", "Wide World",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "GmbH", "Ltd", "SAS", "Group", "Labs", "Systems", "Partners")
CITIES = (
    ("Seattle", "WA", "98101", "United States", 47.6062, -122.3321),
    ("Austin", "TX", "73301", "United States", 30.2672, -97.7431),
    ("Boston", "MA", "02108", "United States", 42.3601, -71.0589),
    ("Berlin", "BE", "10115", "Germany", 52.52, 13.405),
    ("Lyon", "ARA", "69001", "France", 45.764, 4.8357),
    ("Madrid", "MD", "28001", "Spain", 40.4168, -3.7038),
    ("Toronto", "ON", "M5H 2N2", "Canada", 43.6532, -79.3832),
    ("Sydney", "NSW", "2000", "Australia", -33.8688, 151.2093),
    ("Dublin", "D", "D02", "Ireland", 53.3498, -6.2603),
    ("Osaka", "27", "530-0001", "Japan", 34.6937, 135.5023),
)
STREETS = ("Main St", "Market St", "High St", "Elm Ave", "Harbour Rd", "Station Way")
TITLES = (
    "VP of Sales", "Sales Director", "Account Executive", "SDR", "Head of Marketing",
    "CTO", "Procurement Manager", "Operations Lead", "CFO", "IT Manager",
)  # fmt: skip
DEPARTMENTS = ("Sales", "Marketing", "Finance", "IT", "Operations", "Procurement")
# Salesforce's standard Account.Industry values (Object Reference, Account).
INDUSTRIES = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government",
    "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media",
    "Not For Profit", "Other", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities",
)  # fmt: skip
ACCOUNT_TYPES = (
    "Prospect", "Customer - Direct", "Customer - Channel", "Channel Partner / Reseller",
    "Technology Partner", "Other",
)  # fmt: skip
RATINGS = ("Hot", "Warm", "Cold")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
CONVERTED_STATUS = "Closed - Converted"
STAGES = (
    "Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
    "Proposal/Price Quote", "Negotiation/Review", "Closed Won", "Closed Lost",
)  # fmt: skip
EMAIL_DOMAIN = "acme-outbound.example"


def sf_datetime(value: dt.datetime) -> str:
    """Salesforce's REST datetime form: ``2024-05-01T12:00:00.000+0000`` (UTC)."""
    if value.tzinfo is not dt.UTC:
        value = value.astimezone(dt.UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T"
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.000+0000"
    )


def sf_date(value: dt.date) -> str:
    return value.isoformat()


def moment(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A whole-second instant in ``[start, end)``."""
    span = int((end - start).total_seconds())
    return start + dt.timedelta(seconds=rng.randrange(max(span, 1)))


def system_fields(
    rng: random.Random, created: dt.datetime, by: str, *, deleted: bool = False
) -> dict[str, Any]:
    """Audit fields of a record created at ``created`` and maybe edited since."""
    modified = moment(rng, created, BASE_TIME) if rng.random() < 0.6 else created
    return {
        "CreatedDate": sf_datetime(created),
        "CreatedById": by,
        "LastModifiedDate": sf_datetime(modified),
        "LastModifiedById": by,
        "SystemModstamp": sf_datetime(modified),
        "IsDeleted": deleted,
    }


def phone(rng: random.Random) -> str:
    return f"+1 {rng.randrange(200, 999)} {rng.randrange(200, 999)} {rng.randrange(1000, 9999)}"


def company_name(n: int) -> str:
    """A unique company name for account ``n`` (at most ~40 characters)."""
    word = COMPANY_WORDS[n % len(COMPANY_WORDS)]
    suffix = COMPANY_SUFFIXES[(n // len(COMPANY_WORDS)) % len(COMPANY_SUFFIXES)]
    return f"{word} {suffix} {n + 1}"


def domain_of(n: int) -> str:
    word = COMPANY_WORDS[n % len(COMPANY_WORDS)].lower()
    return "".join(ch for ch in word if ch.isalnum()) + f"{n + 1}.example"


def person_name(seed: int, kind: str, n: int) -> tuple[str, str]:
    """First and last name of person ``n`` of ``kind``: a pure function, never from a table."""
    salt = 7 if kind == "Contact" else 13
    first = FIRST_NAMES[(n * 31 + seed * salt) % len(FIRST_NAMES)]
    last = LAST_NAMES[(n * 17 + seed + salt + n // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return first, last


def person_email(first: str, last: str, kind: str, n: int, domain: str) -> str:
    """Unique per (kind, n): contacts and leads never share an address unless planted."""
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    tag = "c" if kind == "Contact" else "l"
    return f"{local}.{tag}{n + 1}@{domain}"
