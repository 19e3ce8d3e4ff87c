"""Users, accounts (with parent hierarchies) and opportunities of a generated org.

Users are few and the migration resolves owners by their email, so the user list also decides
``dataverse-users.json``: which Salesforce owners have a Dynamics user, and which are disabled.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from emulators.salesforce.generate import values as v
from emulators.salesforce.generate.population import Population
from emulators.salesforce.generate.writer import OrgWriter


def user_name(pop: Population, n: int) -> tuple[str, str]:
    return v.person_name(pop.seed, "User", n)


def user_email(pop: Population, n: int) -> str:
    """Owners are matched to Dynamics users by this address."""
    if n == pop.integration_user_index:
        return f"integration@{v.EMAIL_DOMAIN}"
    first, last = user_name(pop, n)
    local = f"{first}.{last}".lower().replace(" ", "").replace("'", "")
    return f"{local}{n + 1}@{v.EMAIL_DOMAIN}"


def write_users(pop: Population, w: OrgWriter) -> list[dict[str, Any]]:
    """Write every User; return the Dynamics users that exist for them (dataverse-users.json).

    Active sales users all have an enabled Dynamics user; inactive users have a disabled one;
    the planted unmapped user has none; the integration user is an API identity only.
    """
    rng = random.Random(f"{pop.seed}:users")
    dynamics: list[dict[str, Any]] = []
    admin = pop.user_id(0)
    for n in range(pop.users):
        first, last = user_name(pop, n)
        active = not (pop.active_users <= n < pop.integration_user_index)
        if n == pop.integration_user_index:
            first, last = "Integration", "User"
        email = user_email(pop, n)
        created = v.moment(rng, v.ORG_START - dt.timedelta(days=400), v.ORG_START)
        record: dict[str, Any] = {
            "Id": pop.user_id(n),
            "Username": email,
            "FirstName": first,
            "LastName": last,
            "Email": email,
            "Alias": (first[:1] + last[:4]).lower(),
            "IsActive": active,
            "Title": "Integration" if n == pop.integration_user_index else rng.choice(v.TITLES),
            "Department": "Sales",
            "UserType": "Standard",
            "TimeZoneSidKey": "America/Los_Angeles",
            "LocaleSidKey": "en_US",
            "LanguageLocaleKey": "en_US",
            "EmailEncodingKey": "UTF-8",
        }
        if n and n < pop.active_users:
            record["ManagerId"] = admin
        record.update(v.system_fields(rng, created, admin))
        w.record("User", record)
        if n in (pop.integration_user_index, pop.unmapped_user_index):
            continue
        dynamics.append(
            {"internalemailaddress": email, "fullname": f"{first} {last}", "isdisabled": not active}
        )
    return dynamics


def account_record(pop: Population, rng: random.Random, n: int, account_id: str) -> dict[str, Any]:
    """One clean account (no parent): every value fits its Dataverse column."""
    city, state, postal, country, lat, lon = rng.choice(v.CITIES)
    created = v.moment(rng, v.ORG_START, v.BASE_TIME - dt.timedelta(days=30))
    owner = pop.owner_of(1, n)
    record: dict[str, Any] = {
        "Id": account_id,
        "Name": v.company_name(n),
        "Type": rng.choice(v.ACCOUNT_TYPES),
        "Industry": rng.choice(v.INDUSTRIES),
        "Rating": rng.choice(v.RATINGS),
        "Website": f"https://www.{v.domain_of(n)}",
        "Phone": v.phone(rng),
        "BillingStreet": f"{rng.randrange(1, 999)} {rng.choice(v.STREETS)}",
        "BillingCity": city,
        "BillingState": state,
        "BillingPostalCode": postal,
        "BillingCountry": country,
        "NumberOfEmployees": rng.randrange(5, 50_000),
        "AnnualRevenue": float(rng.randrange(100, 900_000) * 1000),
        "Description": f"{v.company_name(n)} sells to {rng.choice(v.INDUSTRIES).lower()} teams.",
        "OwnerId": owner,
        "Short_Code__c": f"AC-{n + 1:06d}",
        "Summary__c": "Key account." if rng.random() < 0.3 else "Prospect account.",
        "Billing_Email__c": f"billing@{v.domain_of(n)}",
        "Support_Phone__c": v.phone(rng),
        "Careers_Url__c": f"https://www.{v.domain_of(n)}/careers",
        "Tier__c": rng.choice(("Gold", "Silver", "Bronze")),
        "Verticals__c": ";".join(sorted(rng.sample(("SMB", "Mid-Market", "Enterprise"), 2))),
        "Is_Strategic__c": rng.random() < 0.2,
        "Employees_Global__c": rng.randrange(10, 200_000),
        "Seats__c": rng.randrange(1, 5000),
        "Legacy_Erp_Number__c": 9_000_000_000 + n,
        "Churn_Risk__c": round(rng.random(), 3),
        "Revenue_Growth__c": round(rng.uniform(-20, 80), 2),
        "Contract_Value__c": round(rng.uniform(1000, 2_000_000), 2),
        "Credit_Score__c": rng.randrange(300, 850),
        "Renewal_Date__c": v.sf_date((v.BASE_TIME + dt.timedelta(days=rng.randrange(400))).date()),
        "Last_Review_At__c": v.sf_datetime(v.moment(rng, created, v.BASE_TIME)),
        "Support_Hours_Start__c": f"{rng.randrange(6, 10):02d}:30:00.000Z",
        "HQ_Location__Latitude__s": lat,
        "HQ_Location__Longitude__s": lon,
    }
    if rng.random() < 0.1:
        record["Research_Notes__c"] = "Research: " + "market notes. " * rng.randrange(50, 400)
    record.update(v.system_fields(rng, created, owner))
    return record


def write_accounts(pop: Population, w: OrgWriter) -> None:
    rng = random.Random(f"{pop.seed}:accounts")
    for n in range(pop.accounts):
        record = account_record(pop, rng, n, pop.account_id(n))
        parent = pop.account_parent(n)
        if parent is not None:
            record["ParentId"] = pop.account_id(parent)
        w.record("Account", record)


def write_opportunities(pop: Population, w: OrgWriter) -> None:
    """Deals: in the source org, out of the migration's scope (activities may regard them)."""
    rng = random.Random(f"{pop.seed}:opportunities")
    for n in range(pop.opportunities):
        account = n % pop.accounts
        kind = rng.choice(("Renewal", "Expansion", "New"))
        created = v.moment(rng, v.ORG_START, v.BASE_TIME)
        owner = pop.owner_of(2, n)
        record: dict[str, Any] = {
            "Id": pop.opportunity_id(n),
            "Name": f"{v.company_name(account)} - {kind}",
            "AccountId": pop.account_id(account),
            "Amount": float(rng.randrange(5, 500) * 1000),
            "CloseDate": v.sf_date((created + dt.timedelta(days=rng.randrange(30, 200))).date()),
            "StageName": rng.choice(v.STAGES),
            "Type": "New Customer",
            "LeadSource": rng.choice(v.LEAD_SOURCES),
            "OwnerId": owner,
        }
        record.update(v.system_fields(rng, created, owner))
        w.record("Opportunity", record)
