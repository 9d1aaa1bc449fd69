"""Developer sessions: ``nox -s tests``, ``lint``, ``typing``, ``examples``, ``docs``, ``bench``,
``soak``."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typing", "tests", "examples"]
nox.options.reuse_existing_virtualenvs = True

# The lint and typing gates are listed once, in scripts/gates.py (scripts/test.sh too).
GATES = "scripts/gates.py"


@nox.session
def tests(session: nox.Session) -> None:
    """The whole test suite."""
    session.install("-e", ".[dev]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("python", GATES, "lint")


@nox.session
def typing(session: nox.Session) -> None:
    """mypy --strict on the package and on the public-API typing file."""
    session.install("-e", ".[dev]")
    session.run("python", GATES, "typing")


@nox.session
def examples(session: nox.Session) -> None:
    """Run every example against the embedded emulator."""
    session.install("-e", ".[dev]")
    session.run("pytest", "tests/examples", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into site/ (warnings are errors); ``nox -s docs -- serve``
    serves it with live reload instead."""
    session.install("-e", ".[docs]")
    if session.posargs[:1] == ["serve"]:
        session.run("mkdocs", "serve", *session.posargs[1:])
    else:
        session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Run the benchmarks and write benchmarks/RESULTS.md."""
    session.install("-e", ".[dev]")
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The long fault-injection soak (about 60 s, 200 users)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "tests/reliability", "-m", "slow", "--soak-long", *session.posargs)
