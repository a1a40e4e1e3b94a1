"""Matching rules of the identity graph: when two CRM records are the same person (pure).

A record is described for matching by its `IdentityKeys`: its normalised e-mail and phone, each
only when it is *verified* by these rules (well-formed, not a role address, not marked bounced,
a valid number for its region). The store (service/store/identity_graph.py) compares the keys
of a newly pulled record with those of every stored customer record and, when the evidence
reaches `AUTO_LINK_THRESHOLD`, links the record to that person instead of creating another.

Why these choices (docs/identity.md has the whole account):
- E-mail: trimmed and lower-cased (the local part is case-sensitive by RFC 5321 in theory, never
  in practice). Gmail is the one provider whose rules we apply, because Google documents them:
  dots in the local part are ignored and a `+tag` is dropped (`A.Lee+shop@googlemail.com` is
  `alee@gmail.com`). Other providers treat dots and `+` differently (some allow `+` as a plain
  character), so their addresses are compared as written.
- Role addresses (`ROLE_LOCAL_PARTS`: info@, sales@, support@ ...) name a function, not a person:
  a shop's info@ is read by whoever is on duty, so two records with it are not one person.
- Phone: E.164 through `phonenumbers`. A national number (`090 123 4567`) is read in the region
  its record gives (a locale such as `vi_VN`, else the one country most of its language's
  speakers live in, `LANGUAGE_REGIONS`); without a region only international numbers count.
  Invalid numbers never match.
- Confidence: a verified e-mail is personal and checked by whoever sends to it, so an e-mail
  match is strong (0.95; 0.99 when the phone agrees too). A phone alone is weaker (0.70): a
  household or an office shares a landline, and operators reassign numbers, so a phone-only
  match is below the threshold and never links on its own; it only raises an e-mail match.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers

from service.domain.locales import language_of_locale
from service.domain.parties import Customer


class Rule(StrEnum):
    """Why a record joined a person."""

    # A record names the other's id (a CRM contact's Zalo user id, a survey's CRM contact id).
    REF = "ref"
    EMAIL_AND_PHONE = "email+phone"
    EMAIL = "email"
    PHONE = "phone"
    MANUAL = "manual"  # a person decided, through the API


class DecidedBy(StrEnum):
    """Who decided a link (a manual decision is recorded as `key:<API key id>`)."""

    AUTO = "auto"
    MIGRATION = "migration"


CONFIDENCE: dict[Rule, float] = {
    # Below a person's own decision: a CRM field can hold a mistyped id.
    Rule.REF: 0.98,
    Rule.EMAIL_AND_PHONE: 0.99,
    Rule.EMAIL: 0.95,
    Rule.PHONE: 0.70,
    Rule.MANUAL: 1.0,
}
# Records are linked automatically at or above this; a phone-only match (0.70) is not.
AUTO_LINK_THRESHOLD = 0.9

# Local parts that name a function or a mailbox many people read, not a person.
ROLE_LOCAL_PARTS = frozenset(
    {
        "accounts", "admin", "administrator", "billing", "careers", "contact", "contactus",
        "enquiries", "enquiry", "finance", "hello", "help", "helpdesk", "hi", "hr", "info",
        "inquiries", "jobs", "mail", "marketing", "no-reply", "noreply", "do-not-reply",
        "donotreply", "office", "orders", "postmaster", "press", "reception", "sales",
        "service", "shop", "support", "team", "webmaster",
    }
)  # fmt: skip
# Providers whose documented rules say dots are ignored and `+tag` is dropped.
_GMAIL = frozenset({"gmail.com", "googlemail.com"})
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# The country most speakers of a language live in, for national numbers on records that give a
# language but no region. Only languages with one dominant country: English, Spanish or
# Portuguese numbers must be written internationally (or with a locale such as en_GB) to match.
LANGUAGE_REGIONS = {
    "vi": "VN", "et": "EE", "zh": "CN", "ja": "JP", "ko": "KR", "th": "TH", "pl": "PL",
    "cs": "CZ", "fi": "FI", "lv": "LV", "lt": "LT", "hu": "HU", "uk": "UA", "it": "IT",
}  # fmt: skip
_REGION = re.compile(r"^[A-Za-z]{2,3}[-_](?:[A-Za-z]{4}[-_])?([A-Za-z]{2})(?:[.@].*)?$")


def email_key(raw: str | None) -> str | None:
    """The e-mail as matched, or None when it may not link anyone (malformed or a role)."""
    if not raw:
        return None
    value = raw.strip().lower()
    if not _EMAIL.match(value):
        return None
    local, domain = value.rsplit("@", 1)
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    if not local or is_role_local_part(local):
        return None
    return f"{local}@{domain}"


def is_role_local_part(local: str) -> bool:
    """True for info, sales, no-reply ... (also `info.de`, `support-team`: a role and a tag)."""
    head = re.split(r"[.+_-]", local, maxsplit=1)[0]
    return local in ROLE_LOCAL_PARTS or head in ROLE_LOCAL_PARTS


def region_of(locale: str | None) -> str | None:
    """The region a record's locale names (`vi_VN`, `en-GB`, `zh-Hant-TW`), else the dominant
    country of its language (`LANGUAGE_REGIONS`), else None."""
    if not locale:
        return None
    found = _REGION.match(locale.strip())
    if found:
        return found.group(1).upper()
    language = language_of_locale(locale)
    return LANGUAGE_REGIONS.get(language or "")


def phone_key(raw: str | None, region: str | None = None) -> str | None:
    """The number in E.164 (`+84901234567`), or None when it is not a valid number (a national
    number without a region included)."""
    if not raw or not raw.strip():
        return None
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A mapping may name a CRM's bounce flag as this attribute (`attributes.email_bounced`, e.g.
# Salesforce `IsEmailBounced`): a bounced address is not verified, so it links no one.
BOUNCED_ATTRIBUTES = ("email_bounced", "email_invalid")


@dataclass(frozen=True, slots=True)
class IdentityKeys:
    """What a record is matched by: its verified, normalised e-mail and phone, and the ids it
    names in other systems (`ref_key`s)."""

    email: str | None = None
    phone: str | None = None
    refs: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.email or self.phone or self.refs)


def ref_key(system: str, record_id: str) -> str:
    """One reference as matched: `<system>:<id>`, the system (a connector kind or a connection
    name) lower-cased, the id as written (ids are case-sensitive in some systems)."""
    return f"{system.strip().lower()}:{record_id.strip()}"


def own_ref_keys(connection: str, kind: str | None, crm_id: str) -> frozenset[str]:
    """The keys other records name this record by: its connection's name, and its kind."""
    keys = {ref_key(connection, crm_id)}
    if kind:
        keys.add(ref_key(kind, crm_id))
    return frozenset(keys)


def identity_keys(customer: Customer) -> IdentityKeys:
    """The keys of a pulled customer record."""
    found = keys_of(customer.email, customer.phone, customer.language, customer.attributes)
    refs = frozenset(ref_key(s, i) for s, i in customer.refs.items() if s.strip() and i.strip())
    return IdentityKeys(found.email, found.phone, refs)


def keys_of(
    email: str | None,
    phone: str | None,
    language: str | None,
    attributes: Mapping[str, object] | None = None,
) -> IdentityKeys:
    """The keys of a customer record from its fields (a stored payload's, for the migration)."""
    bounced = any((attributes or {}).get(name) is True for name in BOUNCED_ATTRIBUTES)
    return IdentityKeys(
        None if bounced else email_key(email), phone_key(phone, region_of(language))
    )


def value_hash(rule: Rule | str, value: str) -> str:
    """What the decision log keeps of the matched value: a hash, not the address or number
    (the log says *why* two records are one without being another copy of the contact data)."""
    return hashlib.sha256(f"cem-identity\x1f{rule}\x1f{value}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Evidence:
    """A candidate person for a record, and how strongly the record's keys point at them."""

    rule: Rule
    value: str  # the normalised value that matched (the e-mail for email+phone)

    @property
    def confidence(self) -> float:
        return CONFIDENCE[self.rule]

    @property
    def links(self) -> bool:
        return self.confidence >= AUTO_LINK_THRESHOLD


def judge(
    keys: IdentityKeys,
    by_email: set[str],
    by_phone: set[str],
    by_ref: Mapping[str, str] | None = None,
) -> tuple[str, Evidence] | None:
    """The person a record joins, given the persons whose unambiguous records share its e-mail
    (`by_email`) and phone (`by_phone`), and those a reference ties it to (`by_ref`: person ->
    the ref key, either way: it names their record, or their record names it); None when no
    one reaches the threshold or the evidence points at more than one person (ambiguous: left
    for a person to decide).

    A reference decides first: a system saying "this is that record" is stronger than a shared
    address, and when the two disagree no one is joined. Then the e-mail decides; the phone only
    raises its confidence (a phone alone is below the threshold, so a number shared with someone
    else never outweighs a personal address)."""
    if by_ref:
        if len(by_ref) != 1 or (keys.email and by_email and set(by_ref) != by_email):
            return None
        ((person, key),) = by_ref.items()
        return person, Evidence(Rule.REF, key)
    if not keys.email or len(by_email) != 1:
        return None
    (person,) = by_email
    rule = Rule.EMAIL_AND_PHONE if keys.phone and person in by_phone else Rule.EMAIL
    evidence = Evidence(rule, keys.email)
    return (person, evidence) if evidence.links else None
