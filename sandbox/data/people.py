"""Names of people and companies, and the ASCII e-mail addresses and domains derived from them.

Names keep their native spelling (Vietnamese and Estonian diacritics, Chinese in Hanzi); e-mail
addresses and domains are ASCII as they are in practice: diacritics folded ("Đặng" -> "dang",
"Põder" -> "poder"), Chinese written in pinyin.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

from sandbox.data.markets import Country
from sandbox.data.resources import NameBank

# Letters that Unicode does not decompose into base letter + mark.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D", "ø": "o", "ß": "ss", "'": "", "\u2019": ""})
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (spaces and punctuation dropped)."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_EXTRA))
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


def base36(number: int) -> str:
    """``number`` in base 36, for short unique domain suffixes."""
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _B36[rest] + digits
        if not number:
            return digits


@dataclass(frozen=True, slots=True)
class PersonName:
    """A person's name as the CRM stores it, how they sign, and their e-mail local part."""

    first_name: str
    last_name: str
    signature: str
    email_local: str


def _latin(bank: NameBank, name: str) -> str:
    return bank.romanized.get(name) or ascii_fold(name)


def draw_name(bank: NameBank, language: str, rng: random.Random) -> PersonName:
    """Draw a realistic full name for a person of ``language``."""
    female = rng.random() < 0.5
    family = bank.family(rng)
    given = rng.choice(bank.given_female if female else bank.given_male)
    if language == "vi":
        # Vietnamese CRMs keep "middle given" as the first name; people go by the given name.
        middle = rng.choice(bank.middle_female if female else bank.middle_male)
        first = f"{middle} {given}"
        return PersonName(first, family, given, f"{ascii_fold(given)}.{ascii_fold(family)}")
    if language == "zh":
        # Family name first when written in Hanzi; pinyin addresses often read given.family.
        local = f"{_latin(bank, given)}.{_latin(bank, family)}"
        if rng.random() < 0.4:
            local = f"{_latin(bank, family)}{_latin(bank, given)}"
        return PersonName(given, family, family + given, local)
    return PersonName(given, family, given, f"{ascii_fold(given)}.{ascii_fold(family)}")


@dataclass(frozen=True, slots=True)
class CompanyName:
    """A company's registered name and its (unique) web domain."""

    name: str
    domain: str


def draw_company(
    bank: NameBank, country: Country, industry: str, unique: int, rng: random.Random
) -> CompanyName:
    """Draw a company name fitting the market; ``unique`` keeps the domain unique in a dataset.

    Domains must be unique because HubSpot deduplicates companies by domain and contacts by
    e-mail: two sandbox companies sharing one would silently merge in the emulator.
    """
    brand = rng.choice(bank.company_brands)
    trade = bank.company_trades[industry]
    pattern = rng.choice(bank.company_patterns)
    name = pattern.format(
        brand=brand,
        trade=trade,
        city=rng.choice(bank.company_cities) if bank.company_cities else "",
        suffix=rng.choice(country.company_suffixes) if country.company_suffixes else "",
    )
    slug = _latin(bank, brand)
    if "{trade}" in pattern and rng.random() < 0.5:
        slug += "-" + _latin(bank, trade)
    tld = rng.choice(bank.tlds) if bank.tlds else country.tld
    return CompanyName(name, f"{slug}-{base36(unique)}.{tld}")


def signature(first_name: str, last_name: str, language: str) -> str:
    """How a person signs and is addressed: given name (vi: its last word), Chinese full name."""
    if language == "zh":
        return last_name + first_name
    if language == "vi":
        return first_name.rsplit(" ", 1)[-1]
    return first_name
