"""The same person on several records: matching by e-mail and phone, for erasure.

Until the identity graph exists, a person is found by what their records share: the same e-mail
address (trimmed, case-insensitive: `Ann@X.com ` is `ann@x.com`) or the same phone number (its
digits, an international `00` prefix dropped; at least 7 digits, so extensions and short codes
match nothing). A number written nationally on one record and internationally on another
(`020 7946 0000` and `+44 20 7946 0000`) is not matched: that would need the record's country.
The match is direct, not transitive: a person's records are those sharing *their* e-mail or phone,
not records sharing a phone with one of those (a household's landline would chain strangers).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, func, or_
from sqlmodel import Session, col, select

from service.store.tables import CrmLink, Customer, EntityType

MIN_PHONE_DIGITS = 7


def normal_email(email: str | None) -> str | None:
    """The e-mail as compared: trimmed and lower-cased; None when there is none."""
    if not email:
        return None
    value = email.strip().lower()
    return value if "@" in value else None


def phone_digits(phone: str | None) -> str | None:
    """The phone number's digits as compared (None when fewer than `MIN_PHONE_DIGITS`)."""
    if not phone:
        return None
    digits = "".join(c for c in phone if c.isascii() and c.isdigit())
    if digits.startswith("00"):
        digits = digits[2:]
    return digits[:32] if len(digits) >= MIN_PHONE_DIGITS else None


@dataclass(frozen=True)
class Match:
    """Another customer of the same person, and why: `email`, `phone` or both."""

    customer_id: str
    reasons: tuple[str, ...]
    connections: tuple[str, ...]  # where its CRM records are


def related_customers(engine: Engine, customer_id: str) -> list[Match]:
    """Every other customer sharing this one's e-mail or phone (none when it has neither)."""
    with Session(engine) as session:
        row = session.get(Customer, customer_id)
        if row is None:
            return []
        email, phone = normal_email(row.email), row.phone
        conditions = []
        if email:
            conditions.append(func.lower(func.trim(col(Customer.email))) == email)
        if phone:
            conditions.append(col(Customer.phone) == phone)
        if not conditions:
            return []
        others = session.exec(
            select(Customer).where(or_(*conditions), col(Customer.id) != customer_id)
        ).all()
        found: list[Match] = []
        for other in sorted(others, key=lambda c: c.id):
            reasons = tuple(
                reason
                for reason, same in (
                    ("email", bool(email) and normal_email(other.email) == email),
                    ("phone", bool(phone) and other.phone == phone),
                )
                if same
            )
            connections = session.exec(
                select(CrmLink.connection).where(
                    CrmLink.entity_type == EntityType.CUSTOMER.value,
                    CrmLink.entity_id == other.id,
                )
            ).all()
            found.append(Match(other.id, reasons, tuple(sorted(set(connections)))))
    return found
