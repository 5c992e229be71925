"""Mean best value of Optuna's TPE on Branin and Hartmann6.

Run with Debian's interpreter, which has python3-optuna (3.1):

    /usr/bin/python3 tune/testdata/optuna_bench.py [SEEDS] [BRANIN_TRIALS] [HARTMANN_TRIALS]

For each function it runs SEEDS studies (seeds 1..SEEDS) of univariate and
multivariate TPESampler with Optuna's defaults and prints one JSON object:
{"branin": {"tpe": mean_best, "tpe_multivariate": mean_best, "trials": n},
 "hartmann6": {...}}. The functions and budgets match tune's
TestTPEComparableToOptuna.
"""
import json
import math
import sys
import warnings

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def branin(trial):
    x1 = trial.suggest_float("x1", -5, 10)
    x2 = trial.suggest_float("x2", 0, 15)
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
]


def hartmann6(trial):
    x = [trial.suggest_float(f"x{j}", 0, 1) for j in range(6)]
    f = 0.0
    for i in range(4):
        s = sum(A[i][j] * (x[j] - P[i][j] * 1e-4) ** 2 for j in range(6))
        f -= ALPHA[i] * math.exp(-s)
    return f


def mean_best(objective, trials, seeds, multivariate):
    total = 0.0
    for seed in range(1, seeds + 1):
        sampler = optuna.samplers.TPESampler(seed=seed, multivariate=multivariate)
        study = optuna.create_study(sampler=sampler)
        study.optimize(objective, n_trials=trials)
        total += study.best_value
    return total / seeds


def main():
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    nb = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    nh = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    out = {"optuna": optuna.__version__}
    for name, fn, n in (("branin", branin, nb), ("hartmann6", hartmann6, nh)):
        out[name] = {
            "trials": n,
            "tpe": mean_best(fn, n, seeds, False),
            "tpe_multivariate": mean_best(fn, n, seeds, True),
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
