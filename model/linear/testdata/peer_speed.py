#!/usr/bin/python3
"""Time scikit-learn's linear models on the speed-benchmark problem.

Usage: /usr/bin/python3 peer_speed.py [CASE ...]    (CASE: linreg ridge logreg)

The data is generate() of shared/anchors/speed_bench.py (copied below:
SplitMix64 features, Friedman-1 target, ybin = y > 14.422686576843262),
1,000,000 rows x 28 float32 features; train = first 800,000 rows, test = the
rest, as in shared/anchors/speed.md. Each case runs in a fresh subprocess
limited to 2 threads; it prints one JSON line per case with the fit time
(wall and CPU seconds, timed region = the fit call only), peak RSS (MB) and
the holdout metric. The Go side is BenchmarkFit{OLS,Ridge,Logistic} in
model/linear. Run with Debian's python (scikit-learn 1.2.1).
"""
import json
import os
import resource
import subprocess
import sys
import time

for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[v] = "2"

N, P, THR = 1_000_000, 28, 14.422686576843262


def splitmix64(seed, start, count):
    import numpy as np
    k = np.arange(start + 1, start + count + 1, dtype=np.uint64)
    z = np.uint64(seed) + k * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def generate(n=N):
    import numpy as np
    X = (splitmix64(0, 0, n * P) >> np.uint64(40)).astype(np.float32)
    X *= np.float32(2.0 ** -24)
    X = X.reshape(n, P)
    u = (splitmix64(1, 0, n * 12) >> np.uint64(11)).astype(np.float64)
    u *= 2.0 ** -53
    u = u.reshape(n, 12)
    e = u[:, 0].copy()
    for m in range(1, 12):
        e = e + u[:, m]
    e = e - 6.0
    x = [X[:, j].astype(np.float64) for j in range(5)]
    y = ((((10.0 * np.sin(np.pi * x[0] * x[1]) + 20.0 * ((x[2] - 0.5) * (x[2] - 0.5)))
           + 10.0 * x[3]) + 5.0 * x[4]) + e).astype(np.float32)
    yb = (y > np.float32(THR)).astype(np.uint8)
    return X, y, yb


def worker(case):
    import numpy as np
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.metrics import r2_score, roc_auc_score
    X, y, yb = generate()
    ntr = N * 8 // 10
    Xtr, Xte = X[:ntr], X[ntr:]
    if case == "linreg":
        m, target = LinearRegression(n_jobs=2), y[:ntr]
    elif case == "ridge":
        m, target = Ridge(alpha=1.0), y[:ntr]
    else:
        m, target = LogisticRegression(solver="lbfgs", C=1.0, max_iter=1000), yb[:ntr]
    w0, c0 = time.perf_counter(), time.process_time()
    m.fit(Xtr, target)
    wall, cpu = time.perf_counter() - w0, time.process_time() - c0
    out = dict(case=case, fit_s=wall, cpu_s=cpu,
               peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
    if case == "logreg":
        out["auc"] = float(roc_auc_score(yb[ntr:], m.predict_proba(Xte)[:, 1]))
        out["n_iter"] = int(m.n_iter_[0])
    else:
        out["r2"] = float(r2_score(y[ntr:], m.predict(Xte)))
    print(json.dumps(out), flush=True)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        worker(sys.argv[2])
        return
    for case in sys.argv[1:] or ["linreg", "ridge", "logreg"]:
        subprocess.run([sys.executable, __file__, "--worker", case], check=True)


if __name__ == "__main__":
    main()
