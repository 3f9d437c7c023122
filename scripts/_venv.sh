# Sourced by scripts/run and scripts/test: create or reuse the virtualenv and
# install the requirement files the caller needs (again only when one changes).
#   PYTHON        interpreter to build the venv with (default: python3; must be 3.11+)
#   VENV          the virtualenv folder (default: .venv)
#   REQUIREMENTS  set by the caller: the files to install, e.g. "requirements-dev.txt"
#                 (default: requirements.txt, the runtime only)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac  # absolute: scripts re-run themselves
read -r -a requirement_files <<< "${REQUIREMENTS:-requirements.txt}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: $PYTHON is missing or older than Python 3.11; set PYTHON=/path/to/python3.11+" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtualenv $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
fi

# One stamp per file (the sha256 of its text) in $VENV/.requirements/, covering the
# files asked for and those they include (-r): installing the dev set stamps the
# runtime too, so switching between scripts/test and scripts/run reinstalls nothing.
stamps="$VENV/.requirements"
requirement_hashes() {  # "file sha256" for each file and everything it includes
    "$VENV/bin/python" - "$@" <<'PY'
import hashlib, sys
from pathlib import Path
seen = []
def visit(name):
    if name in seen:
        return
    seen.append(name)
    text = Path(name).read_bytes()
    for line in text.decode().splitlines():
        if line.startswith(("-r ", "--requirement ")):
            visit(line.split(None, 1)[1].strip())
for name in sys.argv[1:]:
    visit(name)
for name in seen:
    print(name, hashlib.sha256(Path(name).read_bytes()).hexdigest())
PY
}
stale=false
while read -r file hash; do
    if [ "$(cat "$stamps/$file.sha256" 2>/dev/null)" != "$hash" ]; then stale=true; fi
done < <(requirement_hashes "${requirement_files[@]}")
if [ "$stale" = true ]; then
    echo "==> installing ${requirement_files[*]} into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    pip_args=()
    for file in "${requirement_files[@]}"; do pip_args+=(-r "$file"); done
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_args[@]}"
    mkdir -p "$stamps"
    while read -r file hash; do
        echo "$hash" > "$stamps/$file.sha256"
    done < <(requirement_hashes "${requirement_files[@]}")
fi
export PATH="$VENV/bin:$PATH"
