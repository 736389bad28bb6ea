"""Settings for the test suite: a throw-away data folder and jobs run immediately unless a
test starts a real worker. DATABASE_URL still chooses SQLite or PostgreSQL."""

import os
import tempfile

os.environ.setdefault("CLIENTELE_DATA_DIR", tempfile.mkdtemp(prefix="clientele-test-"))
os.environ.setdefault("HUEY_IMMEDIATE", "1")

from .settings import *  # noqa: E402,F403

ALLOWED_HOSTS = ["*"]
