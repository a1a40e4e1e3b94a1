"""People and companies: Customer (a contact or lead), Account (a company) and Owner (staff)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator

from service.domain.base import AwareDatetime, NonEmptyStr, Sourced
from service.domain.limits import Amount
from service.domain.locales import language_of_locale


class ContactRole(StrEnum):
    """A contact's role at its account; the account roll-up weighs contacts by it."""

    DECISION_MAKER = "decision_maker"
    CHAMPION = "champion"
    INFLUENCER = "influencer"
    USER = "user"
    BILLING = "billing"
    OTHER = "other"


class ContractKind(StrEnum):
    """How the customer buys: repeat purchases (non-contractual) or a subscription."""

    NON_CONTRACTUAL = "non_contractual"
    SUBSCRIPTION = "subscription"


class Owner(Sourced):
    """A member of staff who owns customers and receives tasks."""

    name: str = ""
    email: str | None = None
    # Staff language (BCP 47 primary tag, e.g. "vi"; a CRM locale such as "zh_CN" is reduced to
    # it on the way in): tasks for this owner are written in it.
    # None = the CRM does not say (HubSpot owners carry no locale); see RecordStore.owners.
    language: str | None = Field(default=None, min_length=2, max_length=16)
    active: bool = True

    @field_validator("language", mode="before")
    @classmethod
    def _primary_language(cls, value: object) -> object:
        # CRMs give a locale ("zh_CN", "zh-Hant-TW", "en_US"); tasks are written per language,
        # so the owner's language is its primary subtag ("zh"), whatever form the CRM used.
        return language_of_locale(value) if isinstance(value, str) else value


class Account(Sourced):
    """A company that customers belong to."""

    name: str = ""
    domain: str | None = None
    owner_id: str | None = None
    annual_revenue: Amount | None = None
    segment: str | None = None


class Customer(Sourced):
    """A person the business serves (a CRM contact or lead)."""

    display_name: str = ""
    email: str | None = None
    # Mapped where the CRM has it (`phone: {crm: phone}`); erasure finds the person's other
    # records by it (service/store/identity.py).
    phone: str | None = Field(default=None, max_length=64)
    account_id: str | None = None
    owner_id: str | None = None
    language: str | None = Field(default=None, max_length=16)
    role: ContactRole = ContactRole.OTHER
    contract: ContractKind = ContractKind.NON_CONTRACTUAL
    # Set for subscription customers: when the subscription started and (if so) ended.
    subscribed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    # The CRM's own churn label, when it keeps one (a field, a closed-lost renewal, a rule).
    churned: bool | None = None
    # The date that label counts from (the cancellation or status date): the labelled model's
    # out-of-time split orders customers by it.
    churn_label_at: AwareDatetime | None = None
    # Further CRM fields the mapping names (`attributes.<name>`: plan, contract type, usage):
    # features for the churn model trained on this CRM's outcomes. Numbers stay numbers.
    attributes: dict[str, bool | int | float | str] = Field(default_factory=dict)
    # The person's id in other systems, {system: id}, where the system is a connector kind or
    # a connection name: a CRM contact's Zalo user id under `zalo`, a survey respondent's CRM
    # contact id under `hubspot`. A reference names the record it points at, so the two are
    # one person (docs/identity.md, rule `ref`); mapped as `refs.<system>`.
    refs: dict[str, NonEmptyStr] = Field(default_factory=dict)
    created_at: AwareDatetime | None = None
    segment: str | None = None
    lifetime_value: Amount | None = None
    tags: tuple[NonEmptyStr, ...] = ()
