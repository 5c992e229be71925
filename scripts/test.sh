#!/usr/bin/env bash
# Runs tabforge's whole test suite on a fresh Debian machine with Go:
# installs the peers the side-by-side tests compare against (only when
# missing), then vet, the unit and integration tests, and a short fuzz run.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
/usr/bin/python3 -c 'import sklearn, xgboost, optuna, pandas' 2>/dev/null ||
	need+=(python3-sklearn python3-xgboost python3-optuna python3-pandas)
# The report test opens the HTML report in Debian's headless Chromium.
[ -x /usr/bin/chromium ] || need+=(chromium)
if ((${#need[@]})); then
	echo "test.sh: installing ${need[*]}" >&2
	if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

export CGO_ENABLED=0
echo "== build (static) and vet" >&2
go build ./...
go vet ./...
# The object-store drivers are behind build tags; they must keep compiling.
go vet -tags 's3 gcs hdfs' ./artifact/
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt needed: $unformatted" >&2
	exit 1
fi

echo "== fuzz the CSV reader (20 s)" >&2
go test -run '^$' -fuzz '^FuzzReadCSV$' -fuzztime 20s ./frame/

echo "== tests" >&2
go test -count=1 -timeout 30m ./...
