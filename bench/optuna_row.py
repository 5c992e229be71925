"""Peer side of `tabforge bench research --peer-now`: re-measure the XGBoost
Optuna-TPE(30 trials) row of the peer baselines for one dataset on this
machine, now, with the baselines script's own code (its load, split,
features, tune_xgb, refit and metrics), writing nothing. Prints one JSON
line: the test metric (R2 or ROC_AUC) and tune_s. Run with Debian's
/usr/bin/python3: optuna_row.py BASELINES_PY NAME [TRIALS [SEED]]

SEED (default the script's 42) seeds the search and the model (TPESampler,
the CV folds, XGBoost) but not the split: the test rows stay the peers',
which tabforge's bench quality uses whatever its --seeds."""
import importlib.util
import json
import os
import sys
import warnings

spec = importlib.util.spec_from_file_location("baselines", sys.argv[1])
b = importlib.util.module_from_spec(spec)
spec.loader.exec_module(b)
cfg = next(c for c in b.DATASETS if c["name"] == sys.argv[2])
load0 = os.getloadavg()[0]
df, _ = b.load(cfg)
tr_idx, te_idx, _ = b.make_split(df, cfg)
if len(sys.argv) > 4:
    b.SEED = int(sys.argv[4])  # read at call time by tune_xgb and xgb_model
X, num, cat, _ = b.features(df, cfg)
task = cfg["task"]
yraw = df[cfg["target"]]
classes = None
if task == "regression":
    y = yraw.astype(float).to_numpy()
else:
    neg = [c for c in sorted(yraw.unique()) if c != cfg["positive"]]
    classes = neg + [cfg["positive"]]
    y = yraw.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(int)
pos = {ix: i for i, ix in enumerate(df.index)}
tr = [pos[i] for i in tr_idx]
te = [pos[i] for i in te_idx]
Xtr, Xte, ytr, yte = X.iloc[tr], X.iloc[te], y[tr], y[te]
n_classes = len(classes) if classes else None
b.optuna.logging.set_verbosity(b.optuna.logging.WARNING)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    trials = int(sys.argv[3]) if len(sys.argv) > 3 else cfg.get("trials", b.DEFAULT_TRIALS)
    study, tune_s, _ = b.tune_xgb(task, n_classes, Xtr, ytr, num, cat, trials)
    pipe = b.Pipeline([("prep", b.prep(num, cat, False)), ("m", b.xgb_model(task, n_classes, study.best_params))])
    pipe.fit(Xtr, ytr)
    pred, proba = b.predict(pipe, task, Xte)
m = b.metrics(task, yte, pred, proba)
key = "R2" if task == "regression" else "ROC_AUC"
print(json.dumps({"value": m[key], "tune_s": tune_s, "load_before": load0, "load_after": os.getloadavg()[0]}))
