"""The four markets the sandbox tenant sells in: Vietnam, China, Estonia and English-speaking.

A market fixes the language staff and most contacts write in, the countries (each with its
currency, time zones, phone numbering and web domain conventions) and how customers prefer to
get in touch. Phone numbers use ranges reserved for fiction or invalid for subscribers where the
country has one (US/CA 555-01xx, UK 07700 900xxx), so the sandbox never contains a real number.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

INDUSTRIES: tuple[str, ...] = (
    "Retail",
    "Technology",
    "Manufacturing",
    "Construction",
    "Transportation",
    "Food & Beverage",
    "Hospitality",
    "Healthcare",
    "Education",
    "Consulting",
)
INDUSTRY_WEIGHTS: tuple[float, ...] = (26, 14, 12, 9, 8, 9, 7, 6, 4, 5)


@dataclass(frozen=True, slots=True)
class Currency:
    """An ISO 4217 currency with its minor units and a fixed sandbox rate per US dollar."""

    code: str
    minor_units: int
    per_usd: Decimal


CURRENCIES: dict[str, Currency] = {
    c.code: c
    for c in (
        Currency("VND", 0, Decimal(25400)),
        Currency("CNY", 2, Decimal("7.20")),
        Currency("EUR", 2, Decimal("0.92")),
        Currency("USD", 2, Decimal(1)),
        Currency("GBP", 2, Decimal("0.79")),
        Currency("AUD", 2, Decimal("1.52")),
        Currency("CAD", 2, Decimal("1.37")),
        Currency("NZD", 2, Decimal("1.66")),
    )
}


@dataclass(frozen=True, slots=True)
class Country:
    """One country of a market. ``phone`` is a pattern whose ``#`` become random digits."""

    code: str
    currency: str
    timezones: tuple[str, ...]
    timezone_weights: tuple[float, ...]
    phone: str
    tld: str
    company_suffixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Market:
    """A market: its language, countries and preferred contact channels."""

    key: str
    language: str
    countries: tuple[Country, ...]
    country_weights: tuple[float, ...]
    # Share of contacts in this market who write in English (expats, international teams).
    english_share: float
    channel_weights: dict[str, float]

    def pick_country(self, rng: random.Random) -> Country:
        """Draw a country with the market's weights."""
        return rng.choices(self.countries, self.country_weights)[0]


def _one(code: str, currency: str, tz: str, phone: str, tld: str) -> Country:
    return Country(code, currency, (tz,), (1.0,), phone, tld, ())


MARKETS: tuple[Market, ...] = (
    Market(
        "vn",
        "vi",
        (_one("VN", "VND", "Asia/Ho_Chi_Minh", "+84 9# ### ####", "vn"),),
        (1.0,),
        0.06,
        # Vietnamese shoppers message the shop (chat) far more than they e-mail it.
        {"chat": 36, "email": 18, "call": 20, "review": 16, "meeting": 5, "note": 5},
    ),
    Market(
        "cn",
        "zh",
        (_one("CN", "CNY", "Asia/Shanghai", "+86 13# #### ####", "cn"),),
        (1.0,),
        0.03,
        {"chat": 42, "email": 12, "call": 18, "review": 18, "meeting": 5, "note": 5},
    ),
    Market(
        "ee",
        "et",
        (_one("EE", "EUR", "Europe/Tallinn", "+372 5### ####", "ee"),),
        (1.0,),
        0.10,
        {"email": 38, "chat": 16, "call": 16, "review": 15, "meeting": 8, "note": 7},
    ),
    Market(
        "en",
        "en",
        (
            Country(
                "US",
                "USD",
                ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
                (45, 30, 7, 18),
                "+1 ### 555 01##",
                "com",
                ("Inc.", "LLC"),
            ),
            Country("GB", "GBP", ("Europe/London",), (1,), "+44 7700 900###", "co.uk", ("Ltd",)),
            Country("IE", "EUR", ("Europe/Dublin",), (1,), "+353 8# ### ####", "ie", ("Ltd",)),
            Country(
                "AU",
                "AUD",
                (
                    "Australia/Sydney",
                    "Australia/Melbourne",
                    "Australia/Brisbane",
                    "Australia/Perth",
                ),
                (40, 35, 15, 10),
                "+61 4## ### ###",
                "com.au",
                ("Pty Ltd",),
            ),
            Country(
                "CA",
                "CAD",
                ("America/Toronto", "America/Vancouver"),
                (60, 40),
                "+1 ### 555 01##",
                "ca",
                ("Inc.", "Ltd."),
            ),
            Country("NZ", "NZD", ("Pacific/Auckland",), (1,), "+64 2# ### ####", "co.nz", ("Ltd",)),
        ),
        (40, 30, 6, 12, 8, 4),
        0.0,
        {"email": 36, "chat": 20, "call": 17, "review": 15, "meeting": 6, "note": 6},
    ),
)
MARKET_WEIGHTS: tuple[int, ...] = (30, 25, 15, 30)


def fill_digits(pattern: str, rng: random.Random) -> str:
    """Replace every ``#`` in ``pattern`` with a random digit."""
    return "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)


def to_currency(usd: Decimal, currency: str) -> Decimal:
    """Convert a USD amount at the sandbox rate, rounded to the currency's customary precision.

    VND prices are rounded to whole thousands, as Vietnamese shops price.
    """
    cur = CURRENCIES[currency]
    value = usd * cur.per_usd
    if currency == "VND":
        return (value / 1000).quantize(Decimal(1)) * 1000
    return value.quantize(Decimal(1).scaleb(-cur.minor_units))


_SYMBOL_EN = {"USD": "$", "GBP": "£", "EUR": "€", "AUD": "A$", "CAD": "C$", "NZD": "NZ$"}


def format_money(amount: Decimal, currency: str, language: str) -> str:
    """Write an amount the way a customer writing in ``language`` would."""
    cur = CURRENCIES[currency]
    grouped = f"{amount:,.{cur.minor_units}f}"  # 1,234,567.89
    if language == "vi" and currency == "VND":
        return grouped.replace(",", ".") + " đ"
    if language == "zh" and currency == "CNY":
        return f"{amount:.0f}元"
    if language == "et" and currency == "EUR":
        return grouped.replace(",", " ").replace(".", ",") + " €"
    symbol = _SYMBOL_EN.get(currency)
    return f"{symbol}{grouped}" if symbol else f"{grouped} {currency}"
