"""The two choices a company makes about its exports (``LAER_STRIPE_ACCOUNT_KEY``,
``LAER_HUBSPOT_CSM_PROPERTY``; read by ``orchestration.settings.LaerSettings``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ExportSettings:
    # the Stripe customer's metadata key naming its CRM account
    stripe_account_key: str = "account_id"
    # the HubSpot company property holding the account's customer-success manager (an owner id);
    # HubSpot has no standard one
    hubspot_csm_property: str = "csm_owner_id"


DEFAULT_EXPORT_SETTINGS = ExportSettings()
