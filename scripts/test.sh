#!/usr/bin/env bash
# Install everything the tests need (system packages too), then run every gate and test.
# Uses the active virtual environment, or creates and uses .venv (scripts/venv.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v node >/dev/null 2>&1 || missing+=(nodejs)  # the fast-server benchmark (#7)
if ((${#missing[@]})); then
    echo "installing system packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

. scripts/venv.sh
python -m pip install -q --disable-pip-version-check -e ".[dev]"

python scripts/gates.py  # the lint and typing gates, the same as nox's
echo "== pytest"
status=0
python -m pytest "$@" || status=$?
if ((status == 5)); then
    echo "scripts/test.sh: pytest ran no tests (exit 5): check the arguments: $*" >&2
fi
exit "$status"
