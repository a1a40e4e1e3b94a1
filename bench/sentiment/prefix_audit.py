"""Audit of the term lists' prefix entries against a real word list: `python -m
bench.sentiment.prefix_audit` (exit 1 when an entry catches an unrelated real word).

A new user found that the Estonian thanks entry `täna*` also matched "tänavu" (this year) and
"tänane" (today's), so plain news read as thanks. This script lists, for every entry that ends in
`*` (any ending) or lists its endings in braces (`kehv{|a|ad}`) in `data/lexicon/*.json` and
`data/aspects/*.json`, the real words it catches, and fails when one of them belongs to a lemma
the entry is not meant for (`LEMMAS` below names the lemmas each stem stands for).

The word list is the Estonian dictionary inside the `simplemma` package (2.7 M inflected forms,
each with its lemma; a dev dependency, read at bench time and never copied into the
repository). Only Estonian uses these entries today; an entry in another language without a
word list is reported as unchecked.

`--rewrite` regenerates every `*` or braced entry whose stem is in `LEMMAS` as a braced list of
exactly the dictionary's inflected forms of those lemmas, or keeps `stem*` where the prefix
catches nothing unrelated (how the shipped lists were made, 7 Dec 2026). Participles have
lemmas of their own in the dictionary ("vastanud" → vastanu), so they are listed too.
"""

from __future__ import annotations

import argparse
import bisect
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from service.sentiment.terms import expand

DATA = Path(__file__).resolve().parents[2] / "service" / "sentiment" / "data"
FOLDERS = ("lexicon", "aspects")

# stem → the lemmas its forms may have (simplemma's lemma names). A compound of the same word
# that keeps the meaning is listed ("tarneaeg" delivery time); one that does not is left out
# ("heategevus" charity, "kasutus" use, "ootamatu" unexpected, "veatu" flawless).
LEMMAS: dict[str, dict[str, frozenset[str]]] = {
    "et": {
        k: frozenset(v.split())
        for k, v in {
            # lexicon
            "hea": "hea headus",
            "suurepära": "suurepärane",
            "tore": "tore",
            "imeli": "imeline",
            "meeldi": "meeldima meeldiv meeldivam meeldivaim meeldivalt meeldinu",
            "meeldiv": "meeldima meeldiv meeldivam meeldivaim meeldivalt meeldinu",
            "õnnelik": "õnnelik õnnelikum",
            "rõõm": "rõõm rõõmus rõõmsam rõõmsalt rõõmsasti rõõmustama rõõmustuma",
            "täna": "tänama tänanu tänatu",
            "tänulik": "tänulik tänulikum",
            "abivalmi": "abivalmis abivalm abivalmidus",
            "sõbralik": "sõbralik sõbralikum sõbralikult sõbralikkus",
            "viisaka": "viisakas viisakam viisakalt",
            "professionaal": "professionaalne professionaal",
            "kiire": "kiire kiirem kiireim kiirelt kiiresti kiiremini",
            "soodsa": "soodne soodsam soodus",
            "odav": "odav odavam odavalt odavasti",
            "kvaliteetse": "kvaliteetne",
            "vastupidav": "vastupidav vastupidavam vastupidavus",
            "mugav": "mugav mugavam mugavus mugavalt",
            "soovita": "soovitama soovitatav soovitav soovitanu soovitatu",
            "täiuslik": "täiuslik täiuslikum täiuslikkus",
            "ilus": "ilus ilusam ilusaim ilusasti ilusti",
            "parim": "parim parimini",
            "kannatlik": "kannatlik kannatlikkus",
            "mõistlik": "mõistlik mõistlikum",
            "halva": "halb halvasti",
            "halvim": "halvim",
            "kehv": "kehv kehvem kehvasti kehvavõitu",
            "kohutav": "kohutav kohutavalt kohutavam kohutama",
            "jubedal": "jube",
            "õudse": "õudne õudsem",
            "pettu": "pettuma pettumus pettunud pettunu pettumuslik",
            "vihast": "vihastama vihastuma vihane",
            "nördi": "nördima nördimus nördinu",
            "häiri": "häirima häiriv häirinu häiritu häiritult häiring",
            "tüütu": "tüütu tüütus",
            "puudulik": "puudulik puudulikkus",
            "vigase": "vigane",
            "vea": "viga",
            "aeglase": "aeglane aeglaselt aeglasem aeglasemalt",
            "hiline": "hiline hilinema hilinenu hilinemine hilineja",
            "hilinemi": "hilinemine",
            "viivitus": "viivitus",
            "vale": "vale valesti valetama valelik",
            "ebaviisaka": "ebaviisakas",
            "ülbe": "ülbe",
            "jäme": "jäme jämedus jämedam",
            "kalli": "kallis kallim kallivõitu",
            "ülehinna": "ülehindama",
            "petis": "petis petislik",
            "pettus": "pettus pettuma",
            "kaebus": "kaebus",
            "kaeba": "kaebama kaebamine",
            "loobu": "loobuma loobumine loobunu loobutu",
            "kasutu": "kasutu",
            "raiska": "raiskama raiskamine",
            "probleem": "probleem probleemne probleemikam",
            "mure": "mure murelik muretsema",
            "räpa": "räpane räpakas räpasevõitu",
            "oota": "ootama ootamine",
            "õudus": "õudus",
            "ignoreeri": "ignoreerima ignoreerimine",
            "jookseb": "jooksma",
            # aspects
            "tarne": "tarne tarneaeg tarnetähtaeg tarnehind",
            "kohaletoimet": "kohaletoimetamine",
            "kuller": "kuller kullersaadetis",
            "paki": "pakk pakkima pakiautomaat",
            "pakki": "pakk pakkima",
            "saadetis": "saadetis",
            "saatmi": "saatmine",
            "transpor": "transport transportima",
            "pakiautomaa": "pakiautomaat",
            "hinna": "hind hinnatõus hinnalangus hinnakiri hinnasilt hinnaalandus",
            "maksumus": "maksumus",
            "allahindlus": "allahindlus",
            "kvaliteet": "kvaliteet kvaliteetne",
            "toote": "toode tootevalik tootekood",
            "seadme": "seade",
            "materjal": "materjal materjalidefekt",
            "kanga": "kangas",
            "kõrvaklapp": "kõrvaklapp kõrvaklapid",
            "ekraan": "ekraan ekraanipilt",
            "teenindaja": "teenindaja",
            "klienditug": "",
            "klienditoe": "",
            "klienditeenindus": "klienditeenindus",
            "töötaja": "töötaja töötajaskond",
            "personal": "personal",
            "teenindus": "teenindus teenindustöötaja teeninduskultuur",
            "tehnik": "tehnik",
            "konsultant": "konsultant",
            "müüja": "müüja müüjanna müüjatar",
            "ootamis": "ootamine",
            "järjekor": "järjekord järjekorranumber",
            "vasta": "vastama vastamine vastaja vastanu vastatu",
            "arve": "arve",
            "makse": "makse maksma makseviis maksekaart maksetähtaeg",
            "maksi": "maksma",
            "kaardi": "kaart kaardimakse",
            "tasu": "tasu tasuma tasumine tasuline tasunu tasutu",
            "arveldus": "arveldus arvelduskonto",
            "tagastu": "tagastus tagastuma tagastusõigus",
            "tagasimakse": "tagasimakse",
            "vahetu": "vahetus vahetuma vahetunu",
            "tagastam": "tagastama tagastamine",
            "tagastat": "tagastama",
            "rakendus": "rakendus",
            "äpp": "",
            "äpi": "",
            "veebileh": "veebileht veebilehekülg",
            "koduleh": "koduleht kodulehekülg",
            "veebi": "veeb veebileht veebilehekülg veebipood veebisait veebikeskkond "
            "veebirakendus veebiaadress",
            "sisselogimi": "sisselogimine",
            "lehekülg": "lehekülg",
            "e-pood": "e-pood",
        }.items()
    }
}


# Forms the dictionary files under another lemma that the entry must still have ("vead" errors,
# filed under vedama), and homographs it must not have although the dictionary files them under
# the entry's lemma ("tänavad", "tänavat" are also streets; "tänaks", "tänagi" are also "for
# today", "even today").
EXTRA_FORMS: dict[str, dict[str, frozenset[str]]] = {"et": {"vea": frozenset({"vead"})}}
HOMOGRAPHS: dict[str, dict[str, frozenset[str]]] = {
    "et": {"täna": frozenset({"tänavad", "tänavat", "tänaks", "tänagi"})}
}


class Words:
    """A language's inflected forms with their lemmas, sorted for prefix search."""

    def __init__(self, language: str) -> None:
        from simplemma.strategies.dictionaries.dictionary_factory import (
            DefaultDictionaryFactory,
        )

        self._lemma = DefaultDictionaryFactory().get_dictionary(language)
        self._forms = sorted(self._lemma.keys())

    def lemma(self, form: str) -> str | None:
        """The dictionary's lemma of `form`, None when it is not a known word."""
        return self._lemma.get(form)

    def starting_with(self, stem: str) -> list[str]:
        """Every known form that begins with `stem`."""
        i = bisect.bisect_left(self._forms, stem)
        out: list[str] = []
        while i < len(self._forms) and self._forms[i].startswith(stem):
            out.append(self._forms[i])
            i += 1
        return out


@dataclass(frozen=True)
class Finding:
    """What one entry catches that it should not (or why it could not be checked)."""

    path: str
    entry: str
    problem: str


def _entries(data: dict[str, object]) -> Iterator[str]:
    for value in data.values():
        if isinstance(value, dict):
            yield from value
        elif isinstance(value, list):
            yield from (v for v in value if isinstance(v, str))


def _stem(entry: str) -> str:
    """The last word of an entry without its `*` or braces ("väga hea*" → "hea")."""
    base = entry.rstrip("*").split("{")[0]
    return base.split()[-1] if base.split() else base


def audit() -> tuple[list[Finding], int]:
    """Findings for every prefix or braced entry, and how many entries were checked."""
    words: dict[str, Words] = {}
    findings: list[Finding] = []
    checked = 0
    for folder in FOLDERS:
        for path in sorted((DATA / folder).glob("*.json")):
            language = path.stem
            data = json.loads(path.read_text(encoding="utf-8"))
            for entry in dict.fromkeys(_entries(data)):
                if not (entry.endswith("*") or "{" in entry):
                    continue
                name = f"{folder}/{path.name}"
                lemmas = LEMMAS.get(language, {}).get(_stem(entry))
                if lemmas is None:
                    findings.append(Finding(name, entry, "no LEMMAS entry: unchecked"))
                    continue
                if language not in words:
                    words[language] = Words(language)
                extra = EXTRA_FORMS.get(language, {}).get(_stem(entry), frozenset())
                banned = HOMOGRAPHS.get(language, {}).get(_stem(entry), frozenset())
                findings += _check(name, entry, lemmas, words[language], extra, banned)
                checked += 1
    return findings, checked


def _check(
    name: str,
    entry: str,
    lemmas: frozenset[str],
    words: Words,
    extra: frozenset[str],
    banned: frozenset[str],
) -> list[Finding]:
    if entry.endswith("*"):
        caught = words.starting_with(_stem(entry))
    else:
        caught = [_stem(form) for form in expand(entry)]
    unrelated = sorted(
        f"{form} ({'homograph' if form in banned else lemma})"
        for form in caught
        if form in banned
        or (form not in extra and (lemma := words.lemma(form)) is not None and lemma not in lemmas)
    )
    if not unrelated:
        return []
    shown = ", ".join(unrelated[:12]) + (
        f", … {len(unrelated)} in all" if len(unrelated) > 12 else ""
    )
    return [Finding(name, entry, f"catches unrelated words: {shown}")]


def rewrite() -> int:
    """Regenerate every `*` or braced entry whose stem is in `LEMMAS`: a braced list of the
    dictionary's forms of its lemmas, or `stem*` when the prefix catches nothing unrelated.
    Returns the number of entries that changed."""
    changed = 0
    for folder in FOLDERS:
        for path in sorted((DATA / folder).glob("*.json")):
            lemmas_of = LEMMAS.get(path.stem)
            if not lemmas_of:
                continue
            words = Words(path.stem)
            data = json.loads(path.read_text(encoding="utf-8"))
            for entry in list(dict.fromkeys(_entries(data))):
                stem = _stem(entry)
                lemmas = lemmas_of.get(stem)
                if not (entry.endswith("*") or "{" in entry) or lemmas is None:
                    continue
                base = entry.rstrip("*").split("{")[0]
                new = _generated(base, stem, lemmas, words, path.stem)
                if new != entry:
                    data = _replace(data, entry, new)
                    changed += 1
            path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return changed


def _generated(base: str, stem: str, lemmas: frozenset[str], words: Words, language: str) -> str:
    extra = EXTRA_FORMS.get(language, {}).get(stem, frozenset())
    banned = HOMOGRAPHS.get(language, {}).get(stem, frozenset())
    caught = words.starting_with(stem)
    forms = [f for f in caught if (words.lemma(f) in lemmas or f in extra) and f not in banned]
    if len(forms) == len(caught) or not forms:
        return base + "*"  # the prefix catches nothing unrelated (or nothing known): keep it
    endings = sorted({f[len(stem) :] for f in forms}, key=lambda e: (len(e), e))
    return base + "{" + "|".join(endings) + "}"


def _replace(data: dict[str, object], old: str, new: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out[key] = {(new if k == old else k): v for k, v in value.items()}
        elif isinstance(value, list):
            out[key] = [new if v == old else v for v in value]
        else:
            out[key] = value
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rewrite", action="store_true", help="replace * entries (see above)")
    args = parser.parse_args()
    if args.rewrite:
        print(f"regenerated {rewrite()} entries")
    findings, checked = audit()
    for f in findings:
        print(f"{f.path}: {f.entry!r}: {f.problem}")
    print(f"{checked} prefix/braced entries checked, {len(findings)} problems")
    sys.exit(1 if findings else 0)


if __name__ == "__main__":
    main()
