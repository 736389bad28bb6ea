"""Helpers for tests that need a real server (PostgreSQL, Redis, SMTP, Chromium).

On a bare laptop such a test skips with a clear reason; with CLIENTELE_REQUIRE_SERVICES=1
(as in CI) it fails instead, so nothing is silently left untested."""

import os

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
