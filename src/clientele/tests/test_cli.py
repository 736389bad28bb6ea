"""The `clientele` command as a user runs it: in a fresh data folder, as a subprocess."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        CLIENTELE_DATA_DIR=str(tmp_path / "data"),
        DJANGO_SETTINGS_MODULE="clientele.settings",
        HUEY_IMMEDIATE="0",
    )
    env.update(extra)
    return env


def _clientele(*args, env, timeout=120, input_text=None):
    return subprocess.run(
        [sys.executable, "-m", "clientele.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        input=input_text,
    )


def _wait_for(url: str, process, seconds=60) -> int:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.status
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds}s")


def test_migrate_createuser_and_check_work_on_a_fresh_data_folder(tmp_path):
    env = _env(tmp_path)
    assert _clientele("migrate", env=env).returncode == 0
    assert (tmp_path / "data" / "clientele.sqlite3").exists()
    made = _clientele(
        "createuser",
        "anna",
        "--role",
        "marketing_manager",
        "--team",
        "East",
        "--password",
        "A-long-enough-pass-42",
        env=env,
    )
    assert made.returncode == 0, made.stderr
    assert "Marketing manager" in made.stdout
    weak = _clientele("createuser", "bob", "--password", "123", env=env)
    assert weak.returncode != 0
    assert "too short" in weak.stderr
    check = _clientele("check", env=env)
    assert check.returncode == 0
    assert "no issues" in check.stdout
    listed = _clientele("manage", "showmigrations", "customers", env=env)
    assert "[X] 0001_initial" in listed.stdout


@pytest.mark.parametrize("command", ["serve", "web"])
def test_server_commands_serve_the_sign_in_page_and_stop_on_interrupt(tmp_path, command):
    env = _env(tmp_path)
    if command == "web":
        assert _clientele("migrate", env=env).returncode == 0
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clientele.cli",
            command,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/login/", process) == 200
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/core/clientele.css") as css:
            assert b"--brand" in css.read()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"`clientele {command}` did not stop on SIGINT") from None


QUEUE_AN_IMPORT = """
from django.core.files.base import ContentFile
from clientele.core.models import User
from clientele.imports.services import start_import
user = User.objects.get(username="anna")
upload = ContentFile("code,name,kind\\nR-1,Redis Trading,organization\\nR-2,Li Lei,person\\n".encode(), name="c.csv")
print(start_import(user, "customers", upload).pk)
"""


def test_worker_runs_a_job_queued_through_redis(tmp_path):
    """Production shape: the web process queues an import in Redis and a separate
    `clientele worker` process runs it against the same database."""
    import sqlite3
    import uuid

    from clientele.core.testing import need, redis_available

    url = "redis://127.0.0.1:6379/15"
    available, reason = redis_available(url)
    need("Redis", available, reason)
    env = _env(tmp_path, REDIS_URL=url, HUEY_NAME=f"clientele-test-{uuid.uuid4().hex}")
    assert _clientele("migrate", env=env).returncode == 0
    made = _clientele(
        "createuser", "anna", "--role", "marketing_manager", "--password", "A-long-enough-pass-42",
        env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    worker = subprocess.Popen(
        [sys.executable, "-m", "clientele.cli", "worker", "--workers", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        queued = _clientele("manage", "shell", "-c", QUEUE_AN_IMPORT, env=env)
        assert queued.returncode == 0, queued.stderr
        job_id = int(queued.stdout.strip().splitlines()[-1])
        database = sqlite3.connect(tmp_path / "data" / "clientele.sqlite3")
        deadline = time.monotonic() + 60
        status = None
        while time.monotonic() < deadline:
            assert worker.poll() is None, worker.stderr.read()
            (status,) = database.execute(
                "SELECT status FROM imports_importjob WHERE id = ?", (job_id,)
            ).fetchone()
            if status not in ("queued", "running"):
                break
            time.sleep(0.3)
        assert status == "succeeded"
        codes = [row[0] for row in database.execute("SELECT code FROM customers_customer")]
        assert sorted(codes) == ["R-1", "R-2"]
        database.close()
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
