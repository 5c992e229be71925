"""Peer side of `tabforge bench`: fit one scikit-learn / XGBoost model on the
raw Friedman-1 files written by tabforge (first 80% of rows = train), time
the fit alone and print one JSON line. Run with Debian's /usr/bin/python3."""
import argparse
import json
import time

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--case", required=True)
ap.add_argument("--rows", type=int, required=True)
ap.add_argument("--data", required=True)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()

F = 28
x = np.fromfile(f"{a.data}/friedman1_x.f32", dtype="<f4", count=a.rows * F).reshape(a.rows, F)
binary = a.case.endswith("logistic") or a.case.endswith("_bin")
if binary:
    y = np.fromfile(f"{a.data}/friedman1_ybin.u8", dtype=np.uint8, count=a.rows).astype(np.float64)
else:
    y = np.fromfile(f"{a.data}/friedman1_y.f32", dtype="<f4", count=a.rows)
ntr = a.rows * 4 // 5
xtr, ytr, xte, yte = x[:ntr], y[:ntr], x[ntr:], y[ntr:]


def model_for(case):
    if case == "sklearn_ols":
        from sklearn.linear_model import LinearRegression
        return LinearRegression(), "sklearn LinearRegression"
    if case == "sklearn_ridge":
        from sklearn.linear_model import Ridge
        return Ridge(alpha=1.0), "sklearn Ridge(alpha=1)"
    if case == "sklearn_logistic":
        from sklearn.linear_model import LogisticRegression
        return LogisticRegression(C=1.0, max_iter=1000), "sklearn LogisticRegression(lbfgs)"
    if case == "sklearn_forest":
        from sklearn.ensemble import RandomForestRegressor
        return RandomForestRegressor(n_estimators=100, max_features="sqrt", n_jobs=a.threads, random_state=0), "sklearn RandomForest(100, sqrt)"
    if case in ("xgb_reg", "xgb_bin"):
        import xgboost as xgb
        obj = "binary:logistic" if case == "xgb_bin" else "reg:squarederror"
        cls = xgb.XGBClassifier if case == "xgb_bin" else xgb.XGBRegressor
        return cls(n_estimators=100, max_depth=6, learning_rate=0.1, max_bin=256, tree_method="hist",
                   n_jobs=a.threads, objective=obj), "XGBoost %s hist" % xgb.__version__
    raise SystemExit("unknown case " + case)


m, desc = model_for(a.case)
t0 = time.perf_counter()
m.fit(xtr, ytr)
fit = time.perf_counter() - t0
t0 = time.perf_counter()
if binary:
    m.predict_proba(x)
else:
    m.predict(x)
predict_s = time.perf_counter() - t0
if binary:
    from sklearn.metrics import roc_auc_score
    metric, name = roc_auc_score(yte, m.predict_proba(xte)[:, 1]), "AUC"
else:
    from sklearn.metrics import r2_score
    metric, name = r2_score(yte, m.predict(xte)), "R2"
print(json.dumps({"fit_seconds": fit, "metric": float(metric), "metric_name": name, "description": desc,
                  "predict_seconds": predict_s, "predict_rows": a.rows}))
