"""HubSpot CRM API v3 objects into the contract's CRM tables (landing.md v2).

``hubspot/companies/`` → ``crm.accounts``, ``contacts`` → ``crm.contacts``, ``deals`` →
``crm.opportunities``, ``owners`` → ``crm.users``. Every object is a version at its
``updatedAt``; ``archived = true`` is a tombstone. HubSpot's words become the contract's:
deal types ``newbusiness`` / ``existingbusiness`` are ``new_business`` / ``expansion``, stages
``closedwon`` / ``closedlost`` are ``closed_won`` / ``closed_lost``, a deal's amount in major
units becomes minor units, an owner's team named ``sales``, ``csm`` or ``leadership`` is its
role. HubSpot has no standard customer-success owner: the company property named by
``LAER_HUBSPOT_CSM_PROPERTY`` (default ``csm_owner_id``, :class:`ExportSettings`) is the
account's CSM.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from laer.contract import USER_ROLES
from laer.ingest.exports.objects import Obj, Rows, Skipped, read_objects
from laer.ingest.files import LandingFile

DEAL_TYPES = {"newbusiness": "new_business", "existingbusiness": "expansion"}
DEAL_STAGES = {"closedwon": "closed_won", "closedlost": "closed_lost"}
ZERO_DECIMAL_CURRENCIES = ("jpy", "krw", "vnd", "clp", "isk", "huf", "twd", "ugx")
COUNTRIES = {"united states": "US", "usa": "US", "united kingdom": "GB", "uk": "GB", "germany": "DE",
             "france": "FR", "canada": "CA", "australia": "AU", "netherlands": "NL", "spain": "ES", "italy": "IT",
             "sweden": "SE", "norway": "NO", "denmark": "DK", "switzerland": "CH", "japan": "JP", "india": "IN",
             "brazil": "BR", "ireland": "IE", "austria": "AT", "belgium": "BE", "finland": "FI", "poland": "PL",
             "portugal": "PT", "singapore": "SG", "new zealand": "NZ", "mexico": "MX", "israel": "IL"}


def _country(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    return value.upper() if len(value) == 2 else COUNTRIES.get(value.strip().lower(), value)


def _minor_units(amount: Decimal | None, currency: str | None) -> int | None:
    if amount is None:
        return None
    digits = 0 if (currency or "").lower() in ZERO_DECIMAL_CURRENCIES else 2
    return int((amount * 10**digits).to_integral_value())


def _company_of(o: Obj, props: Obj) -> str | None:
    """The associated company: the first in ``associations.companies``, else the property
    ``associatedcompanyid`` that contact exports carry."""
    assoc = o.child("associations")
    companies = assoc.child("companies") if assoc else None
    for c in companies.children("results") if companies else []:
        found = c.text("id") or c.text("toObjectId")
        if found:
            return found
    return props.text("associatedcompanyid")


class HubSpotFile:
    def __init__(self, f: LandingFile, csm_property: str = "csm_owner_id"):
        self.f = f
        self.rows = Rows()
        self.skipped = Skipped()
        self.csm_property = csm_property

    def run(self) -> Rows:
        mapper = getattr(self, f"_{self.f.entity.name}")
        for o in read_objects(self.f):
            self.rows.objects += 1
            oid = o.text("id", required=True)
            props = o.child("properties") or Obj({}, o.line, o.at("properties"))
            created = o.iso("createdAt") or props.iso("createdate")
            updated = o.iso("updatedAt") or props.iso("hs_lastmodifieddate") or created
            if created is None or updated is None:
                raise o.bad("updatedAt", "missing (and no createdAt)")
            base = {"created_at": created, "updated_at": updated, "is_deleted": bool(o.flag("archived"))}
            mapper(o, props, oid, base)
        self.rows.warnings += self.skipped.warnings()
        return self.rows

    def _companies(self, o: Obj, props: Obj, oid: str, base: dict[str, Any]) -> None:
        name = props.text("name") or props.text("domain")
        if name is None:
            self.skipped.note("companies without a name or domain", o.line, props.at("name"))
            return
        employees = props.decimal("numberofemployees")
        self.rows.add("crm__accounts", o.line, {
            "account_id": oid, "name": name, "domain": props.text("domain"), "industry": props.text("industry"),
            "employee_count": int(employees) if employees is not None else None,
            "country": _country(props.text("country")), "owner_id": props.text("hubspot_owner_id"),
            "csm_id": props.text(self.csm_property), **base})

    def _contacts(self, o: Obj, props: Obj, oid: str, base: dict[str, Any]) -> None:
        account = _company_of(o, props)
        if account is None:
            self.skipped.note("contacts without a company", o.line, props.at("associatedcompanyid"))
            return
        self.rows.add("crm__contacts", o.line, {
            "contact_id": oid, "account_id": account, "email": props.text("email"),
            "first_name": props.text("firstname"), "last_name": props.text("lastname"),
            "title": props.text("jobtitle"), **base})

    def _deals(self, o: Obj, props: Obj, oid: str, base: dict[str, Any]) -> None:
        account = _company_of(o, props)
        if account is None:
            self.skipped.note("deals without a company", o.line, o.at("associations"))
            return
        kind = props.text("dealtype") or "new_business"
        stage = props.text("dealstage")
        if stage is None:
            raise props.bad("dealstage", "missing")
        currency = props.text("deal_currency_code")
        close = props.iso("closedate")
        self.rows.add("crm__opportunities", o.line, {
            "opportunity_id": oid, "account_id": account, "type": DEAL_TYPES.get(kind, kind),
            "stage": DEAL_STAGES.get(stage, stage), "amount": _minor_units(props.decimal("amount"), currency),
            "currency": currency.lower() if currency else None,
            "close_date": close.date() if isinstance(close, dt.datetime) else None,
            "owner_id": props.text("hubspot_owner_id"), **base})

    def _owners(self, o: Obj, props: Obj, oid: str, base: dict[str, Any]) -> None:
        email = o.text("email")
        if email is None:
            self.skipped.note("owners without an e-mail address", o.line, o.at("email"))
            return
        teams = [t.text("name") or "" for t in o.children("teams")]
        role = next((t.lower() for t in teams if t.lower() in USER_ROLES), None)
        name = " ".join(p for p in (o.text("firstName"), o.text("lastName")) if p) or None
        self.rows.add("crm__users", o.line, {
            "user_id": oid, "email": email, "name": name, "role": role,
            "updated_at": base["updated_at"], "is_deleted": base["is_deleted"]})


def adapt(f: LandingFile, csm_property: str = "csm_owner_id") -> Rows:
    return HubSpotFile(f, csm_property).run()
