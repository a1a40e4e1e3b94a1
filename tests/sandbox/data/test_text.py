"""Phrase banks and the text composer."""

from __future__ import annotations

import random
import string

import pytest

from sandbox.data.resources import LANGUAGES, phrase_bank
from sandbox.data.seeding import Choice
from sandbox.data.text import Composer, Slots, capitalize_sentences, product_in_sentence

SLOTS = {"order", "invoice", "ticket", "product", "days", "first_name", "owner", "company"}
SLOTS |= {"amount", "a", "b"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_bank_has_hundreds_of_well_formed_phrases(language: str) -> None:
    phrases = phrase_bank(language).all_phrases()
    assert len(phrases) >= 300
    for phrase in phrases:
        fields = {name for _, name, _, _ in string.Formatter().parse(phrase) if name}
        assert fields <= SLOTS, (phrase, fields - SLOTS)


def test_banks_share_one_structure() -> None:
    english = phrase_bank("en")
    for language in LANGUAGES:
        bank = phrase_bank(language)
        assert bank.language == language
        assert bank.staff.keys() == english.staff.keys()
        assert bank.review_titles.keys() == english.review_titles.keys()
        for aspect, phrases in bank.aspects.items():
            assert phrases.subjects.keys() == {"positive", "neutral", "negative"}
            assert all(phrases.by_polarity.values()), (language, aspect)
        if language != "en":
            assert bank.code_switch.keys() == {"positive", "negative", "neutral"}


@pytest.mark.parametrize(
    ("language", "phrase"),
    [
        ("vi", "không tệ chút nào"),
        ("et", "pole üldse halb"),
        ("zh", "一点也不差"),
        ("en", "not bad at all"),
    ],
)
def test_banks_praise_through_negation(language: str, phrase: str) -> None:
    bank = phrase_bank(language)
    praise = [p for a in bank.aspects.values() for p in a.by_polarity["not_negative"]]
    assert any(phrase in p for p in praise)


def test_contrast_lowercases_the_second_clause_in_cased_languages() -> None:
    rng = random.Random(1)
    for _ in range(50):
        text = Composer("en").contrast("delivery", "price", rng)
        assert text[0].isupper() or text[0] == "{"
        assert ". ." not in text
        assert ",," not in text
    for _ in range(50):
        text = Composer("zh").contrast("delivery", "price", rng)
        # No space around the full-width comma, and no full stop left before it.
        for bad in ("\uff0c ", " \uff0c", "\u3002\uff0c"):
            assert bad not in text


def test_slots_are_made_only_when_a_sentence_uses_them() -> None:
    calls: list[str] = []

    def maker(name: str) -> str:
        calls.append(name)
        return name.upper()

    slots = Slots(
        {"order": lambda: maker("order"), "invoice": lambda: maker("invoice")}, {"owner": "Mai"}
    )
    assert slots.fill("Hi {owner}, order {order} and {order}") == "Hi Mai, order ORDER and ORDER"
    assert calls == ["order"]


def test_product_names_read_naturally_inside_and_at_the_start_of_sentences() -> None:
    assert product_in_sentence("Standing desk") == "standing desk"
    assert product_in_sentence("LED desk lamp") == "LED desk lamp"
    assert product_in_sentence("USB-C charging cable") == "USB-C charging cable"
    assert capitalize_sentences("standing desk is fine. standing desk again!\nok") == (
        "Standing desk is fine. Standing desk again!\nOk"
    )
    slots = Slots({"product": lambda: product_in_sentence("Standing desk")}, {})
    assert slots.fill("The {product} broke. {product} again.") == (
        "The standing desk broke. Standing desk again."
    )


def test_choice_draws_like_random_choices() -> None:
    values, weights = ("a", "b", "c"), (5, 1, 2)
    choice = Choice(values, weights)
    ours = [choice(random.Random(seed)) for seed in range(300)]
    theirs = [random.Random(seed).choices(values, weights)[0] for seed in range(300)]
    assert ours == theirs
    with pytest.raises(ValueError, match="non-empty"):
        Choice((), ())
