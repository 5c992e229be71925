#!/bin/sh
# Runs tabforge's TPE and Optuna 3.1's TPESampler (Debian /usr/bin/python3)
# on the same objectives and trial budgets — Branin (50 trials) and
# Hartmann6 (100 trials), 10 seeds each, univariate and multivariate — and
# prints both mean best values beside random search's.
set -eu
cd "$(dirname "$0")/.."
go test ./tune -run 'TestTPEComparableToOptuna$' -count=1 -v | grep -E 'mean best|^(ok|FAIL|---)'
