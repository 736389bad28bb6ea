"""Reliability on PostgreSQL: concurrent workers never claim one message twice, and a
worker killed with SIGKILL in the middle of a large dispatch loses nothing and sends
nothing twice once a worker runs again (checked by the gateway's count of handset
deliveries and unique keys, and by one Interaction per message)."""

import os
import signal
import subprocess
import sys
import threading
import time
from urllib.parse import quote

import pytest
from django.db import connection

from clientele.channels import services
from clientele.channels.choices import MessageStatus
from clientele.channels.dispatcher import Dispatcher
from clientele.channels.models import OutboxMessage
from clientele.channels.services import NewMessage
from clientele.channels.testing import LocalGateway
from clientele.core.testing import only_on_postgres
from clientele.customers.models import Interaction

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

# The issue asks for 100,000; the suite uses 20,000 to stay near a minute, and
# bench/bench_dispatch.py runs the full size. Set the variable to run more here.
RELIABILITY_MESSAGES = int(os.environ.get("CLIENTELE_RELIABILITY_MESSAGES", "20000"))


@pytest.fixture(autouse=True)
def postgres():
    only_on_postgres()


def _fill(customer_ids, count, prefix):
    services.enqueue(
        NewMessage(
            channel="sms",
            customer_id=customer_ids[i % len(customer_ids)],
            recipient=f"+86139{i:08d}",
            body=f"Message {i}",
            dedup_key=f"{prefix}:{i}:0:sms",
        )
        for i in range(count)
    )


def test_concurrent_workers_never_send_a_message_twice(policy, make_customers, settings):
    ids = make_customers(200)
    _fill(ids, 6000, "concurrent")
    errors = []
    with LocalGateway(keep_messages=False) as gateway:
        settings.CLIENTELE_SMS_URL = gateway.url

        def work(n):
            try:
                Dispatcher(worker_id=f"w{n}", batch_size=100).run(stop_when="idle", idle_sleep=0)
            except Exception as error:  # reported by the main thread
                errors.append(error)
            finally:
                connection.close()

        threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        stats = gateway.stats()
    assert not errors
    assert stats["sent"] == 6000 and stats["unique_keys"] == 6000
    assert stats["duplicates"] == 0  # no row was claimed by two workers
    assert set(OutboxMessage.objects.values_list("attempts", flat=True)) == {1}
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == 6000
    assert Interaction.objects.count() == 6000


def _database_url() -> str:
    db = connection.settings_dict
    credentials = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(env, *extra):
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clientele.cli",
            "manage",
            "dispatch_outbox",
            "--lease",
            "3",
            "--batch-size",
            "500",
            "--idle-sleep",
            "0.2",
            "--until",
            "done",
            *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_worker_killed_mid_dispatch_loses_nothing_and_sends_nothing_twice(
    policy, make_customers, tmp_path
):
    total = RELIABILITY_MESSAGES
    ids = make_customers(1000)
    _fill(ids, total, "kill")
    with LocalGateway(keep_messages=False) as gateway:
        env = {
            **os.environ,
            "DATABASE_URL": _database_url(),
            "DJANGO_SETTINGS_MODULE": "clientele.channels.tests.dispatch_settings",
            "CLIENTELE_DATA_DIR": str(tmp_path / "data"),
            "CLIENTELE_SMS_URL": gateway.url,
            "LOG_LEVEL": "ERROR",
        }
        first = _worker(env)
        deadline = time.monotonic() + 120
        while gateway.stats()["sent"] < total * 0.3:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline, "the worker did not get going"
            time.sleep(0.02)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        at_kill = gateway.stats()
        in_hand = OutboxMessage.objects.filter(status=MessageStatus.SENDING).count()
        assert at_kill["sent"] < total, "killed too late to prove anything"

        second = _worker(env)
        out, err = second.communicate(timeout=600)
        assert second.returncode == 0, err
        final = gateway.stats()

    print(
        f"\nkill -9 at {at_kill['sent']} of {total} delivered, {in_hand} rows in the dead "
        f"worker's hands; after restart: delivered {final['sent']}, unique keys "
        f"{final['unique_keys']}, repeats absorbed by the idempotency key "
        f"{final['duplicates']}; worker said: {out.strip().splitlines()[-1]}"
    )
    assert final["sent"] == total
    assert final["unique_keys"] == total
    assert not OutboxMessage.objects.filter(
        status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
    ).exists()
    assert OutboxMessage.objects.filter(status=MessageStatus.SENT).count() == total
    assert Interaction.objects.count() == total  # marked sent exactly once per message
