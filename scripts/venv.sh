# Source this file from the repository's root: `. scripts/venv.sh`.
#
# It leaves an active virtual environment ($VIRTUAL_ENV set) as it is; otherwise it
# creates `.venv` with `python3 -m venv` (once) and activates it. Stock Debian ships
# venv's pip bootstrap (ensurepip) in the separate `python3-venv` package: when it is
# missing and we run as root, it is installed with apt-get first.
#
# POSIX sh, no `set -e` and no `exit`: it runs inside the caller's shell. Its status is
# non-zero when no environment could be activated, so `. scripts/venv.sh && …` stops.

_truelayer_async_venv() {
    if [ -n "${VIRTUAL_ENV:-}" ]; then
        echo "scripts/venv.sh: using the active virtual environment $VIRTUAL_ENV"
        return 0
    fi
    if [ ! -f .venv/bin/activate ]; then
        if ! command -v python3 >/dev/null 2>&1; then
            echo "scripts/venv.sh: python3 not found; install Python 3.10 or newer" >&2
            return 1
        fi
        if ! python3 -m venv .venv; then
            if python3 -m ensurepip --version >/dev/null 2>&1; then
                echo "scripts/venv.sh: python3 -m venv .venv failed" >&2
                return 1
            fi
            if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
                echo "scripts/venv.sh: python3 -m venv needs the python3-venv package:" \
                    "sudo apt-get install python3-venv" >&2
                return 1
            fi
            echo "scripts/venv.sh: installing python3-venv (python3 -m venv needs it)"
            rm -rf .venv
            apt-get update -qq || return 1
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv || return 1
            python3 -m venv .venv || return 1
        fi
    fi
    . .venv/bin/activate || return 1
    echo "scripts/venv.sh: using $VIRTUAL_ENV"
}

if _truelayer_async_venv; then
    unset -f _truelayer_async_venv
else
    unset -f _truelayer_async_venv
    false
fi
