"""Peer side of `tabforge bench shap`: XGBoost's exact TreeSHAP
(Booster.predict(pred_contribs=True)) on a tabforge model exported to XGBoost
JSON and a raw little-endian float64 matrix. Warms up once, times `runs` calls,
prints the median seconds and writes the last contributions as float64.
Arguments: model matrix columns output threads runs. Run with Debian's
/usr/bin/python3 (python3-xgboost 1.7.4)."""
import sys
import time

import numpy as np
import xgboost as xgb

model, xpath, cols, out, threads, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
x = np.fromfile(xpath, dtype="<f8").reshape(-1, cols)
b = xgb.Booster(model_file=model)
b.set_param({"nthread": threads})
cat = any(t == "c" for t in (b.feature_types or []))
d = xgb.DMatrix(x, missing=np.nan, nthread=threads, feature_names=b.feature_names,
                feature_types=b.feature_types, enable_categorical=cat)
b.predict(d, pred_contribs=True)
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    c = b.predict(d, pred_contribs=True)
    times.append(time.perf_counter() - t0)
np.asarray(c, dtype="<f8").tofile(out)
print(sorted(times)[len(times) // 2])
