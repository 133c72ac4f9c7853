#!/usr/bin/env bash
# Runs the benchmarks and writes docs/benchmarks.md. Peers (ducc0, NumPy) run
# from a private virtual environment in .venv/bench, created on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."

venv=.venv/bench
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check ducc0 numpy threadpoolctl

out=docs/benchmarks.md
tmp=$(mktemp)
.build/release/meanfield-bench --python "$venv/bin/python" > "$tmp"
mv "$tmp" "$out"
echo "Wrote $out"
