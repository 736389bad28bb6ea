"""Settings for a `dispatch_outbox` subprocess started by the tests: the project's
settings plus the gateway URL the test passes in the environment (the project's settings
may not read CLIENTELE_SMS_URL from the environment)."""

import os

from clientele.settings import *  # noqa: F403

CLIENTELE_SMS_URL = os.environ.get("CLIENTELE_SMS_URL", "")
CLIENTELE_SMS_BATCH_SIZE = int(os.environ.get("CLIENTELE_SMS_BATCH_SIZE", "100"))
