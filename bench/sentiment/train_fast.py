"""Rebuild the fast path: `python -m bench.sentiment.train_fast` (after `train_head`).

Writes `service/sentiment/data/ngram_head.npz` (the second fast stage, also blended into the
accurate backend), `service/sentiment/data/fast_path.json` (where each fast stage may answer
alone), and completes `e5_head.json` with the per-language blend of e5 and n-gram log-odds and
the neutral threshold, both fitted on the `calibrate` parts.

The n-gram model (`service/sentiment/ngram_backend.py`) is an L2 logistic regression on hashed
character 1-3-grams, one lexicon rule-sum column per language and the language, learned from the
`train` parts of the real labelled data only (`real_sets.py`); neutral texts enter once per side
at half weight, as for the head.

Gates, per language, on that language's `calibrate` part, which neither the n-gram model nor the
head learned from (both are trained on `train` only, and what ships is what was calibrated):
every pair (lexicon gate, n-gram gate) is tried, including "this stage does not answer", and the
pair answering the most texts alone is kept among those whose macro-F1 is at most `LOSS_BUDGET`
below the accurate backend's on the same texts (polar macro-F1, and three-class macro-F1 where
the gold has neutral). A language needs `MIN_CALIBRATION_TEXTS` calibration texts to get any gate;
one without (Estonian: no labelled Estonian ships in any package we know) gets none, so its texts
go straight to the accurate backend.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from bench.sentiment.datasets import ROOT, Example
from bench.sentiment.embeddings import embed_cached
from bench.sentiment.metrics import macro_f1
from bench.sentiment.real_sets import ZH_LIMITS, real_sets
from bench.sentiment.train_head import LANGS, Rows, choose_band, label, polar_f1
from bench.sentiment.train_head import OUT as HEAD_OUT
from service.sentiment.fast_gates import FAST_PATH_FILE, MIN_CALIBRATION_TEXTS, FastGates
from service.sentiment.head import Blend, load_head
from service.sentiment.lexicon_backend import LexiconModel
from service.sentiment.ngram_backend import NGRAM_FILE, NgramHead, vectorizer

DATA = ROOT / "service" / "sentiment" / "data"
C_GRID = (4.0, 16.0)
# Half the bound (one point): the other half is left for real traffic that differs from
# the calibration texts.
LOSS_BUDGET = 0.005
# The bound, which must hold on 90 % of bootstrap resamples of the calibration texts.
MAX_LOSS = 0.01
BOOTSTRAPS = 200
LEXICON_GATES: tuple[float | None, ...] = (None, *np.round(np.arange(0.3, 1.0, 0.05), 2))
NGRAM_GATES: tuple[float | None, ...] = (None, *np.round(np.arange(0.3, 1.0, 0.025), 3))


def ngram_features(
    examples: Sequence[Example], sums: dict[str, float], lexicon_langs: Sequence[str]
) -> sparse.csr_matrix:
    """Hashed n-grams | one rule-sum column per language that keeps it | one column per language."""
    grams = vectorizer().transform([e.text for e in examples])
    rule = np.zeros((len(examples), len(lexicon_langs)))
    langs = np.zeros((len(examples), len(LANGS)))
    for i, e in enumerate(examples):
        if e.lang in lexicon_langs:
            rule[i, list(lexicon_langs).index(e.lang)] = sums[e.text]
        if e.lang in LANGS:
            langs[i, LANGS.index(e.lang)] = 1.0
    return sparse.hstack([grams, sparse.csr_matrix(rule), sparse.csr_matrix(langs)]).tocsr()


def fit_ngram(examples: Sequence[Example], x: sparse.csr_matrix, c: float) -> LogisticRegression:
    """The n-gram model, its rows weighted as the head's are (`Rows`)."""
    rows = Rows.of(examples)
    return LogisticRegression(C=c, max_iter=5000).fit(x[rows.index], rows.y, sample_weight=rows.w)


def rule_sums(examples: Sequence[Example]) -> dict[str, float]:
    """The lexicon's rule sum of every text."""
    lexicon = LexiconModel()
    return {e.text: float(lexicon.totals([e.text], e.lang)[0]) for e in examples}


@dataclass(frozen=True)
class Calibration:
    """What each route would answer on one language's calibration texts."""

    examples: list[Example]
    lexicon_scores: NDArray[np.float64]
    lexicon_certainty: NDArray[np.float64]
    lexicon_band: float
    ngram_scores: NDArray[np.float64]
    ngram_band: float
    e5_scores: NDArray[np.float64]
    e5_neutral: NDArray[np.bool_]
    e5_band: float

    def labels(
        self, lexicon_gate: float | None, ngram_gate: float | None
    ) -> tuple[list[str], list[float], float]:
        """Labels and scores of the routed pipeline, and the share the fast stages answered."""
        out: list[str] = []
        scores: list[float] = []
        fast = 0
        for i in range(len(self.examples)):
            if lexicon_gate is not None and self.lexicon_certainty[i] >= lexicon_gate:
                score, band = self.lexicon_scores[i], self.lexicon_band
                fast += 1
            elif ngram_gate is not None and abs(self.ngram_scores[i]) >= ngram_gate:
                score, band = self.ngram_scores[i], self.ngram_band
                fast += 1
            else:
                score, band = self.e5_scores[i], self.e5_band
                if self.e5_neutral[i]:
                    band = 2.0  # the opinion head's verdict: neutral whatever the score
            out.append(label(float(score), band))
            scores.append(float(score))
        return out, scores, fast / max(1, len(self.examples))

    def scores(self, labels: Sequence[str], scores: Sequence[float]) -> dict[str, float]:
        """Polar macro-F1 (sign of the score on polar gold, as the bench measures it) and,
        where the gold has neutral, three-class macro-F1."""
        gold = [e.label for e in self.examples]
        polar = [i for i, g in enumerate(gold) if g != "neutral"]
        out = {
            "polar": macro_f1(
                [gold[i] for i in polar],
                ["positive" if scores[i] >= 0 else "negative" for i in polar],
            )
        }
        if len(polar) < len(gold):
            out["three_class"] = macro_f1(gold, list(labels))
        return out


_CODES = {"negative": 0, "neutral": 1, "positive": 2}


def _macro_f1_rows(
    gold: NDArray[np.int64], pred: NDArray[np.int64], classes: tuple[int, ...]
) -> NDArray[np.float64]:
    """Macro-F1 over `classes` of each row of (resampled) gold/pred code arrays."""
    f1 = np.zeros((gold.shape[0], len(classes)))
    for k, c in enumerate(classes):
        tp = ((gold == c) & (pred == c)).sum(axis=1)
        fp = ((gold != c) & (pred == c)).sum(axis=1)
        fn = ((gold == c) & (pred != c)).sum(axis=1)
        f1[:, k] = np.where(tp > 0, 2 * tp / np.maximum(1, 2 * tp + fp + fn), 0.0)
    return np.asarray(f1.mean(axis=1), dtype=np.float64)


def _losses(
    cal: Calibration,
    reference: tuple[list[str], list[float]],
    routed: tuple[list[str], list[float]],
) -> dict[str, NDArray[np.float64]]:
    """Per metric, the loss of `routed` against `reference` on the calibration texts as they are
    (row 0) and on `BOOTSTRAPS` resamples of them (the other rows)."""
    gold = np.asarray([_CODES[e.label] for e in cal.examples])
    rng = np.random.default_rng(17)
    rows = np.vstack([np.arange(len(gold)), rng.integers(0, len(gold), (BOOTSTRAPS, len(gold)))])
    out: dict[str, NDArray[np.float64]] = {}
    polar = gold != 1
    sign_ref = np.where(np.asarray(reference[1]) >= 0, 2, 0)
    sign_new = np.where(np.asarray(routed[1]) >= 0, 2, 0)
    g = gold[rows]
    mask = polar[rows]
    # Polar macro-F1 on the polar items of each resample: neutral items get codes outside the
    # two classes, so they count nowhere.
    both = (0, 2)
    gp = np.where(mask, g, -1)
    out["polar"] = _macro_f1_rows(gp, np.where(mask, sign_ref[rows], -2), both) - _macro_f1_rows(
        gp, np.where(mask, sign_new[rows], -2), both
    )
    if not polar.all():
        ref3 = np.asarray([_CODES[x] for x in reference[0]])
        new3 = np.asarray([_CODES[x] for x in routed[0]])
        three = (0, 1, 2)
        out["three_class"] = _macro_f1_rows(g, ref3[rows], three) - _macro_f1_rows(
            g, new3[rows], three
        )
    return out


def choose_gates(cal: Calibration) -> dict[str, Any]:
    """The gate pair that answers the most texts alone among those whose loss against the
    accurate backend is at most `LOSS_BUDGET` on the calibration texts and at most the issue's
    bound (`MAX_LOSS`) on 90 % of bootstrap resamples of them: the pair is chosen from hundreds
    on the same texts, and the luckiest pair on one sample is not the one that holds on others.
    """
    labels, scores, _ = cal.labels(None, None)
    reference = cal.scores(labels, scores)
    best: dict[str, Any] = {"lexicon": None, "ngram": None, "share": 0.0, "loss_points": {}}
    for lg in LEXICON_GATES:
        for ng in NGRAM_GATES:
            routed_labels, routed_scores, share = cal.labels(lg, ng)
            if share <= best["share"]:
                continue
            losses = _losses(cal, (labels, scores), (routed_labels, routed_scores))
            on_sample = {k: float(v[0]) for k, v in losses.items()}
            q90 = {k: float(np.quantile(v[1:], 0.9)) for k, v in losses.items()}
            if max(on_sample.values()) <= LOSS_BUDGET and max(q90.values()) <= MAX_LOSS:
                best = {
                    "lexicon": lg,
                    "ngram": ng,
                    "share": share,
                    "loss_points": {k: round(100 * v, 2) for k, v in on_sample.items()},
                    "loss_points_q90": {k: round(100 * v, 2) for k, v in q90.items()},
                }
    best["accurate"] = {k: round(v, 4) for k, v in reference.items()}
    best["calibration_texts"] = len(cal.examples)
    return best


def _polar_f1_by_language(
    held: Sequence[Example], scores: NDArray[np.float64], languages: Sequence[str]
) -> dict[str, float]:
    out: dict[str, float] = {}
    for lang in languages:
        idx = [i for i, e in enumerate(held) if e.lang == lang]
        out[lang] = polar_f1([held[i] for i in idx], scores[idx])
    return out


def choose_ngram(
    train: Sequence[Example], held: Sequence[Example], sums: dict[str, float]
) -> tuple[LogisticRegression, float, tuple[str, ...], dict[str, Any]]:
    """C, then the lexicon input per language (kept where it helps that language's calibrate
    part), for the n-gram model; returns the model fitted on train with those choices."""
    log: dict[str, Any] = {}
    best: tuple[float, float, LogisticRegression | None] = (C_GRID[0], -1.0, None)
    for c in C_GRID:
        model = fit_ngram(train, ngram_features(train, sums, LANGS), c)
        scores = model.decision_function(ngram_features(held, sums, LANGS))
        f1 = _polar_f1_by_language(held, scores, LANGS)
        log[f"C={c}"] = {k: round(v, 4) for k, v in f1.items()}
        print(f"  n-gram C={c}: polar macro-F1 on calibrate {f1}")
        if sum(f1.values()) > best[1]:
            best = (c, sum(f1.values()), model)
    c, _, with_all = best
    assert with_all is not None
    with_f1 = _polar_f1_by_language(
        held, with_all.decision_function(ngram_features(held, sums, LANGS)), LANGS
    )
    none = fit_ngram(train, ngram_features(train, sums, ()), c)
    none_f1 = _polar_f1_by_language(
        held, none.decision_function(ngram_features(held, sums, ())), LANGS
    )
    kept = tuple(lang for lang in LANGS if with_f1[lang] > none_f1[lang])
    log["lexicon_input"] = {
        lang: {"with": round(with_f1[lang], 4), "without": round(none_f1[lang], 4)}
        for lang in LANGS
    }
    print(f"  lexicon input kept in {kept}: {log['lexicon_input']}")
    if kept == LANGS:
        return with_all, c, kept, log
    if not kept:
        return none, c, kept, log
    return fit_ngram(train, ngram_features(train, sums, kept), c), c, kept, log


def _cv_f1(z: NDArray[np.float64], y: NDArray[np.bool_]) -> float:
    """5-fold cross-validated macro-F1 of a small blend (so a fourth input must earn its place
    on texts it was not fitted to)."""
    from sklearn.model_selection import cross_val_predict

    predicted = cross_val_predict(LogisticRegression(C=10.0, max_iter=5000), z, y, cv=5)
    gold = ["positive" if v else "negative" for v in y]
    return macro_f1(gold, ["positive" if v else "negative" for v in predicted])


def choose_blend(
    held: Sequence[Example],
    e5: NDArray[np.float64],
    ngram: NDArray[np.float64],
    sums: dict[str, float],
) -> tuple[dict[str, Blend], dict[str, Any]]:
    """Per language, z = alpha e5 + beta ngram + gamma (+ delta rule sum where it raises the
    cross-validated macro-F1), fitted on the polar calibrate texts."""
    out: dict[str, Blend] = {}
    log: dict[str, Any] = {}
    for lang in LANGS:
        idx = [i for i, e in enumerate(held) if e.lang == lang and e.label != "neutral"]
        rule = np.asarray([sums[held[i].text] for i in idx])
        base = np.column_stack([e5[idx], ngram[idx]])
        y = np.asarray([held[i].label == "positive" for i in idx])
        without, with_rule = _cv_f1(base, y), _cv_f1(np.column_stack([base, rule]), y)
        # A rule sum that would count against its own sign is collinearity with the n-gram
        # model's rule-sum column, not signal: it would read "一点也不差" (not bad at all) as
        # worse for the lexicon's finding the negation. Kept only with a positive weight.
        fitted = LogisticRegression(C=10.0, max_iter=5000).fit(np.column_stack([base, rule]), y)
        use_rule = with_rule > without and float(fitted.coef_[0][2]) > 0
        log[lang] = {"rule_sum_cv_f1": round(with_rule, 4), "without": round(without, 4)}
        z = np.column_stack([base, rule]) if use_rule else base
        model = LogisticRegression(C=10.0, max_iter=5000).fit(z, y)
        coef = model.coef_[0]
        out[lang] = Blend(
            float(coef[0]),
            float(coef[1]),
            float(model.intercept_[0]),
            float(coef[2]) if use_rule else 0.0,
        )
    deltas = [b.delta for b in out.values()]
    if all(deltas):
        # Estonian has no real labelled text: the rule sum enters only because it helped in
        # every language that could be measured, at their mean weight, beside e5 alone.
        out["et"] = Blend(1.0, 0.0, 0.0, float(np.mean(deltas)))
    log["et"] = {"delta": out["et"].delta if "et" in out else 0.0}
    return out, log


def choose_threshold(
    held: Sequence[Example], scores: NDArray[np.float64], none: NDArray[np.float64]
) -> tuple[float, float]:
    """The P(no opinion) threshold with the best three-class macro-F1 on the calibrate texts
    whose gold has neutral (UIT-VSFC's validation split)."""
    idx = [i for i, e in enumerate(held) if e.source == "uit-vsfc"]
    gold = [held[i].label for i in idx]
    best = (1.0, -1.0)
    for t in np.round(np.arange(0.30, 0.995, 0.01), 2):
        pred = [
            "neutral" if none[i] >= t else ("positive" if scores[i] >= 0 else "negative")
            for i in idx
        ]
        f1 = macro_f1(gold, pred)
        if f1 > best[1]:
            best = (float(t), f1)
    return best


def main() -> None:
    """Fit the n-gram model on train; on calibrate: the blend, the neutral threshold, the gates."""
    # The n-gram model needs no embeddings, so it learns from every Chinese train review, not
    # only the sample the head was embedded for.
    sets = real_sets(zh_limits={**ZH_LIMITS, "train": 10**9})
    train = [e for lang in LANGS for e in sets.get(lang, "train")]
    held = [e for lang in LANGS for e in sets.get(lang, "calibrate")]
    sums = rule_sums(train + held)
    model, c, kept, log = choose_ngram(train, held, sums)
    ngram_held = model.decision_function(ngram_features(held, sums, kept))
    ngram_scores = np.tanh(ngram_held / 2.0)  # = 2 sigmoid - 1
    vi_idx = [i for i, e in enumerate(held) if e.source == "uit-vsfc"]
    ngram_band, _ = choose_band([held[i] for i in vi_idx], ngram_scores[vi_idx])

    head = load_head()
    vectors = embed_cached([e.text for e in held])
    e5_log_odds = head.log_odds(vectors)
    blend, blend_log = choose_blend(held, e5_log_odds, ngram_held, sums)
    head = replace(head, combine=blend)
    z = np.zeros(len(held))
    for lang in LANGS:
        idx = [i for i, e in enumerate(held) if e.lang == lang]
        rule = np.asarray([sums[held[i].text] for i in idx])
        z[idx] = head.blended(e5_log_odds[idx], lang, ngram_held[idx], rule)
    blended = np.tanh(z / 2.0)
    # The opinion head reads the strength of the e5 log-odds it was trained with.
    none = head.no_opinion(vectors, e5_log_odds)
    threshold, three = choose_threshold(held, blended, none)
    print(f"  blend {blend}; neutral threshold {threshold} (vi calibrate 3-class {three:.4f})")
    head = replace(
        head,
        neutral_threshold=threshold,
        meta={
            **head.meta,
            "blend_and_threshold_by": "bench/sentiment/train_fast.py (calibrate parts)",
            "neutral_threshold_vi_calibrate_macro_f1": round(three, 4),
            "blend": blend_log,
            "calibrate_polar_macro_f1_blended": {
                k: round(v, 4) for k, v in _polar_f1_by_language(held, blended, LANGS).items()
            },
        },
    )
    HEAD_OUT.write_text(json.dumps(head.to_json(), ensure_ascii=False) + "\n", encoding="utf-8")

    lexicon = LexiconModel()
    gates: dict[str, dict[str, float]] = {"lexicon": {}, "ngram": {}}
    report: dict[str, Any] = {"ngram": log}
    for lang in LANGS:
        idx = [i for i, e in enumerate(held) if e.lang == lang]
        if len(idx) < MIN_CALIBRATION_TEXTS:
            report[lang] = {"calibration_texts": len(idx), "why": "too few calibration texts"}
            continue
        polarities = lexicon.score_batch([held[i].text for i in idx], lang)
        cal = Calibration(
            examples=[held[i] for i in idx],
            lexicon_scores=np.asarray([p.score for p in polarities]),
            lexicon_certainty=np.asarray([p.certainty for p in polarities]),
            lexicon_band=lexicon.neutral_band,
            ngram_scores=ngram_scores[idx],
            ngram_band=ngram_band,
            e5_scores=blended[idx],
            e5_neutral=none[idx] >= threshold,
            e5_band=0.0,
        )
        chosen = choose_gates(cal)
        report[lang] = chosen
        print(f"  {lang}: {chosen}")
        for stage in ("lexicon", "ngram"):
            if chosen[stage] is not None:
                gates[stage][lang] = float(chosen[stage])
    coef = model.coef_[0]
    n = vectorizer().n_features
    NgramHead(
        weights=coef[:n].astype(np.float32),
        bias=float(model.intercept_[0]),
        lexicon_weights={lang: float(coef[n + k]) for k, lang in enumerate(kept)},
        language_bias={lang: float(coef[n + len(kept) + k]) for k, lang in enumerate(LANGS)},
        neutral_band=ngram_band,
        meta={
            "trained_by": "bench/sentiment/train_fast.py",
            "examples": dict(Counter(f"{e.source}/{e.lang}" for e in train)),
            "regularisation_C": c,
            "lexicon_input": list(kept),
        },
    ).save(DATA / NGRAM_FILE)
    fast = FastGates(
        gates,
        {
            "chosen_by": "bench/sentiment/train_fast.py",
            "loss_budget_points": 100 * LOSS_BUDGET,
            "min_calibration_texts": MIN_CALIBRATION_TEXTS,
            "per_language": report,
        },
    )
    (DATA / FAST_PATH_FILE).write_text(
        json.dumps(fast.to_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(f"gates {gates}; wrote {HEAD_OUT}, {DATA / NGRAM_FILE} and {DATA / FAST_PATH_FILE}")


if __name__ == "__main__":
    main()
