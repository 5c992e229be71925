"""Peer side of issue 14's acceptance proxy: default and Optuna-tuned XGBoost
on a sample of the meta corpus, with the peer baselines' own code.

For each chosen dataset of META/MANIFEST.csv this builds a baselines-style
cfg (name = the file's stem, the manifest's target, task and positive
class; no columns dropped), splits it with the baselines' rule, and runs
XGBoost(500, 0.05, depth 6) and the baselines' tune_xgb (Optuna TPE, 30
trials, 3-fold shuffled CV on TRAIN), refit on TRAIN, scored on TEST by the
baselines' metrics. baselines.py is imported by path (like optuna_row.py);
nothing is written under SHARED.

Run with Debian's /usr/bin/python3 from the repository root:

    nice /usr/bin/python3 bench/peer_corpus.py SHARED OUT [NAME ...]
    tabforge bench quality --manifest OUT/manifest.csv \
        --peers testdata/peers/baselines.json,OUT/peers.json --only NAME,...

SHARED is the shared directory (anchors/baselines.py, datasets/meta/);
NAMEs (file stems) restrict the run, default the sample below; --list
prints the sample and exits; --splits-only writes the splits and the
manifest but runs no peer, for bench quality against the peers.json of
an earlier run (bench/testdata/peer_corpus_peers.json). OUT receives,
rewritten after each dataset:
  splits/<name>.test_rows.txt  0-based data-row indices of TEST (header
                               excluded), like anchors/splits/
  manifest.csv                 file,target,task,time_column,positive_class,
                               test_rows for bench quality --manifest (file
                               absolute, test_rows relative to OUT)
  peers.json                   baselines.json's shape (bench.ReadPeers):
                               per dataset the default and Optuna-TPE
                               XGBoost rows with every metric, tune_s, the
                               load average at start and end

Split (the baselines' rule): rows with a time_column are ordered by it; the
cutoff is the key of the row at position floor(0.8 n) in that order and
TEST = key >= cutoff (ties never straddle; a row with a missing key is
TRAIN). The key is the number itself for a numeric column (a year), else
the parsed date (YYYY-MM-DD) or date-time (YYYY-MM-DD HH:MM:SS). Other
datasets use train_test_split(test_size=0.2, random_state=42), stratified
for classification. A date or date-time column becomes <col>_year and
<col>_month features (as baselines.py does for "date") and the raw string
is dropped; a numeric time column stays a numeric feature.

Sample (deterministic; bench/testdata/peer_corpus_sample.csv): manifest rows
with 300 <= rows <= 30,000 and cols <= 120, grouped by (task, has a
time_column), each group sorted by file name; from a group of n take m
files at positions floor((i + 0.5) n / m), i = 0..m-1. Quotas: regression
3 with a time column + 4 without, binary 2 + 5, multiclass 5 (no multiclass
candidate has a time column): 19 datasets, 5 temporal. Datasets run in
order of rows x cols x classes, so a cut-short run lacks the largest.

bench/testdata/peer_corpus_peers.json is the peers.json of the first run
(2 shared cores, load average 0.1 rising to 3.8): 18 of the 19. It was cut
before mlbench_letterrecognition (20,000 rows, 26 classes), whose default
XGBoost fit alone took over 90 s, so its 90-fit search would take over an
hour.
"""
import csv
import importlib.util
import json
import math
import os
import platform
import sys
import time
import warnings

import numpy as np
import pandas as pd

QUOTAS = {("regression", True): 3, ("regression", False): 4,
          ("binary", True): 2, ("binary", False): 5, ("multiclass", False): 5}
MIN_ROWS, MAX_ROWS, MAX_COLS = 300, 30000, 120


def load_baselines(shared):
    spec = importlib.util.spec_from_file_location(
        "baselines", os.path.join(shared, "anchors", "baselines.py"))
    b = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(b)
    return b


def read_manifest(shared):
    with open(os.path.join(shared, "datasets", "meta", "MANIFEST.csv"), newline="") as f:
        return list(csv.DictReader(f))


def sample(manifest):
    """The chosen manifest rows, by the rule in the module docstring."""
    cand = [m for m in manifest
            if MIN_ROWS <= int(m["rows"]) <= MAX_ROWS and int(m["cols"]) <= MAX_COLS]
    out = []
    for (task, timed), m in QUOTAS.items():
        g = sorted((c for c in cand if c["task"] == task and bool(c["time_column"]) == timed),
                   key=lambda c: c["file"])
        if len(g) < m:
            sys.exit(f"sample: {task} time={timed}: {len(g)} candidates < {m}")
        out += [g[int(math.floor((i + 0.5) * len(g) / m))] for i in range(m)]
    return out


def cfg_of(m):
    cfg = dict(name=os.path.splitext(m["file"])[0], path=os.path.join("datasets", "meta", m["file"]),
               file=m["file"], target=m["target"], task=m["task"],
               time_column=m["time_column"] or None)
    if m["task"] == "binary":
        cfg["positive"] = m["positive_class"]
    return cfg


def time_key(col):
    """The split key of a time column and whether it is a date: numbers as
    they are, else dates or date-times parsed strictly."""
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float), False
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S"):
        try:
            return pd.to_datetime(col, format=fmt), True
        except (ValueError, TypeError):
            pass
    raise ValueError(f"time column {col.name}: neither numbers, YYYY-MM-DD nor YYYY-MM-DD HH:MM:SS")


def split(b, df, cfg):
    if not cfg["time_column"]:
        return b.make_split(df, dict(cfg, time=None))
    key, _ = time_key(df[cfg["time_column"]])
    known = key.notna().to_numpy()
    k = key.to_numpy()[known]
    cutoff = np.sort(k, kind="stable")[int(math.floor((1 - b.TEST_FRAC) * len(k)))]
    test = np.zeros(len(df), dtype=bool)
    test[known] = k >= cutoff
    cut = pd.Timestamp(cutoff).isoformat(sep=" ") if np.issubdtype(k.dtype, np.datetime64) else f"{cutoff:g}"
    rule = f"temporal: TEST = {cfg['time_column']} >= {cut}; TRAIN = earlier or missing"
    return np.asarray(df.index[~test]), np.asarray(df.index[test]), rule


def features(b, df, cfg):
    col = cfg["time_column"]
    if col:
        key, is_date = time_key(df[col])
        if is_date:  # year and month replace the raw string
            df = df.copy()
            df[col + "_year"] = key.dt.year
            df[col + "_month"] = key.dt.month
            df = df.drop(columns=[col])
    return b.features(df, dict(cfg, time=None))


def run_one(b, cfg, out, peers=True):
    """Splits cfg's dataset, writes its test rows, and (with peers) fits
    and scores the peers; None without peers."""
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    df, n_raw = b.load(cfg)
    tr_idx, te_idx, rule = split(b, df, cfg)
    X, num, cat, idlike = features(b, df, cfg)
    task = cfg["task"]
    ylab = df[cfg["target"]].astype(str)  # the manifest's labels are strings ("1", "yes")
    classes = None
    if task == "regression":
        y = df[cfg["target"]].astype(float).to_numpy()
    else:
        if task == "binary":
            if cfg["positive"] not in set(ylab):
                raise ValueError(f"{cfg['name']}: positive class {cfg['positive']!r} not in the target")
            classes = [c for c in sorted(ylab.unique()) if c != cfg["positive"]] + [cfg["positive"]]
        else:
            classes = sorted(ylab.unique())
        y = ylab.map({c: i for i, c in enumerate(classes)}).to_numpy().astype(int)
    pos = {ix: i for i, ix in enumerate(df.index)}
    tr = np.array([pos[i] for i in tr_idx])
    te = np.array([pos[i] for i in te_idx])
    Xtr, Xte, ytr, yte = X.iloc[tr], X.iloc[te], y[tr], y[te]
    n_classes = len(classes) if classes else None

    os.makedirs(os.path.join(out, "splits"), exist_ok=True)
    with open(os.path.join(out, "splits", cfg["name"] + ".test_rows.txt"), "w") as f:
        f.write("\n".join(str(int(i)) for i in te_idx) + "\n")
    if not peers:
        return None

    rows = []
    b.optuna.logging.set_verbosity(b.optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name, linear, est = b.models(task, n_classes)[-1]  # the default XGBoost
        pipe = b.Pipeline([("prep", b.prep(num, cat, linear)), ("m", est)])
        wall, cpu = b.timed_fit(pipe, Xtr, ytr)
        r = dict(model=name, fit_s=wall, fit_cpu_s=cpu)
        r.update(b.metrics(task, yte, *b.predict(pipe, task, Xte)))
        rows.append(r)

        study, tune_wall, tune_cpu = b.tune_xgb(task, n_classes, Xtr, ytr, num, cat, b.DEFAULT_TRIALS)
        pipe = b.Pipeline([("prep", b.prep(num, cat, False)),
                           ("m", b.xgb_model(task, n_classes, study.best_params))])
        wall, cpu = b.timed_fit(pipe, Xtr, ytr)
        r = dict(model=f"XGBoost Optuna-TPE({b.DEFAULT_TRIALS} trials)", fit_s=wall, fit_cpu_s=cpu,
                 tune_s=tune_wall, tune_cpu_s=tune_cpu)
        r.update(b.metrics(task, yte, *b.predict(pipe, task, Xte)))
        rows.append(r)
    return dict(name=cfg["name"], path=cfg["path"], target=cfg["target"], task=task,
                time_column=cfg["time_column"], rows_in_file=n_raw, rows_used=len(df),
                n_train=len(tr), n_test=len(te), n_num=len(num), n_cat=len(cat),
                dropped_idlike=idlike, classes=classes, split_rule=rule,
                optuna_trials=b.DEFAULT_TRIALS, optuna_best_params=study.best_params,
                optuna_best_cv=study.best_value, load_avg_start=load0,
                load_avg_end=os.getloadavg()[0], wall_s=time.perf_counter() - t0, rows=rows)


def cost(m):
    """Rough cost of a dataset for ordering the run: rows x cols x classes."""
    k = 1
    if m["task"] == "multiclass":
        k = len(pd.read_csv(m["_abs"], usecols=[m["target"]])[m["target"]].unique())
    return int(m["rows"]) * int(m["cols"]) * k


def main():
    args = sys.argv[1:]
    splits_only = "--splits-only" in args
    args = [a for a in args if a != "--splits-only"]
    if len(args) < 2 and "--list" not in args:
        sys.exit(__doc__)
    shared = args[0]
    manifest = read_manifest(shared)
    chosen = sample(manifest)
    if "--list" in args:
        w = csv.writer(sys.stdout, lineterminator="\n")
        cols = ["file", "target", "task", "time_column", "positive_class", "rows", "cols"]
        w.writerow(cols)
        for m in sorted(chosen, key=lambda m: (m["task"], m["file"])):
            w.writerow([m[c] for c in cols])
        return
    out, want = args[1], set(args[2:])
    if want:
        chosen = [m for m in manifest if os.path.splitext(m["file"])[0] in want]
        if len(chosen) != len(want):
            sys.exit(f"unknown names: {sorted(want - {os.path.splitext(m['file'])[0] for m in chosen})}")
    for m in chosen:
        m["_abs"] = os.path.abspath(os.path.join(shared, "datasets", "meta", m["file"]))
    chosen.sort(key=cost)
    b = load_baselines(shared)
    os.makedirs(out, exist_ok=True)
    versions = {"python": platform.python_version(), "scikit-learn": b.sklearn.__version__,
                "xgboost": b.xgb.__version__, "optuna": b.optuna.__version__,
                "pandas": pd.__version__, "numpy": np.__version__, "cpu count": os.cpu_count()}
    load_before = f"{os.getloadavg()[0]:.1f}"
    t0 = time.perf_counter()
    results, done = [], []
    for m in chosen:
        cfg = cfg_of(m)
        print(f"== {cfg['name']}", flush=True)
        res = run_one(b, cfg, out, peers=not splits_only)
        done.append(m)
        if res is not None:
            results.append(res)
            for r in res["rows"]:
                print(f"  {r['model']:<30} " + json.dumps({k: round(v, 4) for k, v in r.items() if k != "model"}),
                      flush=True)
            # Rewritten after each dataset so that a run cut short is usable.
            with open(os.path.join(out, "peers.json"), "w") as f:
                json.dump(dict(versions=versions, elapsed_s=time.perf_counter() - t0,
                               load_before=load_before, load_after=f"{os.getloadavg()[0]:.1f}",
                               results=results), f, indent=1, default=float)
        with open(os.path.join(out, "manifest.csv"), "w", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["file", "target", "task", "time_column", "positive_class", "test_rows"])
            for d in done:
                w.writerow([d["_abs"], d["target"], d["task"], d["time_column"], d["positive_class"],
                            os.path.join("splits", os.path.splitext(d["file"])[0] + ".test_rows.txt")])
    print(f"done in {(time.perf_counter() - t0) / 60:.1f} min")


if __name__ == "__main__":
    main()
