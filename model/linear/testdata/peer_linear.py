#!/usr/bin/python3
"""Peer (scikit-learn) reference for model/linear's agreement tests.

Usage: /usr/bin/python3 peer_linear.py DATA_DIR SPLITS_DIR OUT_DIR

For each dataset below it applies the preprocessing protocol of
shared/anchors/baselines.py (copied here: median impute + StandardScaler for
numeric columns, one-hot with a "__missing__" category for string columns,
unseen levels -> all zeros, fitted on TRAIN only; id-like string columns and
txhousing's `date` dropped), then writes to OUT_DIR/<name>/ raw little-endian
float64 files:

  xtr, xte          design matrices, row-major
  ytr, yte          targets (class index for classification)
  wtr               sample weights 1 + (i mod 3) for the weighted variants
  <model>           test predictions of the sklearn peer models
                    (regression: value; binary: P(class 1); multiclass:
                    n_test x K probabilities)

and a meta.json with shapes, feature names and sklearn's test metrics.
TEST rows come from SPLITS_DIR/<name>.test_rows.txt (copied from
shared/anchors/splits/); the multiclass case builds its own stratified
split. Run with Debian's python (scikit-learn 1.2.1).
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

DATASETS = [
    dict(name="ames", file="ames.csv", target="Sale_Price", task="regression"),
    dict(name="txhousing", file="txhousing.csv", target="median", task="regression",
         drop=["date"]),
    dict(name="credit_data", file="credit_data.csv", target="Status", task="binary",
         positive="bad"),
    dict(name="mlc_churn", file="mlc_churn.csv", target="churn", task="binary",
         positive="yes"),
    # Multiclass case (not in baselines.md): credit_data's Job column.
    dict(name="credit_job", file="credit_data.csv", target="Job", task="multiclass",
         split="stratified"),
]


def features(df, cfg):
    X = df.drop(columns=[cfg["target"]] + cfg.get("drop", []))
    cat = [c for c in X.columns if X[c].dtype == object]
    idlike = [c for c in cat if X[c].nunique() == len(X)]
    X = X.drop(columns=idlike)
    cat = [c for c in cat if c not in idlike]
    num = [c for c in X.columns if c not in cat]
    X[cat] = X[cat].fillna("__missing__")
    X[num] = X[num].astype(float)
    return X, num, cat


def prep(num, cat):
    enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    numt = Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())])
    return ColumnTransformer([("num", numt, num), ("cat", enc, cat)], remainder="drop")


def save(path, a):
    np.ascontiguousarray(a, dtype="<f8").tofile(path)


def run(cfg, data_dir, splits_dir, out_dir):
    df = pd.read_csv(os.path.join(data_dir, cfg["file"]), keep_default_na=True)
    df = df.reset_index(drop=True)
    df = df[df[cfg["target"]].notna()]
    task = cfg["task"]
    yraw = df[cfg["target"]]
    if task == "regression":
        y = yraw.astype(float).to_numpy()
        classes = None
    else:
        if task == "binary":
            classes = [c for c in sorted(yraw.unique()) if c != cfg["positive"]] + [cfg["positive"]]
        else:
            classes = sorted(yraw.unique())
        y = yraw.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(int)
    if cfg.get("split") == "stratified":
        tr_idx, te_idx = train_test_split(df.index.to_numpy(), test_size=0.2, random_state=42,
                                          shuffle=True, stratify=y)
        te_set = set(int(i) for i in te_idx)
    else:
        with open(os.path.join(splits_dir, cfg["name"] + ".test_rows.txt")) as f:
            te_set = set(int(l) for l in f if l.strip())
    test_mask = np.array([int(i) in te_set for i in df.index])
    X, num, cat = features(df, cfg)
    Xtr_df, Xte_df = X[~test_mask], X[test_mask]
    ytr, yte = y[~test_mask], y[test_mask]
    pre = prep(num, cat).fit(Xtr_df)
    xtr = pre.transform(Xtr_df).astype(float)
    xte = pre.transform(Xte_df).astype(float)
    wtr = 1.0 + (np.arange(len(ytr)) % 3)

    od = os.path.join(out_dir, cfg["name"])
    os.makedirs(od, exist_ok=True)
    for k, v in dict(xtr=xtr, xte=xte, ytr=ytr, yte=yte, wtr=wtr).items():
        save(os.path.join(od, k), v)
    meta = dict(name=cfg["name"], task=task, n_train=len(ytr), n_test=len(yte),
                p=xtr.shape[1], classes=[str(c) for c in classes] if classes else None,
                features=[str(f) for f in pre.get_feature_names_out()],
                sklearn=sklearn.__version__, metrics={})
    if task == "regression":
        preds = {}
        preds["ridge"] = Ridge(alpha=1.0).fit(xtr, ytr).predict(xte)
        preds["ridge_w"] = Ridge(alpha=1.0).fit(xtr, ytr, sample_weight=wtr).predict(xte)
        preds["ridge_a10_noint"] = Ridge(alpha=10.0, fit_intercept=False).fit(xtr, ytr).predict(xte)
        preds["ols"] = LinearRegression().fit(xtr, ytr).predict(xte)
        # Minimum-norm OLS reference: numpy lstsq (rcond = eps*max(n, p)) on
        # the centred design, intercept from the means (sklearn's recipe).
        mx, my = xtr.mean(axis=0), ytr.mean()
        beta = np.linalg.lstsq(xtr - mx, ytr - my, rcond=None)[0]
        preds["ols_minnorm"] = (xte - mx) @ beta + my
        for k, v in preds.items():
            save(os.path.join(od, k), v)
            meta["metrics"][k + "_r2"] = float(r2_score(yte, v))
    else:
        def proba(m):
            p = m.predict_proba(xte)
            return p[:, 1] if task == "binary" else p
        preds = {}
        # As in baselines.py (max_iter=5000, default tol): the AUC anchor.
        preds["logit_default"] = proba(LogisticRegression(C=1.0, max_iter=5000).fit(xtr, ytr))
        # Tightly converged references for prediction-level comparison. lbfgs
        # stops on scipy's relative-decrease test (ftol ~ 2e-9) whatever tol
        # says (on credit_job its gradient stays ~0.08); newton-cg reaches a
        # max |gradient| of ~1e-8 in ~20 iterations.
        tight = dict(solver="newton-cg", max_iter=1000, tol=1e-8)
        preds["logit"] = proba(LogisticRegression(C=1.0, **tight).fit(xtr, ytr))
        preds["logit_w"] = proba(LogisticRegression(C=1.0, **tight).fit(xtr, ytr, sample_weight=wtr))
        preds["logit_c01"] = proba(LogisticRegression(C=0.1, **tight).fit(xtr, ytr))
        for k, v in preds.items():
            save(os.path.join(od, k), v)
            if task == "binary":
                meta["metrics"][k + "_auc"] = float(roc_auc_score(yte, v))
            else:
                meta["metrics"][k + "_auc_ovr"] = float(
                    roc_auc_score(yte, v, multi_class="ovr", average="macro"))
    with open(os.path.join(od, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


def main():
    data_dir, splits_dir, out_dir = sys.argv[1:4]
    import warnings
    warnings.simplefilter("ignore")
    for cfg in DATASETS:
        run(cfg, data_dir, splits_dir, out_dir)


if __name__ == "__main__":
    main()
