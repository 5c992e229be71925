#!/usr/bin/python3
"""Dump the shared-anchor design matrices for the tree and forest tests and
score scikit-learn on them.

    /usr/bin/python3 anchors.py DATASET_CSV TEST_ROWS_TXT OUT_DIR MODELS

MODELS is a comma list of: tree, tree_seeds, forest.
The protocol is copied from shared/anchors/baselines.py (load, features,
prep for tree models): rows with a missing target dropped, TEST = the rows in
TEST_ROWS_TXT, numeric median impute and string columns ordinal-coded in
lexicographic order (missing -> "__missing__", unseen -> -1), both fitted on
TRAIN. Writes to OUT_DIR: xtr.f64, ytr.f64, xte.f64, yte.f64 (little-endian
float64, row-major) and meta.json with the shapes, the task and the sklearn
test metric (R2 or ROC AUC) per requested model:
  tree:       DecisionTree*(random_state=42)
  tree_seeds: the same with random_state 0..4 (mean and spread)
  forest:     RandomForest*(n_estimators=200, n_jobs=2, random_state=42)
"""
import json
import os
import sys

import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.preprocessing import OrdinalEncoder
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

# name -> target, task, time spec, positive class (shared/anchors/baselines.py DATASETS)
DATASETS = {
    "ames": dict(target="Sale_Price", task="regression", time=("ym", "Year_Sold", "Mo_Sold")),
    "txhousing": dict(target="median", task="regression", time=("date", "date", False),
                      skip_date_features=True),
    "credit_data": dict(target="Status", task="binary", positive="bad"),
    "mlc_churn": dict(target="churn", task="binary", positive="yes"),
}


def features(df, cfg):
    X = df.drop(columns=[cfg["target"]])
    if cfg.get("time") and cfg["time"][0] == "date":
        col = cfg["time"][1]
        if not cfg.get("skip_date_features"):
            d = pd.to_datetime(X[col], format="%Y-%m-%d")
            X[col + "_year"] = d.dt.year
            X[col + "_month"] = d.dt.month
            if cfg["time"][2]:
                X[col + "_dow"] = d.dt.dayofweek
        X = X.drop(columns=[col])
    cat = [c for c in X.columns if X[c].dtype == object]
    idlike = [c for c in cat if X[c].nunique() == len(X)]
    X = X.drop(columns=idlike)
    cat = [c for c in cat if c not in idlike]
    num = [c for c in X.columns if c not in cat]
    X[cat] = X[cat].fillna("__missing__")
    X[num] = X[num].astype(float)
    return X, num, cat


def main():
    csv, rows_txt, out, models = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(",")
    name = os.path.basename(csv)[:-4]
    cfg = DATASETS[name]
    df = pd.read_csv(csv, keep_default_na=True).reset_index(drop=True)
    df = df[df[cfg["target"]].notna()]
    test = set(int(l) for l in open(rows_txt) if l.strip())
    is_test = np.array([i in test for i in df.index])
    X, num, cat = features(df, cfg)
    task = cfg["task"]
    if task == "regression":
        y = df[cfg["target"]].astype(float).to_numpy()
    else:
        raw = df[cfg["target"]]
        classes = [c for c in sorted(raw.unique()) if c != cfg["positive"]] + [cfg["positive"]]
        y = raw.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(float)
    Xtr, Xte, ytr, yte = X[~is_test], X[is_test], y[~is_test], y[is_test]
    prep = ColumnTransformer([
        ("num", SimpleImputer(strategy="median"), num),
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1), cat),
    ], remainder="drop")
    A = prep.fit_transform(Xtr).astype(np.float64)
    B = prep.transform(Xte).astype(np.float64)
    os.makedirs(out, exist_ok=True)
    for fn, arr in (("xtr", A), ("ytr", ytr), ("xte", B), ("yte", yte)):
        np.ascontiguousarray(arr, dtype="<f8").tofile(os.path.join(out, fn + ".f64"))

    reg = task == "regression"

    def score(est):
        est.fit(A, ytr)
        if reg:
            return float(r2_score(yte, est.predict(B)))
        return float(roc_auc_score(yte, est.predict_proba(B)[:, 1]))

    meta = dict(name=name, task=task, train_rows=int(A.shape[0]), test_rows=int(B.shape[0]),
                cols=int(A.shape[1]), names=num + cat, sklearn=sklearn.__version__,
                metric="r2" if reg else "roc_auc")
    Tree = DecisionTreeRegressor if reg else DecisionTreeClassifier
    Forest = RandomForestRegressor if reg else RandomForestClassifier
    if "tree" in models:
        meta["tree"] = score(Tree(random_state=42))
    if "tree_seeds" in models:
        s = [score(Tree(random_state=k)) for k in range(5)]
        meta["tree_seeds"] = s
    if "forest" in models:
        meta["forest"] = score(Forest(n_estimators=200, n_jobs=2, random_state=42))
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f)


if __name__ == "__main__":
    main()
