"""Fit the evidence decision (assistant/answer/evidence.py) on a calibration set.

  brand-assistant fit-evidence [--gold evals/calibration] [--out corpus/vocab/evidence_model.json]

Each answerable question is a positive, each near-domain unanswerable one a negative; the
features are those the judge computes at answer time. A logistic regression (scikit-learn,
L2) is fitted on standardized features; the report gives the cross-validated ROC AUC and,
for a sweep of thresholds, the share of answerable questions that would be labelled
answered and the share of near-domain unanswerable ones claimed as answered — out of fold,
so the threshold is chosen by cross-validation, not by reading failures. The none cut-off
(no relevant provision at all) is a separate, conservative rule on the same probability.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from assistant.answer.evidence import EvidenceJudge, EvidenceModel

FEATURES = ["slot", "slot_unfilled", "filler_topical", "dense1", "fused1", "margin"]
CANDIDATES = ["cov1", "cov1_strict", "cov3", "cov10", "unknown", "n_words", "slot", "slot_filled",
            "slot_unfilled", "filler_topical", "key_covered", "key_absent", "domain", "dense1", "dense_max", "fused1",
              "margin", "cjk"]


def collect(judge: EvidenceJudge, questions, names: list[str] | None = None
            ) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
    """Feature rows (columns: `names`, default FEATURES), labels, ids and kinds."""
    names = names or FEATURES
    xs, ys, ids, kinds = [], [], [], []
    for q in questions:
        r = judge.retriever.retrieve_all(q.q)
        f, _ = judge.features(r)
        xs.append([f[n] for n in names])
        ys.append(1 if q.answerable else 0)
        ids.append(q.id)
        kinds.append("answerable" if q.answerable else (q.kind or "near_domain"))
    return np.asarray(xs, dtype=float), np.asarray(ys), ids, kinds


def fit(x: np.ndarray, y: np.ndarray, c: float = 1.0) -> EvidenceModel:
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    lr.fit((x - mean) / scale, y)
    return EvidenceModel(FEATURES, [float(v) for v in lr.coef_[0]], float(lr.intercept_[0]),
                         [float(v) for v in mean], [float(v) for v in scale])


def cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 5, c: float = 1.0, seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities (stratified folds)."""
    from sklearn.model_selection import StratifiedKFold

    p = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        m = fit(x[train], y[train], c)
        p[test] = [m.probability(dict(zip(FEATURES, row))) for row in x[test]]
    return p


def sweep(p: np.ndarray, kinds: list[str]) -> list[dict]:
    ans = np.array([k == "answerable" for k in kinds])
    near = np.array([k == "near_domain" for k in kinds])
    off = np.array([k == "off_domain" for k in kinds])
    rows = []
    for t in np.arange(0.30, 0.95, 0.05):
        claimed = p >= t
        rows.append({
            "threshold": round(float(t), 2),
            "answered_rate": round(float(claimed[ans].mean()), 3) if ans.any() else 0.0,
            "near_domain_answered": round(float(claimed[near].mean()), 3) if near.any() else 0.0,
            "answered_precision": round(float(ans[claimed].mean()), 3) if claimed.any() else 1.0,
            "off_domain_answered": round(float(claimed[off].mean()), 3) if off.any() else 0.0,
        })
    return rows


def auc(p: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(set(y)) == 2 else float("nan")


def run(judge: EvidenceJudge, calibration, others: dict[str, list], out: Path | None, c: float = 1.0) -> dict:
    """Fit on `calibration` (answerable + near-domain; off-domain rows are kept out of the
    fit but reported), report CV and the other sets' AUC under the full fit."""
    x, y, ids, kinds = collect(judge, calibration)
    keep = np.array([k != "off_domain" for k in kinds])
    p_cv = np.zeros(len(y))
    p_cv[keep] = cross_validated(x[keep], y[keep], c=c)
    model = fit(x[keep], y[keep], c)
    p_full = np.array([model.probability(dict(zip(FEATURES, row))) for row in x])
    p_cv[~keep] = p_full[~keep]
    report = {"n": int(keep.sum()), "cv_auc": round(auc(p_cv[keep], y[keep]), 4), "cv_sweep": sweep(p_cv, kinds),
              "coef": dict(zip(FEATURES, [round(v, 3) for v in model.coef])), "others": {}}
    for name, qs in others.items():
        xo, yo, _, ko = collect(judge, qs)
        po = np.array([model.probability(dict(zip(FEATURES, row))) for row in xo])
        keep_o = np.array([k != "off_domain" for k in ko])
        report["others"][name] = {"auc": round(auc(po[keep_o], yo[keep_o]), 4), "sweep": sweep(po, ko)}
    model.meta = {"fitted_on": "evals/calibration", "date": _dt.date.today().isoformat(), "n": report["n"],
                  "cv_auc": report["cv_auc"], "C": c,
                  "note": "positives: answerable questions; negatives: near-domain unanswerable ones"}
    if out is not None:
        model.save(out)
    return report
