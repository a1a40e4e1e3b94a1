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

from sandbox.data.model import Channel
from sandbox.data.seeding import Choice

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
    timezone: Choice[str]
    phone: str
    tld: str
    company_suffixes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Market:
    """A market: its language, countries and preferred contact channels."""

    key: str
    language: str
    country: Choice[Country]
    # Share of contacts in this market who write in English (expats, international teams).
    english_share: float
    channel: Choice[Channel]
    # Relative order volume per calendar month, January first (see the SEASON_* constants).
    season: tuple[float, ...]
    # How well the tenant serves this market, added to every company's mood there.
    service: float = 0.0
    # How this market's people use rating scales, added to the mood behind every survey score.
    rating_style: float = 0.0


# Shopping seasons. Vietnam: the run-up to Tết in January, quiet during it, 11.11 and year-end
# sales. China: Spring Festival lull, the 618 festival in June, Singles' Day on 11 November.
# Estonia and English-speaking markets: quiet summer holidays, Black Friday and Christmas.
SEASON_VN = (1.5, 0.6, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.0, 1.2, 1.3)
SEASON_CN = (1.1, 0.6, 0.9, 0.9, 1.0, 1.4, 0.9, 0.9, 1.0, 1.0, 1.8, 1.1)
SEASON_WEST = (0.8, 0.9, 1.0, 1.0, 1.0, 0.9, 0.7, 0.8, 1.0, 1.1, 1.5, 1.4)


def _single(
    code: str, currency: str, tz: str, phone: str, tld: str, suffixes: tuple[str, ...] = ()
) -> Country:
    """A country with a single time zone (legal suffixes only where the name bank has none)."""
    return Country(code, currency, Choice((tz,), (1,)), phone, tld, suffixes)


def _channels(
    *, email: int, chat: int, call: int, meeting: int, note: int, review: int
) -> Choice[Channel]:
    """How a market's customers spread their contacts over the channels."""
    channels: tuple[Channel, ...] = ("email", "chat", "call", "meeting", "note", "review")
    return Choice(channels, (email, chat, call, meeting, note, review))


# Why the markets' NPS differ (a dataset of 10,000, seed 1: about +30 Vietnam, +7 China,
# +20 Estonia, +43 English-speaking; +27 overall; typical B2C books sit between about -10 and
# +60). Two things move a market, as they do in published country comparisons:
# - service: the experience itself, so it shows everywhere (messages, cases, churn, all three
#   surveys). The tenant ships from its own warehouses in the English-speaking markets and
#   Estonia; in Vietnam and China it relies on third-party last-mile delivery, slower than the
#   local marketplaces' own couriers.
# - rating style: how people use a rating scale, so it shows in survey scores only. English
#   speakers (above all Americans) give 9s and 10s readily; Vietnamese respondents rate
#   generously too; Estonians, like their Nordic neighbours, keep 9 and 10 for the exceptional
#   ("8 is good"); Chinese respondents favour the middle of a scale (a well-documented moderacy
#   style), which costs NPS its promoters more than anything else.
# The shifts are small against the spread of moods (sd about 0.23) and average out over the
# book, so the overall churn rate, case rate and polarity mix stay what they were.
SERVICE_VN, STYLE_VN = -0.02, 0.03
SERVICE_CN, STYLE_CN = -0.03, -0.04
SERVICE_EE, STYLE_EE = 0.02, -0.06
SERVICE_EN, STYLE_EN = 0.03, 0.04
MARKETS: tuple[Market, ...] = (
    Market(
        "vn",
        "vi",
        Choice((_single("VN", "VND", "Asia/Ho_Chi_Minh", "+84 9# ### ####", "vn"),), (1,)),
        0.06,
        # Vietnamese shoppers message the shop (chat) far more than they e-mail it.
        _channels(email=18, chat=36, call=20, meeting=5, note=5, review=16),
        SEASON_VN,
        service=SERVICE_VN,
        rating_style=STYLE_VN,
    ),
    Market(
        "cn",
        "zh",
        Choice((_single("CN", "CNY", "Asia/Shanghai", "+86 13# #### ####", "cn"),), (1,)),
        0.03,
        _channels(email=12, chat=42, call=18, meeting=5, note=5, review=18),
        SEASON_CN,
        service=SERVICE_CN,
        rating_style=STYLE_CN,
    ),
    Market(
        "ee",
        "et",
        Choice((_single("EE", "EUR", "Europe/Tallinn", "+372 5### ####", "ee"),), (1,)),
        0.10,
        _channels(email=38, chat=16, call=16, meeting=8, note=7, review=15),
        SEASON_WEST,
        service=SERVICE_EE,
        rating_style=STYLE_EE,
    ),
    Market(
        "en",
        "en",
        Choice(
            (
                Country(
                    "US",
                    "USD",
                    Choice(
                        (
                            "America/New_York",
                            "America/Chicago",
                            "America/Denver",
                            "America/Los_Angeles",
                        ),
                        (45, 30, 7, 18),
                    ),
                    "+1 ### 555 01##",
                    "com",
                    ("Inc.", "LLC"),
                ),
                _single("GB", "GBP", "Europe/London", "+44 7700 900###", "co.uk", ("Ltd",)),
                _single("IE", "EUR", "Europe/Dublin", "+353 8# ### ####", "ie", ("Ltd",)),
                Country(
                    "AU",
                    "AUD",
                    Choice(
                        (
                            "Australia/Sydney",
                            "Australia/Melbourne",
                            "Australia/Brisbane",
                            "Australia/Perth",
                        ),
                        (40, 35, 15, 10),
                    ),
                    "+61 4## ### ###",
                    "com.au",
                    ("Pty Ltd",),
                ),
                Country(
                    "CA",
                    "CAD",
                    Choice(("America/Toronto", "America/Vancouver"), (60, 40)),
                    "+1 ### 555 01##",
                    "ca",
                    ("Inc.", "Ltd."),
                ),
                _single("NZ", "NZD", "Pacific/Auckland", "+64 2# ### ####", "co.nz", ("Ltd",)),
            ),
            (40, 30, 6, 12, 8, 4),
        ),
        0.0,
        _channels(email=36, chat=20, call=17, meeting=6, note=6, review=15),
        SEASON_WEST,
        service=SERVICE_EN,
        rating_style=STYLE_EN,
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
