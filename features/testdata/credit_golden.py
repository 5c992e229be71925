#!/usr/bin/python3
"""Writes credit_golden.json: the peers' preprocessing of credit_data.

Mirrors features() and prep() of shared/anchors/baselines.py (scikit-learn
1.2.1, pandas 1.5.3, Debian's /usr/bin/python3) on the fixed split in
credit_data.test_rows.txt (a copy of shared/anchors/splits/). Fitted on
TRAIN only; 40 transformed TEST rows (see picked) are stored for the linear
(median impute + StandardScaler, one-hot) and tree (median impute, ordinal)
preprocessing. Run from features/testdata:

    /usr/bin/python3 credit_golden.py
"""
import json

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

df = pd.read_csv("../../testdata/credit_data.csv", keep_default_na=True)
test = [int(s) for s in open("credit_data.test_rows.txt").read().split()]
train = sorted(set(range(len(df))) - set(test))
X = df.drop(columns=["Status"])
cat = [c for c in X.columns if X[c].dtype == object]
num = [c for c in X.columns if c not in cat]
X[cat] = X[cat].fillna("__missing__")
X[num] = X[num].astype(float)

# The first 30 TEST rows, then the first 10 other TEST rows with a missing value.
raw = df.drop(columns=["Status"])
picked = test[:30] + [r for r in test[30:] if raw.iloc[r].isna().any()][:10]
out = {"test_rows": picked}
for name, linear in (("linear", True), ("tree", False)):
    if linear:
        enc = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
        numt = Pipeline([("imp", SimpleImputer(strategy="median")), ("sc", StandardScaler())])
    else:
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        numt = SimpleImputer(strategy="median")
    ct = ColumnTransformer([("num", numt, num), ("cat", enc, cat)], remainder="drop")
    ct.fit(X.iloc[train])
    names = [n.split("__", 1)[1] for n in ct.get_feature_names_out()]
    Z = ct.transform(X.iloc[picked])
    out[name] = {"names": names, "x": np.asarray(Z, dtype=float).tolist()}

with open("credit_golden.json", "w") as f:
    json.dump(out, f, indent=0)
