"""Settings for the test suite: a throw-away data folder and jobs run immediately unless a
test starts a real worker. DATABASE_URL still chooses SQLite or PostgreSQL."""

import os
import tempfile

os.environ.setdefault("CLIENTELE_DATA_DIR", tempfile.mkdtemp(prefix="clientele-test-"))
os.environ.setdefault("HUEY_IMMEDIATE", "1")

from .settings import *  # noqa: E402,F403

ALLOWED_HOSTS = ["*"]

# Jobs run at once in tests, so a classification after every import would slow every
# import test; the tests of that hook turn it on.
CLIENTELE_CLASSIFY_AFTER_IMPORT = False

# Several runs of the suite may share one PostgreSQL server (two engineers, or a benchmark
# beside a test run). Each run gets its own test database, so one run never drops the
# database another is using; CLIENTELE_TEST_DATABASE_NAME still names it explicitly.
if DATABASES["default"]["ENGINE"].endswith("postgresql") and "TEST" not in DATABASES["default"]:  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_clientele_{os.getpid()}"}  # noqa: F405
