"""Stream a deterministic synthetic CRM dataset: owners, companies, persons and their histories.

``generate(seed, customers)`` yields exactly ``customers`` persons (the customers), grouped into
companies of one to five contacts, each followed by its two-year history. ``truths`` yields the
hidden ground truth per person, computed from the same seeds without generating any text.

Determinism and streaming: every unit has its own random generator (``seeding.rng_for``):
a block of eight person slots decides how its slots group into companies, a company its market,
name and mood, a person everything else. Nothing depends on what was generated before, so
memory stays flat at any size, any slice can be generated alone, and the same seed always gives
the same records. Time is anchored at ``DEFAULT_START``, never the wall clock, unless ``start``
is given.

One population in two CRMs (the demo): the same seed gives the same persons, so two emulators
loaded with overlapping ranges of persons (``first``) share the persons of the overlap. Real CRMs
do not hold the same history of a person, nor write their details alike: ``variant`` draws each
person's history anew (their hidden profile stays: it is the same person) and writes their
e-mail and phone the way another CRM keeps them (other capitals, the number in national form
where the person's language is their country's, else with dashes). ``shared_contacts`` gives a
few persons a mailbox of their company (info@, sales@ ...) instead of their own address, and a
few their company's switchboard number, as real contact lists have: the same person in two
CRMs is then not recognisable as such, which is the point (the identity graph must not link on
them).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import phonenumbers

from sandbox.data.crossref import zalo_user_id
from sandbox.data.experience import Profile, company_mood, draw_profile
from sandbox.data.history import person_history
from sandbox.data.markets import (
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    MARKET_WEIGHTS,
    MARKETS,
    Country,
    Market,
    fill_digits,
)
from sandbox.data.model import Company, Owner, Person, Record, Truth
from sandbox.data.people import draw_company, draw_name, signature
from sandbox.data.resources import name_bank
from sandbox.data.seeding import Choice, rng_for
from sandbox.data.text import Composer
from sandbox.data.timeline import Subject

GENERATOR_VERSION = "1.6.0"
DEFAULT_START = datetime(2024, 11, 1, tzinfo=UTC)
WINDOW = timedelta(days=730)
BLOCK = 8  # person slots per layout block; see _company_slots
_COMPANY_SIZE = Choice((1, 2, 3, 4, 5), (38, 27, 20, 10, 5))
_MARKET = Choice(MARKETS, MARKET_WEIGHTS)
_INDUSTRY = Choice(INDUSTRIES, INDUSTRY_WEIGHTS)
_CUSTOMERS_PER_OWNER = 2500
# Our own staff write from a reserved domain (RFC 2606), so no sandbox address is a real one of
# ours; customer domains carry a base-36 suffix that real companies are most unlikely to use.
_TENANT_DOMAIN = {key: f"{key}.nordlight.example" for key in ("vn", "cn", "ee", "en")}


def window(start: datetime | None) -> tuple[datetime, datetime]:
    """The history window ``(start, end)``: two years from ``start`` (default: the anchor)."""
    begin = DEFAULT_START if start is None else start
    if begin.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    begin = begin.astimezone(UTC)
    return begin, begin + WINDOW


def blocks(customers: int) -> int:
    """How many layout blocks a dataset of ``customers`` has (the last may be partial)."""
    return -(-customers // BLOCK)


def _company_slots(
    seed: int, customers: int, part: range | None = None
) -> Iterator[tuple[int, int]]:
    """``(first person index, size)`` per company, in stream order, for the blocks in ``part``
    (default: all).

    Person slots come in blocks of ``BLOCK``; each block splits itself into companies with its
    own generator, so company boundaries never depend on the dataset size (a smaller dataset
    is a prefix of a larger one, apart from the owner roster) and never span two blocks.
    """
    for block in part if part is not None else range(blocks(customers)):
        block_first = block * BLOCK
        rng = rng_for(seed, "block", block)
        first, block_end = block_first, min(block_first + BLOCK, customers)
        while first < block_end:
            size = _COMPANY_SIZE(rng)
            size = min(size, block_end - first)
            yield first, size
            first += size


@dataclass(frozen=True, slots=True)
class _CompanyPlan:
    """The company-level draws both the records and the truths depend on."""

    first: int
    size: int
    market: Market
    country: Country
    industry: str
    mood: float
    created_at: datetime


def _plan(seed: int, first: int, size: int, start: datetime) -> tuple[_CompanyPlan, random.Random]:
    rng = rng_for(seed, "company", first)
    market = _MARKET(rng)
    country = market.country(rng)
    industry = _INDUSTRY(rng)
    mood = company_mood(rng, market.service)
    # Two thirds were customers before the window opened; the rest join during it.
    if rng.random() < 0.65:
        created = start - timedelta(days=rng.uniform(30, 1500))
    else:
        created = start + timedelta(days=rng.uniform(0, 600))
    plan = _CompanyPlan(
        first, size, market, country, industry, mood, created.replace(microsecond=0)
    )
    return plan, rng


def _person_truth(
    seed: int, index: int, plan: _CompanyPlan, start: datetime, end: datetime
) -> tuple[datetime, bool, Profile]:
    """A person's creation date, lead flag and hidden profile (from their own truth generator)."""
    rng = rng_for(seed, index, "truth")
    created = (plan.created_at + timedelta(days=rng.uniform(0, 45))).replace(microsecond=0)
    is_lead = plan.size == 1 and rng.random() < 0.15
    profile = draw_profile(rng, plan.mood, max(created, start), end)
    if is_lead:
        # A lead never bought, so it cannot churn.
        profile = dataclasses.replace(profile, churned_at=None)
    return created, is_lead, profile


def _roster(seed: int, customers: int) -> dict[str, list[Owner]]:
    """The staff per market, scaled with the book: about one owner per 2,500 customers."""
    roster: dict[str, list[Owner]] = {}
    taken: set[str] = set()
    number = 0
    total = sum(MARKET_WEIGHTS)
    for market, weight in zip(MARKETS, MARKET_WEIGHTS, strict=True):
        count = max(2, -(-customers * weight // (total * _CUSTOMERS_PER_OWNER)))
        owners: list[Owner] = []
        for n in range(count):
            rng = rng_for(seed, "owner", market.key, n)
            name = draw_name(name_bank(market.language), market.language, rng)
            local = name.email_local
            suffix = 1
            while local in taken:
                suffix += 1
                local = f"{name.email_local}{suffix}"
            taken.add(local)
            number += 1
            owners.append(
                Owner(
                    id=f"o{number:04d}",
                    first_name=name.first_name,
                    last_name=name.last_name,
                    email=f"{local}@{_TENANT_DOMAIN[market.key]}",
                    language=market.language,
                )
            )
        roster[market.key] = owners
    return roster


def generate(
    seed: int,
    customers: int,
    *,
    start: datetime | None = None,
    first: int = 0,
    variant: int = 0,
    shared_contacts: bool = False,
) -> Iterator[Record]:
    """Yield the dataset in dependency order: owners; then per company the company, its persons
    and, after each person, that person's history (see ``history.history_key`` for its order).

    Money is ``Decimal``; datetimes are UTC-aware; ``customers`` persons are yielded, from the
    person numbered ``first`` (a multiple of ``BLOCK``; see the module docstring for it,
    ``variant`` and ``shared_contacts``).
    """
    if customers < 0:
        raise ValueError("customers must be >= 0")
    if first < 0 or first % BLOCK:
        raise ValueError(f"first must be a non-negative multiple of {BLOCK}")
    window(start)  # refuse a bad start before yielding anything
    end = first + customers
    yield from owners(seed, end)
    part = range(first // BLOCK, blocks(end))
    yield from generate_part(
        seed, end, part, start=start, variant=variant, shared_contacts=shared_contacts
    )


def owners(seed: int, customers: int) -> Iterator[Owner]:
    """The owner records of a dataset of ``customers`` (the head of ``generate``'s stream)."""
    for roster in _roster(seed, customers).values():
        yield from roster


def generate_part(
    seed: int,
    customers: int,
    part: range,
    *,
    start: datetime | None = None,
    variant: int = 0,
    shared_contacts: bool = False,
) -> Iterator[Record]:
    """The companies, persons and histories of the layout blocks in ``part``, in stream order.

    ``generate`` is ``owners`` followed by the parts of consecutive block ranges, so parts can
    be generated apart (on other processes) and concatenated to the same stream.
    """
    begin, end = window(start)
    roster = _roster(seed, customers)
    composers = {market.language: Composer(market.language) for market in MARKETS}
    for first, size in _company_slots(seed, customers, part):
        plan, crng = _plan(seed, first, size, begin)
        market, country = plan.market, plan.country
        staff = roster[market.key]
        owner = staff[crng.randrange(len(staff))]
        naming = draw_company(name_bank(market.language), country, plan.industry, first, crng)
        revenue = None
        if crng.random() < 0.8:
            usd = crng.lognormvariate(13.0 + 0.5 * size, 1.1)
            revenue = Decimal(round(usd, -3)).quantize(Decimal(1))
        company = Company(
            id=f"c{first:07d}",
            name=naming.name,
            domain=naming.domain,
            country=country.code,
            industry=plan.industry,
            owner_id=owner.id,
            created_at=plan.created_at,
            annual_revenue=revenue,
        )
        yield company
        owner_name = signature(owner.first_name, owner.last_name, owner.language)
        emails: set[str] = set()
        for index in range(first, first + size):
            created, is_lead, profile = _person_truth(seed, index, plan, begin, end)
            rng = rng_for(seed, index)
            language = market.language
            if rng.random() < market.english_share:
                language = "en"
            # English speakers abroad are half expats (English names), half locals.
            names_in = (
                language if language == market.language or rng.random() < 0.5 else market.language
            )
            name = draw_name(name_bank(names_in), names_in, rng)
            local = name.email_local
            while local in emails:
                local = f"{name.email_local}{rng.randint(2, 99)}"
            emails.add(local)
            tz = country.timezone(rng)
            # Real CRMs have gaps: some contacts never gave a phone number.
            phone = fill_digits(country.phone, rng) if rng.random() >= 0.07 else ""
            email = f"{local}@{company.domain}"
            if shared_contacts:
                email, phone = _shared(seed, index, first, company, email, phone)
            if variant:
                email, phone = _as_another_crm_writes(email, phone, country.code, language, market)
                # The same person, another history: what happened in this CRM.
                rng = rng_for(seed, index, "variant", variant)
            person = Person(
                id=f"p{index:07d}",
                company_id=company.id,
                first_name=name.first_name,
                last_name=name.last_name,
                email=email,
                phone=phone,
                language=language,
                country=country.code,
                timezone=tz,
                owner_id=owner.id,
                created_at=created,
                is_lead=is_lead,
                zalo_user_id=zalo_user_id(seed, f"p{index:07d}", country.code),
            )
            yield person
            subject = Subject(
                person=person,
                company=company,
                owner_name=owner_name,
                customer_name=name.signature,
                profile=profile,
                currency=country.currency,
                channel=market.channel,
                season=market.season,
                rating_style=market.rating_style,
                buys_b2b=index == first and (size >= 2 or rng.random() < 0.3),
                start=max(created, begin),
                end=end,
            )
            yield from person_history(subject, rng, composers[language])


# Mailboxes a company gives instead of a person's own address.
_MAILBOXES = ("info", "sales", "contact", "support", "hello")
# About one person in 25 gives a mailbox; one in 20 of the others in a company of two or more
# gives the company's switchboard (its first person's number).
_MAILBOX_SHARE = 0.04
_SWITCHBOARD_SHARE = 0.05


def _shared(
    seed: int, index: int, first: int, company: Company, email: str, phone: str
) -> tuple[str, str]:
    """The person's e-mail and phone when they may be their company's (see the module
    docstring); its own generator, so the other draws stay as without it."""
    rng = rng_for(seed, index, "shared-contact")
    if rng.random() < _MAILBOX_SHARE:
        email = f"{_MAILBOXES[rng.randrange(len(_MAILBOXES))]}@{company.domain}"
    elif index != first and rng.random() < _SWITCHBOARD_SHARE:
        switchboard = rng_for(seed, "switchboard", company.id)
        phone = fill_digits(_PHONE_PATTERNS.get(company.country, "+1 ### 555 01##"), switchboard)
    return email, phone


_PHONE_PATTERNS = {
    country.code: country.phone for market in MARKETS for country in market.country.values
}


def _as_another_crm_writes(
    email: str, phone: str, country: str, language: str, market: Market
) -> tuple[str, str]:
    """The e-mail and phone as another CRM keeps them: typed with capitals, the number in its
    national form for people writing their country's language (that CRM's users dial locally),
    else international with dashes."""
    local, _, domain = email.partition("@")
    written = f"{local.title()}@{domain}" if email else email
    if not phone:
        return written, phone
    number = phonenumbers.parse(phone)
    if language == market.language and phonenumbers.is_valid_number(number):
        return written, phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    dashed = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return written, dashed.replace(" ", "-")


def truths(
    seed: int, customers: int, *, start: datetime | None = None, part: range | None = None
) -> Iterator[Truth]:
    """Yield the hidden ground truth of each of the ``customers`` persons, in stream order
    (only those in the layout blocks of ``part`` if given)."""
    begin, end = window(start)
    for first, size in _company_slots(seed, customers, part):
        plan, _ = _plan(seed, first, size, begin)
        for index in range(first, first + size):
            _, _, profile = _person_truth(seed, index, plan, begin, end)
            yield profile.truth(f"p{index:07d}")


__all__ = [
    "BLOCK",
    "DEFAULT_START",
    "GENERATOR_VERSION",
    "blocks",
    "generate",
    "generate_part",
    "owners",
    "truths",
    "window",
]
