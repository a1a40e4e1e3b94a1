"""Compose natural customer and staff texts in a customer's language from the phrase banks.

Texts are built from whole sentences written by people (``phrases/<language>.yaml``), never from
word-level templates, so every sentence is grammatical. Variety comes from choosing among
sentences per aspect and polarity, from negated forms ("not bad at all" praises, "not good at all"
complains), from mixed messages joined by the language's own contrast patterns, from optional
greetings, closers and sign-offs per channel, from slots (order and invoice numbers, products,
prices in the customer's currency) and from occasional code-switching into English.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Literal, TypeAlias

from sandbox.data.resources import ASPECTS, PhraseBank, phrase_bank

Polarity: TypeAlias = Literal["positive", "negative", "neutral", "mixed"]

# How often a sentence is said through negation, or swapped for a code-switched one.
_NEGATED_SHARE = 0.2
_CODE_SWITCH_SHARE = 0.05
# Languages with letter case: the second clause of a contrast starts lower-case.
_CASED = frozenset({"en", "et", "vi"})
_CLAUSE_END = ".!\u3002\uff01"  # full stop and exclamation mark, ASCII and CJK


class Slots(dict[str, str]):
    """Slot values for one text, computed only when a chosen sentence asks for them.

    ``makers`` produce a value on first use (``str.format_map`` calls ``__missing__``), so a
    text that mentions no invoice never draws an invoice number and costs nothing for it.
    """

    def __init__(self, makers: dict[str, Callable[[], str]], fixed: dict[str, str]) -> None:
        super().__init__(fixed)
        self._makers = makers
        self._recase = False

    def __missing__(self, key: str) -> str:
        value = self._makers[key]()
        if key == "product" and value[:1].islower():
            self._recase = True
        self[key] = value
        return value

    def fill(self, template: str) -> str:
        """``template`` with its slots filled, sentence starts re-capitalised if a slot needs it."""
        text = template.format_map(self)
        return capitalize_sentences(text) if self._recase else text


def product_in_sentence(name: str) -> str:
    """A product name as it reads inside a sentence: "Standing desk" -> "standing desk".

    Names led by an acronym or a number ("LED desk lamp", "USB-C cable", "A4 paper") keep
    their case. Sentences that then start with the name are fixed by ``capitalize_sentences``.
    """
    if len(name) > 1 and name[1].islower():
        return name[0].lower() + name[1:]
    return name


_SENTENCE_START = re.compile(r"(^|[.!?:]\s+|\n)(\w)")


def capitalize_sentences(text: str) -> str:
    """Upper-case the first letter of every sentence (for texts with a lower-cased slot)."""
    return _SENTENCE_START.sub(lambda m: m.group(1) + m.group(2).upper(), text)


def _lower_first(clause: str, language: str) -> str:
    if language not in _CASED or not clause or clause.startswith(("I ", "I'", "{")):
        return clause
    return clause[0].lower() + clause[1:]


class Composer:
    """Writes texts in one language; all randomness comes from the ``rng`` passed in."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.bank: PhraseBank = phrase_bank(language)

    # --- sentences -------------------------------------------------------------------------
    def sentence(self, aspect: str, polarity: str, rng: random.Random) -> str:
        """One sentence template about ``aspect`` ("overall" allowed) with a plain polarity."""
        bank = self.bank
        if aspect == "overall":
            return rng.choice(bank.overall[polarity])
        switched = bank.code_switch.get(polarity)
        if switched and rng.random() < _CODE_SWITCH_SHARE:
            return rng.choice(switched)
        phrases = bank.aspects[aspect].by_polarity
        if polarity != "neutral" and rng.random() < _NEGATED_SHARE:
            polarity = "not_negative" if polarity == "positive" else "not_positive"
        return rng.choice(phrases[polarity])

    def contrast(self, praised: str, criticised: str, rng: random.Random) -> str:
        """A mixed message: praise of one aspect joined to criticism of another."""
        first = self.sentence(praised, "positive", rng)
        second = self.sentence(criticised, "negative", rng)
        patterns = self.bank.contrast
        if rng.random() < 0.3:
            # Sometimes the complaint comes first; some connectives only introduce a drawback
            # ("mỗi tội", "although"), so the reversed order has its own patterns.
            first, second = second, first
            patterns = self.bank.contrast_reversed
        pattern = rng.choice(patterns)
        return pattern.format(a=first.rstrip(_CLAUSE_END), b=_lower_first(second, self.language))

    def body(
        self,
        polarity: Polarity,
        aspect: str,
        other: str,
        rng: random.Random,
        *,
        statement: bool = False,
    ) -> str:
        """The message proper (unformatted template): one to three sentences.

        ``aspect`` is what the message is mainly about; ``other`` is a second aspect, used for
        the praised side of a mixed message or an extra sentence. A neutral message is a
        question about the aspect, unless ``statement`` asks for a neutral verdict (reviews,
        surveys). Requests not tied to an aspect come from ``request``.
        """
        if polarity == "mixed":
            return self.contrast(other, aspect, rng)
        if polarity == "neutral":
            return self.sentence("overall" if statement else aspect, "neutral", rng)
        parts = [self.sentence(aspect, polarity, rng)]
        if rng.random() < 0.3:
            parts.append(self.sentence(other, polarity, rng))
        if rng.random() < 0.3:
            parts.append(self.sentence("overall", polarity, rng))
        return self._join(parts)

    def request(self, rng: random.Random) -> tuple[str, str]:
        """A practical request ("please send invoice 4521") and a subject line for it."""
        return rng.choice(self.bank.requests), rng.choice(self.bank.request_subjects)

    def _join(self, parts: list[str]) -> str:
        return ("" if self.language == "zh" else " ").join(parts)

    # --- whole texts per channel -----------------------------------------------------------
    def email(self, body: str, rng: random.Random) -> str:
        """An inbound e-mail: greeting, body, sometimes a closer, sign-off."""
        lines = [rng.choice(self.bank.greetings), body]
        if rng.random() < 0.5:
            lines.append(rng.choice(self.bank.closers))
        lines.append(rng.choice(self.bank.signoffs))
        return "\n\n".join(lines)

    def chat(self, body: str, rng: random.Random) -> str:
        """A chat message: often an opener on its own line, as people type in chat windows."""
        if rng.random() < 0.6:
            return f"{rng.choice(self.bank.chat_openers)}\n{body}"
        return body

    def staff(self, kind: str, rng: random.Random) -> str:
        """A staff sentence of ``kind`` (reply, apology, resolution, follow_up, winback, note…)."""
        return rng.choice(self.bank.staff[kind])

    def letter_frame(self, rng: random.Random) -> tuple[str, str]:
        """Greeting and sign-off for an outbound e-mail.

        Returned apart from the body because staff letters are formatted with the names
        swapped: the greeting addresses the customer and the sign-off is the staff member's.
        """
        return rng.choice(self.bank.staff_greetings), rng.choice(self.bank.staff_signoffs)

    def subject(self, aspect: str, polarity: Polarity, rng: random.Random) -> str:
        """A subject line about ``aspect`` fitting a message of ``polarity``."""
        plain = "negative" if polarity == "mixed" else polarity
        return rng.choice(self.bank.aspects[aspect].subjects[plain])

    def resolution(self, aspect: str | None, rng: random.Random) -> str:
        """How staff close a complaint: usually the fix for its aspect, else a general one."""
        if aspect is not None and rng.random() < 0.75:
            return rng.choice(self.bank.aspects[aspect].resolutions)
        return rng.choice(self.bank.staff["resolution"])

    def review_title(self, polarity: Polarity, rng: random.Random) -> str:
        """A review headline matching ``polarity``."""
        return rng.choice(self.bank.review_titles[polarity])


def pick_aspects(main: tuple[str, ...], rng: random.Random) -> tuple[str, str]:
    """The aspect a text is about (usually one of the person's main ones) and a different second."""
    if main and rng.random() < 0.7:
        first = main[0] if rng.random() < 0.55 else rng.choice(main)
    else:
        first = rng.choice(ASPECTS)
    second = rng.choice(ASPECTS)
    while second == first:
        second = rng.choice(ASPECTS)
    return first, second
