"""Typed access to the generator's packaged data files: names, phrase banks and the catalog.

The files are YAML so people can read and extend them (adding a phrase is a one-line change);
they are parsed once per process and turned into frozen, typed structures here, so the rest of
the generator never touches untyped YAML.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, cast

import yaml

from sandbox.data.seeding import Choice

LANGUAGES: tuple[str, ...] = ("vi", "zh", "et", "en")
ASPECTS: tuple[str, ...] = (
    "delivery",
    "price",
    "product_quality",
    "staff",
    "wait_time",
    "billing",
    "returns",
)
POLARITY_KEYS: tuple[str, ...] = ("positive", "negative", "neutral", "not_negative", "not_positive")


@dataclass(frozen=True, slots=True)
class NameBank:
    """Given and family names of one language; ``romanized`` maps Hanzi to pinyin for e-mails."""

    family: Choice[str]
    given_male: tuple[str, ...]
    given_female: tuple[str, ...]
    middle_male: tuple[str, ...]
    middle_female: tuple[str, ...]
    company_patterns: tuple[str, ...]
    company_brands: tuple[str, ...]
    company_trades: dict[str, str]
    company_cities: tuple[str, ...]
    tlds: tuple[str, ...]
    romanized: dict[str, str]


@dataclass(frozen=True, slots=True)
class AspectPhrases:
    """Sentences about one aspect by polarity key (see ``POLARITY_KEYS``), and subject lines
    by plain polarity (positive, neutral, negative)."""

    subjects: dict[str, tuple[str, ...]]
    by_polarity: dict[str, tuple[str, ...]]
    resolutions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PhraseBank:
    """Everything the text composer needs for one language (structure: ``phrases/en.yaml``)."""

    language: str
    contrast: tuple[str, ...]
    contrast_reversed: tuple[str, ...]
    greetings: tuple[str, ...]
    signoffs: tuple[str, ...]
    staff_greetings: tuple[str, ...]
    staff_signoffs: tuple[str, ...]
    chat_openers: tuple[str, ...]
    closers: tuple[str, ...]
    overall: dict[str, tuple[str, ...]]
    aspects: dict[str, AspectPhrases]
    requests: tuple[str, ...]
    request_subjects: tuple[str, ...]
    review_titles: dict[str, tuple[str, ...]]
    staff: dict[str, tuple[str, ...]]
    code_switch: dict[str, tuple[str, ...]]

    def all_phrases(self) -> list[str]:
        """Every distinct sentence template in the bank (used to report and test its variety)."""
        groups: list[tuple[str, ...]] = [
            self.contrast,
            self.contrast_reversed,
            self.greetings,
            self.signoffs,
            self.staff_greetings,
            self.staff_signoffs,
            self.chat_openers,
            self.closers,
            self.requests,
            self.request_subjects,
            *self.overall.values(),
            *self.review_titles.values(),
            *self.staff.values(),
            *self.code_switch.values(),
        ]
        for aspect in self.aspects.values():
            groups.extend(aspect.subjects.values())
            groups.append(aspect.resolutions)
            groups.extend(aspect.by_polarity.values())
        return sorted({phrase for group in groups for phrase in group})


@dataclass(frozen=True, slots=True)
class Product:
    """A catalog entry: list price in USD and its name in each language."""

    usd: int
    names: dict[str, str]


def _load(name: str) -> dict[str, Any]:
    text = resources.files("sandbox.data").joinpath(name).read_text(encoding="utf-8")
    # CSafeLoader when libyaml is present: the files are read once, but tests start many processes.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return cast(dict[str, Any], yaml.load(text, Loader=loader))  # noqa: S506


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in (value or ()))


def _split_romanized(entries: tuple[str, ...], romanized: dict[str, str] | None) -> tuple[str, ...]:
    """Split ``"王 wang"`` entries into the name and its romanization (recorded in ``romanized``).

    ``romanized`` is ``None`` for scripts that are already Latin, whose names may contain spaces.
    """
    if romanized is None:
        return entries
    names = []
    for entry in entries:
        name, _, latin = entry.partition(" ")
        if latin:
            romanized[name] = latin
        names.append(name)
    return tuple(names)


@cache
def name_bank(language: str) -> NameBank:
    """The names of one language (``names/<language>.yaml``)."""
    raw = _load(f"names/{language}.yaml")
    romanized: dict[str, str] | None = {} if raw.get("romanized_entries") else None
    family = raw["family"]
    family_names = _split_romanized(_strings(family.keys()), romanized)
    company = raw["company"]
    trades: dict[str, str] = {}
    for industry, trade in company["trades"].items():
        (word,) = _split_romanized((str(trade),), romanized)
        trades[str(industry)] = word
    return NameBank(
        family=Choice(family_names, [float(w) for w in family.values()]),
        given_male=_split_romanized(_strings(raw["given_male"]), romanized),
        given_female=_split_romanized(_strings(raw["given_female"]), romanized),
        middle_male=_strings(raw.get("middle_male")),
        middle_female=_strings(raw.get("middle_female")),
        company_patterns=_strings(company["patterns"]),
        company_brands=_split_romanized(_strings(company["brands"]), romanized),
        company_trades=trades,
        company_cities=_strings(company.get("cities")),
        tlds=_strings(company.get("tlds")),
        romanized=romanized or {},
    )


def _groups(raw: Any) -> dict[str, tuple[str, ...]]:
    return {str(key): _strings(value) for key, value in (raw or {}).items()}


@cache
def phrase_bank(language: str) -> PhraseBank:
    """The phrase bank of one language (``phrases/<language>.yaml``)."""
    raw = _load(f"phrases/{language}.yaml")
    aspects = {
        name: AspectPhrases(
            subjects=_groups(raw["aspects"][name]["subject"]),
            by_polarity={key: _strings(raw["aspects"][name][key]) for key in POLARITY_KEYS},
            resolutions=_strings(raw["aspects"][name]["resolution"]),
        )
        for name in ASPECTS
    }
    return PhraseBank(
        language=str(raw["language"]),
        contrast=_strings(raw["contrast"]),
        contrast_reversed=_strings(raw["contrast_reversed"]),
        greetings=_strings(raw["greetings"]),
        signoffs=_strings(raw["signoffs"]),
        staff_greetings=_strings(raw["staff_greetings"]),
        staff_signoffs=_strings(raw["staff_signoffs"]),
        chat_openers=_strings(raw["chat_openers"]),
        closers=_strings(raw["closers"]),
        overall=_groups(raw["overall"]),
        aspects=aspects,
        requests=_strings(raw["requests"]),
        request_subjects=_strings(raw["request_subjects"]),
        review_titles=_groups(raw["review_titles"]),
        staff=_groups(raw["staff"]),
        code_switch=_groups(raw.get("code_switch")),
    )


@cache
def catalog() -> tuple[tuple[Product, ...], tuple[Product, ...]]:
    """The shop's ``(products, b2b_packages)``."""
    raw = _load("catalog.yaml")

    def products(entries: list[dict[str, Any]]) -> tuple[Product, ...]:
        return tuple(
            Product(int(e["usd"]), {lang: str(e[lang]) for lang in LANGUAGES}) for e in entries
        )

    return products(raw["products"]), products(raw["b2b"])
