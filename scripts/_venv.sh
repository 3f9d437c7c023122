# Sourced by scripts/run and scripts/test: create or reuse the virtualenv and
# install requirements.txt into it (again only when the file changes).
#   PYTHON  interpreter to build the venv with (default: python3; must be 3.11+)
#   VENV    the virtualenv folder (default: .venv)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
case "$VENV" in /*) ;; *) VENV="$PWD/$VENV" ;; esac  # absolute: scripts re-run themselves

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: $PYTHON is missing or older than Python 3.11; set PYTHON=/path/to/python3.11+" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating virtualenv $VENV with $("$PYTHON" --version)"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
wanted="$("$VENV/bin/python" -c 'import hashlib,sys; print(hashlib.sha256(open("requirements.txt","rb").read()).hexdigest())')"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "==> installing requirements.txt into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
    echo "$wanted" > "$stamp"
fi
export PATH="$VENV/bin:$PATH"
