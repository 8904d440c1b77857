#!/bin/bash
# Never-crash sweep (#5): flake8 with the plugin over the whole real corpus under an
# older Python, where files using newer syntax (match statements...) do not parse.
# Usage: benchmarks/sweep_older_python.sh /path/to/python3.9 [corpus-src-dir]
# Prints per project: exit status, seconds, E999 count, DBC findings, tracebacks.
set -u
python=${1:?usage: $0 PYTHON [CORPUS_SRC]}
src=${2:-$HOME/.cache/flake8-dbconstraints/corpus/src}
here=$(cd "$(dirname "$0")/.." && pwd)
venv=$(mktemp -d)/venv
"$python" -m venv "$venv" && "$venv/bin/pip" install -q "$here" >/dev/null
out=$(mktemp -d)
"$venv/bin/flake8" --version
for d in "$src"/*/; do
  name=$(basename "$d")
  start=$(date +%s)
  (cd "$d" && "$venv/bin/flake8" --isolated --dbc-no-cache --select DBC,E999 --jobs=2 . >"$out/$name.out" 2>"$out/$name.err")
  rc=$?
  echo "$name rc=$rc seconds=$(( $(date +%s) - start )) e999=$(grep -c ' E999 ' "$out/$name.out")" \
       "dbc=$(grep -c ' DBC' "$out/$name.out") traceback=$(grep -c Traceback "$out/$name.err")"
done
