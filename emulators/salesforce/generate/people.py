"""Contacts and leads: the people every other Leadfwd record hangs off.

Clean people carry every standard, Leadfwd and custom field a real org fills, with values a
correct migration writes unchanged. Converted leads are part of clean data (about 4%); each is
listed in ``defects.json`` because the default policy skips them (``CONVERTED_LEAD``).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from emulators.salesforce.generate import values as v
from emulators.salesforce.generate.defects_log import DefectLog
from emulators.salesforce.generate.population import Population
from emulators.salesforce.generate.writer import OrgWriter

ENGAGEMENT_STATUSES = ("Active", "Inactive", "Replied", "Bounced", "Unsubscribed")
ICEBREAKER_OPENERS = (
    "Loved your post about scaling outbound at {company}.",
    "Congrats on the new role at {company}!",
    "Saw {company} is hiring SDRs in {city} - exciting times.",
    "Your talk on pipeline hygiene was spot on.",
)


def sequence_name(n: int) -> str:
    """Name of Leadfwd sequence ``n`` (also written on people as the most recent sequence)."""
    topics = ("Outbound", "Inbound Follow-up", "Event", "Onboarding", "Win-back", "Partner")
    return f"{topics[n % len(topics)]} Cadence {n + 1}"


def person_email(pop: Population, kind: str, n: int) -> str:
    first, last = v.person_name(pop.seed, kind, n)
    domain = v.domain_of(pop.contact_account(n)) if kind == "Contact" else "mail.example"
    return v.person_email(first, last, kind, n, domain)


def leadfwd_fields(pop: Population, rng: random.Random, kind: str, n: int) -> dict[str, Any]:
    """Leadfwd package fields on a person: LinkedIn, icebreaker, sync origin."""
    first, last = v.person_name(pop.seed, kind, n)
    slug = f"{first}-{last}-{n + 1}".lower().replace(" ", "-").replace("'", "")
    city = rng.choice(v.CITIES)[0]
    out: dict[str, Any] = {
        "leadfwd__LinkedIn_Url__c": f"https://www.linkedin.com/in/{slug}",
        "leadfwd__Engagement_Status__c": rng.choice(ENGAGEMENT_STATUSES),
        "leadfwd__External_Id__c": f"lf-{kind[0].lower()}-{pop.seed}-{n + 1}",
        "leadfwd__Created_By_Sync__c": rng.random() < 0.3,
    }
    if rng.random() < 0.5:
        opener = rng.choice(ICEBREAKER_OPENERS)
        out["leadfwd__Icebreaker__c"] = opener.format(company=v.company_name(n), city=city)
        out["leadfwd__Icebreaker_Source_Url__c"] = out["leadfwd__LinkedIn_Url__c"] + "/recent"
    if rng.random() < 0.6:
        out["leadfwd__Most_Recent_Sequence__c"] = sequence_name(n % pop.sequences)
    return out


def contact_custom_fields(rng: random.Random, created: dt.datetime) -> dict[str, Any]:
    """Values for the org's own Contact custom fields (schema.CONTACT_FIELDS)."""
    city = rng.choice(v.CITIES)
    return {
        "Nickname__c": rng.choice(("Sunny", "Doc", "Ace", "Max", "Bee")),
        "Bio__c": "Seasoned buyer; prefers email.",
        "Career_History__c": "Previously at Contoso.\nBefore that at Fabrikam.",
        "Profile_Html__c": "<p>Met at <b>SaaStr</b>.</p>",
        "Secondary_Email__c": f"alt{rng.randrange(10**6)}@personal.example",
        "Assistant_Mobile__c": v.phone(rng),
        "Portfolio_Url__c": f"https://portfolio.example/{rng.randrange(10**6)}",
        "Region__c": rng.choice(("EMEA", "NA", "LATAM", "APAC")),
        "Interests__c": ";".join(sorted(rng.sample(("Analytics", "Automation", "Cloud", "AI"), 2))),
        "Is_VIP__c": rng.random() < 0.1,
        "Years_Experience__c": rng.randrange(0, 40),
        "Legacy_Rank__c": rng.randrange(1, 10_000),
        "Lifetime_Touches__c": rng.randrange(0, 10**10),
        "Propensity__c": round(rng.random() * 100, 4),
        "Engagement_Score__c": round(rng.random() * 100, 2),
        "Salary__c": round(rng.uniform(40_000, 250_000), 2),
        "First_Meeting__c": v.sf_date(v.moment(rng, created, v.BASE_TIME).date()),
        "Last_Call_At__c": v.sf_datetime(v.moment(rng, created, v.BASE_TIME)),
        "Preferred_Call_Time__c": f"{rng.randrange(8, 18):02d}:{rng.choice((0, 30)):02d}:00.000Z",
        "Home_Location__Latitude__s": city[4],
        "Home_Location__Longitude__s": city[5],
    }  # fmt: skip


def contact_record(pop: Population, rng: random.Random, n: int, contact_id: str) -> dict[str, Any]:
    """Clean contact ``n`` (its parents: ``pop.contact_account(n)``, ``pop.owner_of(3, n)``)."""
    first, last = v.person_name(pop.seed, "Contact", n)
    city, state, postal, country, lat, lon = rng.choice(v.CITIES)
    created = v.moment(rng, v.ORG_START, v.BASE_TIME - dt.timedelta(days=7))
    owner = pop.owner_of(3, n)
    record: dict[str, Any] = {
        "Id": contact_id,
        "Salutation": rng.choice(("Mr.", "Ms.", "Mx.", "Dr.")),
        "FirstName": first,
        "LastName": last,
        "Email": person_email(pop, "Contact", n),
        "Title": rng.choice(v.TITLES),
        "Department": rng.choice(v.DEPARTMENTS),
        "Phone": v.phone(rng),
        "AccountId": pop.account_id(pop.contact_account(n)),
        "OwnerId": owner,
        "MailingStreet": f"{rng.randrange(1, 999)} {rng.choice(v.STREETS)}",
        "MailingCity": city,
        "MailingState": state,
        "MailingPostalCode": postal,
        "MailingCountry": country,
        "MailingLatitude": lat,
        "MailingLongitude": lon,
        "LeadSource": rng.choice(v.LEAD_SOURCES),
        "HasOptedOutOfEmail": rng.random() < 0.05,
        "DoNotCall": rng.random() < 0.03,
    }
    if rng.random() < 0.7:
        record["MobilePhone"] = v.phone(rng)
    if rng.random() < 0.4:
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(18_000))
        record["Birthdate"] = v.sf_date(birth)
    if rng.random() < 0.3:
        record["Description"] = "Prefers calls in the morning.\nDecision maker for tooling."
    record.update(leadfwd_fields(pop, rng, "Contact", n))
    record.update(contact_custom_fields(rng, created))
    record.update(v.system_fields(rng, created, owner))
    return record


def write_contacts(pop: Population, w: OrgWriter) -> None:
    rng = random.Random(f"{pop.seed}:contacts")
    for n in range(pop.contacts):
        w.record("Contact", contact_record(pop, rng, n, pop.contact_id(n)))


def lead_record(pop: Population, rng: random.Random, n: int, lead_id: str) -> dict[str, Any]:
    """Clean lead ``n``: open, working or not converted (conversion is added by the caller)."""
    first, last = v.person_name(pop.seed, "Lead", n)
    city, state, postal, country, lat, lon = rng.choice(v.CITIES)
    created = v.moment(rng, v.ORG_START, v.BASE_TIME - dt.timedelta(days=3))
    owner = pop.owner_of(4, n)
    record: dict[str, Any] = {
        "Id": lead_id,
        "FirstName": first,
        "LastName": last,
        "Company": v.company_name(10_000 + n),
        "Title": rng.choice(v.TITLES),
        "Email": person_email(pop, "Lead", n),
        "Phone": v.phone(rng),
        "Status": rng.choice(v.LEAD_STATUSES),
        "LeadSource": rng.choice(v.LEAD_SOURCES),
        "Rating": rng.choice(v.RATINGS),
        "Industry": rng.choice(v.INDUSTRIES),
        "NumberOfEmployees": rng.randrange(1, 5000),
        "OwnerId": owner,
        "Street": f"{rng.randrange(1, 999)} {rng.choice(v.STREETS)}",
        "City": city,
        "State": state,
        "PostalCode": postal,
        "Country": country,
        "Latitude": lat,
        "Longitude": lon,
        "IsConverted": False,
        "HasOptedOutOfEmail": rng.random() < 0.05,
        "leadfwd__Lead_Score__c": rng.randrange(0, 100),
    }
    record.update(leadfwd_fields(pop, rng, "Lead", n))
    record.update(v.system_fields(rng, created, owner))
    return record


def write_leads(pop: Population, w: OrgWriter, log: DefectLog) -> None:
    rng = random.Random(f"{pop.seed}:leads")
    for n in range(pop.leads):
        record = lead_record(pop, rng, n, pop.lead_id(n))
        if pop.lead_converted(n):
            contact = (n * 7) % pop.contacts
            record.update(
                IsConverted=True,
                Status=v.CONVERTED_STATUS,
                ConvertedContactId=pop.contact_id(contact),
                ConvertedAccountId=pop.account_id(pop.contact_account(contact)),
                ConvertedDate=record["LastModifiedDate"][:10],
            )
            log.add("Lead", record["Id"], "converted_lead", "IsConverted", True)
        w.record("Lead", record)
