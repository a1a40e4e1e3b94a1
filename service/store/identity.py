"""A customer's e-mail and phone as the `customers` row keeps them for lookups.

`customers.phone` holds the digits (an international `00` prefix dropped; at least 7 digits, so
extensions and short codes are none). Matching records to persons does not use these: it uses
the verified keys of service/domain/identity.py, stored per record on `crm_links`.
"""

from __future__ import annotations

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
