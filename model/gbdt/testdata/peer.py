#!/usr/bin/python3
"""XGBoost 1.7.4 peer for model/gbdt's tests. Run with Debian's /usr/bin/python3
(python3-xgboost, python3-sklearn, python3-pandas); never a pyenv python.

All matrices are raw little-endian float64, row-major, no header.

  peer.py prepare OUTDIR [--xgb] NAME...
      Applies the preprocessing protocol of shared/anchors/baselines.py to
      ../../../testdata/NAME.csv with the TEST rows of testdata/splits/NAME.test_rows.txt:
      numeric columns median-imputed (medians of TRAIN), string columns with
      missing as "__missing__" then ordinal codes in lexicographic label order
      fitted on TRAIN (unseen -> -1), txhousing's date dropped, id-like string
      columns dropped. Writes OUTDIR/NAME.{xtr,ytr,xte,yte} and OUTDIR/NAME.json
      (task, shapes, feature names, categorical flags). With --xgb also fits
      XGBRegressor/XGBClassifier(n_estimators=500, learning_rate=0.05,
      max_depth=6, tree_method=hist, random_state=42) on TRAIN — the
      XGBoost(500,0.05,d6) row of shared/anchors/baselines.md; one thread instead
      of its two, which gives the same trees (hist is deterministic in the thread
      count) without OpenMP spinning on a loaded machine — and stores its
      TEST R2 (regression) or ROC AUC (binary) in the JSON as "xgb_metric".

  peer.py predict MODEL.json X NCOLS OUT [MODEL.json X NCOLS OUT ...]
      For each group, loads MODEL.json with xgboost.Booster(model_file=...) and writes its
      predictions (probabilities for classifiers) for X.

  peer.py train OBJECTIVE NUM_CLASS X NCOLS Y MODEL.json OUT PARAMS [...]
      For each group of 8 arguments, trains xgb.train(tree_method=hist, max_depth=4, eta=0.3,
      30 rounds, one thread, other parameters at their defaults, then updated with the JSON
      object PARAMS) on X, Y, saves the JSON model and writes its predictions for X.
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "testdata")

# name -> target, task, positive class, time column handling, dropped columns
DATASETS = {
    "ames": dict(target="Sale_Price", task="regression"),
    "txhousing": dict(target="median", task="regression", drop=["date"]),
    "credit_data": dict(target="Status", task="binary", positive="bad"),
    "mlc_churn": dict(target="churn", task="binary", positive="yes"),
}


def prepare(outdir, names, with_xgb):
    import pandas as pd
    for name in names:
        cfg = DATASETS[name]
        df = pd.read_csv(os.path.join(DATA, name + ".csv"), keep_default_na=True)
        df = df.reset_index(drop=True)
        df = df[df[cfg["target"]].notna()]
        with open(os.path.join(HERE, "splits", name + ".test_rows.txt")) as f:
            test_rows = {int(line) for line in f if line.strip()}
        is_test = df.index.isin(list(test_rows))
        X = df.drop(columns=[cfg["target"]] + cfg.get("drop", []))
        cat = [c for c in X.columns if X[c].dtype == object]
        idlike = [c for c in cat if X[c].nunique() == len(X)]
        X = X.drop(columns=idlike)
        cat = [c for c in cat if c not in idlike]
        num = [c for c in X.columns if c not in cat]
        X[cat] = X[cat].fillna("__missing__")
        X[num] = X[num].astype(float)
        Xtr, Xte = X[~is_test], X[is_test]
        yraw = df[cfg["target"]]
        if cfg["task"] == "regression":
            y = yraw.astype(float).to_numpy()
        else:
            neg = [c for c in sorted(yraw.unique()) if c != cfg["positive"]]
            classes = neg + [cfg["positive"]]
            y = yraw.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(float)
        ytr, yte = y[~is_test], y[is_test]

        def design(part):
            cols = []
            for c in num:
                med = Xtr[c].median()
                cols.append(part[c].fillna(med).to_numpy(dtype=float))
            for c in cat:
                levels = sorted(Xtr[c].unique())
                code = {v: float(i) for i, v in enumerate(levels)}
                cols.append(np.array([code.get(v, -1.0) for v in part[c]], dtype=float))
            return np.ascontiguousarray(np.column_stack(cols))

        dtr, dte = design(Xtr), design(Xte)
        base = os.path.join(outdir, name)
        dtr.astype("<f8").tofile(base + ".xtr")
        dte.astype("<f8").tofile(base + ".xte")
        ytr.astype("<f8").tofile(base + ".ytr")
        yte.astype("<f8").tofile(base + ".yte")
        meta = dict(task=cfg["task"], cols=dtr.shape[1], n_train=len(ytr), n_test=len(yte),
                    feature_names=num + cat, categorical=[False] * len(num) + [True] * len(cat))
        if with_xgb:
            meta["xgb_metric"] = fit_xgb(cfg["task"], dtr, ytr, dte, yte)
        with open(base + ".json", "w") as f:
            json.dump(meta, f)


def fit_xgb(task, Xtr, ytr, Xte, yte):
    import xgboost as xgb
    from sklearn.metrics import r2_score, roc_auc_score
    common = dict(n_estimators=500, learning_rate=0.05, max_depth=6, tree_method="hist",
                  n_jobs=1, random_state=42, verbosity=0)
    if task == "regression":
        m = xgb.XGBRegressor(objective="reg:squarederror", **common).fit(Xtr, ytr)
        return float(r2_score(yte, m.predict(Xte)))
    m = xgb.XGBClassifier(objective="binary:logistic", eval_metric="logloss", **common).fit(Xtr, ytr)
    return float(roc_auc_score(yte, m.predict_proba(Xte)[:, 1]))


def read_matrix(path, ncols):
    return np.fromfile(path, dtype="<f8").reshape(-1, ncols)


def predict(model_path, x_path, ncols, out):
    import xgboost as xgb
    b = xgb.Booster(model_file=model_path)
    X = read_matrix(x_path, ncols)
    d = xgb.DMatrix(X, missing=np.nan, feature_names=b.feature_names)
    p = b.predict(d)
    np.asarray(p, dtype="<f8").tofile(out)


def train(objective, num_class, x_path, ncols, y_path, model_path, out, extra):
    import xgboost as xgb
    X = read_matrix(x_path, ncols)
    y = np.fromfile(y_path, dtype="<f8")
    params = dict(objective=objective, tree_method="hist", max_depth=4, eta=0.3, nthread=1, seed=0)
    params.update(json.loads(extra))
    if num_class > 0:
        params["num_class"] = num_class
    d = xgb.DMatrix(X, label=y, missing=np.nan)
    b = xgb.train(params, d, num_boost_round=30)
    b.save_model(model_path)
    np.asarray(b.predict(d), dtype="<f8").tofile(out)


def main(argv):
    cmd = argv[1]
    if cmd == "prepare":
        rest = argv[3:]
        with_xgb = "--xgb" in rest
        prepare(argv[2], [a for a in rest if a != "--xgb"], with_xgb)
    elif cmd == "predict":
        a = argv[2:]
        for i in range(0, len(a), 4):
            predict(a[i], a[i + 1], int(a[i + 2]), a[i + 3])
    elif cmd == "train":
        a = argv[2:]
        for i in range(0, len(a), 8):
            train(a[i], int(a[i + 1]), a[i + 2], int(a[i + 3]), a[i + 4], a[i + 5], a[i + 6], a[i + 7])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main(sys.argv)
