"""Helpers for tests that need a real server (PostgreSQL, Redis, SMTP, Chromium).

On a bare laptop such a test skips with a clear reason; with CLIENTELE_REQUIRE_SERVICES=1
(as in CI) it fails instead, so nothing is silently left untested."""

import json
import os
import subprocess
import sys

import pytest


def services_required() -> bool:
    return os.environ.get("CLIENTELE_REQUIRE_SERVICES", "").strip() in {"1", "true", "yes"}


def need(service: str, available: bool, reason: str = "") -> None:
    """Skip (or fail, in CI) unless the service is available."""
    if available:
        return
    message = f"{service} is not available{': ' + reason if reason else ''}"
    if services_required():
        pytest.fail(f"{message} (CLIENTELE_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def redis_available(url: str = "redis://127.0.0.1:6379/15") -> tuple[bool, str]:
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except Exception as error:  # any connection problem means "not here"
        return False, str(error)
    return True, ""


def postgres_in_use() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def only_on_postgres() -> None:
    """Skip a PostgreSQL-only test while the suite runs on SQLite. This is no missing
    service: the suite runs a second time with DATABASE_URL pointing at PostgreSQL (as
    .ci/run does), and there these tests run, and fail if the server is not reachable."""
    if not postgres_in_use():
        pytest.skip("PostgreSQL only: runs when the suite runs with DATABASE_URL=postgres://...")


def report_on_sqlite_file(tmp_path, module: str, function: str, **env) -> dict:
    """Call `module.function()` in a child process on a migrated SQLite database file and
    return the dict it reports. For tests that need several connections at once, which
    the suite's in-memory SQLite test database cannot give."""
    script = (
        "import json, django\n"
        "django.setup()\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        f"from {module} import {function}\n"
        f"print('REPORT' + json.dumps({function}()))\n"
    )
    environment = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'clientele.sqlite3'}",
        CLIENTELE_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="clientele.test_settings",
        **env,
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("REPORT"))
    return json.loads(line[len("REPORT") :])
