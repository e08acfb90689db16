"""Fit the evidence decision (assistant/answer/evidence.py) on the calibration sets.

  brand-assistant fit-evidence [--gold evals/calibration --gold evals/calibration2 --gold evals/calibration3]
      [--out corpus/vocab/evidence_model.json] [--out-offdomain corpus/vocab/offdomain_model.json]

Each answerable question is a positive, each near-domain unanswerable one a negative; the
features are those the judge computes at answer time. A logistic regression (scikit-learn,
L2) is fitted on standardized features; the report gives the cross-validated ROC AUC and,
for a sweep of thresholds, the share of answerable questions that would be labelled
answered and the share of near-domain unanswerable ones claimed as answered — out of fold,
so the threshold is chosen by cross-validation, not by reading failures.

The none decision (no relevant provision at all) is a second logistic regression: the
off-domain questions of the calibration sets against all their other questions, over
OFFDOMAIN_FEATURES. Its threshold is the lowest (most off-domain questions caught) whose
out-of-fold rate of answerable questions sent to "none" stays within OFFDOMAIN_MAX_LOSS
(an answerable question told "no basis" is the costlier error); it is stored in the model.
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import numpy as np

from assistant.answer.evidence import EvidenceJudge, EvidenceModel
from assistant.index.embeddings import embedding_id

FEATURES = ["slot", "slot_unfilled", "filler_topical", "dense1", "fused1", "margin"]
OFFDOMAIN_FEATURES = ["domain", "dense_max", "cov10", "fused1", "key_absent", "cjk", "named_doc"]
OFFDOMAIN_MAX_LOSS = 0.01  # out-of-fold share of answerable questions the none decision may take (target <= 0.05;
# at 0.005, two or three questions of ~500 moved the threshold between 0.85 and 0.95)
OFFDOMAIN_GRID = [round(t, 2) for t in np.arange(0.50, 0.96, 0.05)]
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


def fit(x: np.ndarray, y: np.ndarray, c: float = 1.0, names: list[str] | None = None) -> EvidenceModel:
    from sklearn.linear_model import LogisticRegression

    names = names or FEATURES
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, max_iter=2000, class_weight="balanced")
    lr.fit((x - mean) / scale, y)
    return EvidenceModel(list(names), [float(v) for v in lr.coef_[0]], float(lr.intercept_[0]),
                         [float(v) for v in mean], [float(v) for v in scale])


def cross_validated(x: np.ndarray, y: np.ndarray, folds: int = 5, c: float = 1.0, seed: int = 0,
                    names: list[str] | None = None) -> np.ndarray:
    """Out-of-fold probabilities (stratified folds)."""
    from sklearn.model_selection import StratifiedKFold

    names = names or FEATURES
    p = np.zeros(len(y))
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        m = fit(x[train], y[train], c, names)
        p[test] = [m.probability(dict(zip(names, row))) for row in x[test]]
    return p


def offdomain_sweep(p: np.ndarray, kinds: list[str]) -> list[dict]:
    """For each threshold: answerable, near-domain and off-domain questions sent to none."""
    k = np.array(kinds)
    return [{"threshold": t,
             "answerable_none": round(float((p[k == "answerable"] >= t).mean()), 4),
             "near_domain_none": round(float((p[k == "near_domain"] >= t).mean()), 4),
             "off_domain_none": round(float((p[k == "off_domain"] >= t).mean()), 4)} for t in OFFDOMAIN_GRID]


def choose_offdomain_threshold(rows: list[dict]) -> float:
    ok = [r["threshold"] for r in rows if r["answerable_none"] <= OFFDOMAIN_MAX_LOSS]
    return min(ok) if ok else max(OFFDOMAIN_GRID)


def run_offdomain(judge: EvidenceJudge, calibration, out: Path | None, c: float = 1.0, repeats: int = 5,
                  sources: list[str] = ()) -> dict:
    """Fit the none decision: off-domain questions (positives) against the others."""
    x, _, ids, kinds = collect(judge, calibration, OFFDOMAIN_FEATURES)
    y = np.array([k == "off_domain" for k in kinds], dtype=int)
    if y.sum() < 5 or (1 - y).sum() < 5:
        raise ValueError(f"too few off-domain questions to fit the none decision ({int(y.sum())})")
    # out-of-fold probabilities averaged over several fold splits (50 positives: one split is noisy)
    p = np.mean([cross_validated(x, y, c=c, seed=s, names=OFFDOMAIN_FEATURES) for s in range(repeats)], axis=0)
    rows = offdomain_sweep(p, kinds)
    threshold = choose_offdomain_threshold(rows)
    model = fit(x, y, c, OFFDOMAIN_FEATURES)
    report = {"n": len(y), "off_domain": int(y.sum()), "cv_auc": round(auc(p, y), 4), "cv_sweep": rows,
              "threshold": threshold, "coef": dict(zip(OFFDOMAIN_FEATURES, [round(v, 3) for v in model.coef]))}
    model.meta = {"fitted_on": list(sources), "date": _dt.date.today().isoformat(),
                  "n": len(y), "off_domain": int(y.sum()), "cv_auc": report["cv_auc"], "C": c,
                  "threshold": threshold, "embedding": embedding_id(judge.index.embed_model),
                  "note": f"positives: off-domain questions; negatives: answerable and near-domain ones. "
                          f"threshold: the lowest whose out-of-fold answerable-to-none rate is <= {OFFDOMAIN_MAX_LOSS}"}
    if out is not None:
        model.save(out)
    return report


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


def run(judge: EvidenceJudge, calibration, others: dict[str, list], out: Path | None, c: float = 1.0,
        sources: list[str] = ()) -> dict:
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
    model.meta = {"fitted_on": list(sources), "date": _dt.date.today().isoformat(), "n": report["n"],
                  "cv_auc": report["cv_auc"], "C": c,
                  "note": "positives: answerable questions; negatives: near-domain unanswerable ones"}
    if out is not None:
        model.save(out)
    return report
