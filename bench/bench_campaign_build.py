"""Benchmark: build a campaign of N targets and send its first wave, on PostgreSQL.

    python bench/bench_campaign_build.py                        # 1,000,000 targets
    python bench/bench_campaign_build.py --targets 100000 --profile
    python bench/bench_campaign_build.py --customers 1000000    # 850,000 targets
    python bench/bench_campaign_build.py --reuse                # keep the loaded customers

Target (issue 4, Performance): building a campaign of 1,000,000 targets with holdout,
eligibility and contact-policy checks <= 30 s.

Data, generated set-based (INSERT ... SELECT generate_series, no ORM row by row) into its
own database (recreated, or reused with --reuse when it already holds N customers): N
customers owned by 50 account managers, 90% active, 5% in a city the offer excludes (so
17 customers in 20 are targets: 1,176,471 customers give 1,000,000 targets), 5%
without a phone, 2% do-not-disturb; SMS consents (half opted in, 4% opted out); 2.5% of
the customers already had two marketing SMS this week (the SMS cap is 2 a week) and 1%
are booked today by a rival campaign (arbitration: ours waits for tomorrow).

The campaign: audience the segment `status = active`, one offer whose eligibility
excludes the city, a 10% holdout, wave 1 an SMS on day 0 with merge fields (name, code,
offer, coupon, manager). Timed, each in this process:

* build: `building.build` -- the segment and eligibility as a queryset, the targets (with
  the holdout drawn per customer) and one task per treated target;
* first wave: `building.run_due_waves` -- arbitration, the contact policy (consent,
  do-not-disturb, address, frequency caps), the suppressions recorded, the messages
  written to the outbox, the tasks moved on.

Checked: the holdout share within 4 standard deviations of the binomial; messages +
suppressed (every reason, arbitration included) + holdout = targets; every message's
dedup key unique; one task per treated target.

The baseline, in the same process: `INSERT INTO t SELECT generate_series(1, N)` into an
unindexed one-column table -- the server writing N rows and nothing else. The ratio
(build + wave) / baseline is what survives a noisy machine.
"""

import argparse
import cProfile
import datetime
import io
import math
import os
import pstats
import sys
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clientele_bench_build"
TARGET_SECONDS = 30.0
MANAGERS = 50
CAMPAIGN_NAME = "Bench build"
RIVAL_NAME = "Bench rival"
OFFER_NAME = "Bench offer: prepay 168, get 504"
EXCLUDED_CITY = "Lhasa"
CITIES = ["Shanghai", "Beijing", "Hangzhou", "Suzhou", "Nanjing", "Chengdu", "Wuhan", "Xiamen"]
HOLDOUT_RATE = 0.10


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--targets",
        type=int,
        default=1_000_000,
        help="build a campaign of this many targets (the customers needed are generated)",
    )
    parser.add_argument(
        "--customers", type=int, help="generate this many customers instead of --targets"
    )
    parser.add_argument("--database", default=DEFAULT_URL, help="a PostgreSQL URL")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="reuse the database if it already holds exactly --customers customers "
        "(otherwise load it); either way it is kept afterwards",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile build and wave")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    if args.customers is None:
        args.customers = customers_for(args.targets)
    return args


def is_target(g: int) -> bool:
    """Whether generated customer number g is in the campaign's audience: active (g % 10
    != 0, see `load`) and not in the excluded city (g % 20 != 1)."""
    return g % 10 != 0 and g % 20 != 1


def targets_among(customers: int) -> int:
    """How many of customers 1..N are targets."""
    blocks, left = divmod(customers, 20)
    return blocks * 17 + sum(is_target(g) for g in range(blocks * 20 + 1, customers + 1))


def customers_for(targets: int) -> int:
    """The fewest customers whose audience holds `targets` targets (17 in every 20)."""
    blocks, left = divmod(targets, 17)
    customers = blocks * 20
    g = customers
    while left:
        g += 1
        left -= is_target(g)
    return g


def _admin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.path.lstrip("/"), urlunsplit(parts._replace(path="/postgres"))


def database_customers(url: str) -> int | None:
    """How many customers the benchmark database holds (None: no database or no table)."""
    import psycopg

    name, admin = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('customers_customer')").fetchone()[0]:
            return None
        return conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]


def recreate(url: str) -> None:
    import psycopg

    name, admin = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(url: str) -> None:
    import psycopg

    name, admin = _admin(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientele.settings"
    os.environ.setdefault(
        "CLIENTELE_DATA_DIR", os.path.join(tempfile.gettempdir(), "clientele-bench-build")
    )
    os.environ["LOG_LEVEL"] = "ERROR"
    import django

    django.setup()


# --- data ----------------------------------------------------------------------------------


def load(customers: int) -> float:
    """Migrate and generate the customers, consents and earlier outbox rows set-based.
    Returns the seconds it took."""
    from django.core.management import call_command
    from django.db import connection, transaction

    from clientele.campaigns.models import Campaign
    from clientele.channels.models import ContactPolicy
    from clientele.core.models import User

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    ContactPolicy.current()  # the default rules: at most 2 marketing SMS a week
    managers = [
        User.objects.create(
            username=f"manager{n:02d}", first_name="Manager", last_name=f"No. {n}"
        ).pk
        for n in range(MANAGERS)
    ]
    rival = Campaign.objects.create(name=RIVAL_NAME, status="active", priority=9)
    now = datetime.datetime.now(datetime.UTC)
    cities = "ARRAY[" + ", ".join(f"'{c}'" for c in CITIES) + "]"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit TO off")
        cursor.execute(
            "INSERT INTO customers_customer (created_at, updated_at, code, kind, name, phone,"
            " phone2, email, email2, card_number, province, city, district, address, birthday,"
            " gender, industry, size, annual_demand, demand_unit, source, status,"
            " do_not_disturb, custom_fields, notes, owner_id, parent_id, team_id)"
            " SELECT %(now)s, %(now)s, 'B' || lpad(g::text, 7, '0'), 'person',"
            " 'Customer ' || g,"
            " CASE WHEN g %% 20 = 5 THEN '' ELSE '+86137' || lpad(g::text, 8, '0') END, '',"
            " 'c' || g || '@example.com', '', 'K' || lpad(g::text, 9, '0'), '',"
            f" CASE WHEN g %% 20 = 1 THEN %(excluded)s ELSE ({cities})[1 + g %% 8] END,"
            " '', '', NULL, '', '', '', NULL, '', 'import',"
            " CASE WHEN g %% 10 = 0 THEN 'inactive' ELSE 'active' END, g %% 50 = 7, '{}', '',"
            " (%(managers)s::bigint[])[1 + g %% %(count)s], NULL, NULL"
            " FROM generate_series(1, %(n)s) g",
            {
                "now": now,
                "excluded": EXCLUDED_CITY,
                "managers": managers,
                "count": len(managers),
                "n": customers,
            },
        )
        cursor.execute(
            "INSERT INTO customers_consent (created_at, updated_at, channel, status,"
            " recorded_at, source, customer_id)"
            " SELECT %(now)s, %(now)s, 'sms',"
            " CASE WHEN c.id %% 25 = 3 THEN 'opted_out' ELSE 'opted_in' END, %(now)s, 'bench',"
            " c.id FROM customers_customer c WHERE c.id %% 2 = 0 OR c.id %% 25 = 3",
            {"now": now},
        )
        # Two marketing SMS this week for 2.5% (the cap), a rival booking today for 1%.
        outbox_columns = (
            "INSERT INTO channels_outboxmessage (created_at, updated_at, channel, recipient,"
            " subject, body, dedup_key, campaign_id, task_id, wave, marketing, priority,"
            " status, due_at, next_attempt_at, attempts, claimed_by, provider_message_id,"
            " delivery_status, delivery_detail, error, customer_id, sent_at)"
        )
        cursor.execute(
            outbox_columns + " SELECT %(now)s, %(now)s, 'sms', '+86137' || c.id, '',"
            " 'Earlier message', 'prior:' || c.id || ':' || k, NULL, NULL, NULL, true, 0,"
            " 'sent', %(now)s - k * interval '1 day', %(now)s - k * interval '1 day', 1, '',"
            " '', '', '', '', c.id, %(now)s - k * interval '1 day'"
            " FROM customers_customer c CROSS JOIN generate_series(1, 2) k"
            " WHERE c.id %% 40 = 11",
            {"now": now},
        )
        # Due at noon local time today (the day the wave runs), so they count as today's.
        from clientele.channels.policy import local_date, local_day_bounds

        day_start, _end = local_day_bounds(local_date(now))
        cursor.execute(
            outbox_columns + " SELECT %(now)s, %(now)s, 'sms', '+86137' || c.id, '',"
            " 'Rival offer', 'rival:' || c.id, %(rival)s, NULL, 1, true, 9, 'pending',"
            " %(due)s, %(due)s, 0, '', '', '', '', '', c.id, NULL"
            " FROM customers_customer c WHERE c.id %% 100 = 17",
            {"now": now, "rival": rival.pk, "due": day_start + datetime.timedelta(hours=12)},
        )
    analyze()
    return time.perf_counter() - started


def analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def reset() -> None:
    """Remove an earlier run's campaign, its targets, tasks, messages and suppressions."""
    from django.core.management import call_command
    from django.db import connection

    from clientele.campaigns.models import Campaign, Offer

    call_command("migrate", verbosity=0, interactive=False)
    old = list(Campaign.objects.filter(name=CAMPAIGN_NAME).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE campaigns_offeracceptance, campaigns_task, campaigns_campaigntarget,"
            " channels_suppressionrecord"
        )
        if old:
            cursor.execute("DELETE FROM channels_outboxmessage WHERE campaign_id = ANY(%s)", [old])
    Campaign.objects.filter(pk__in=old).delete()
    Offer.objects.filter(name=OFFER_NAME).delete()
    analyze()


def make_campaign():
    from clientele.campaigns.models import Campaign, Offer, Wave
    from clientele.segmentation import rules

    segment = {"field": "status", "op": "=", "value": "active"}
    eligibility = {"field": "city", "op": "not_in", "value": [EXCLUDED_CITY]}
    for expression in (segment, eligibility):
        if rules.validate(expression):
            raise SystemExit(f"bad expression {expression}: {rules.validate(expression)}")
    offer = Offer.objects.create(
        name=OFFER_NAME,
        script="Prepay 168 and get 504 of calls.",
        eligibility=eligibility,
        channels=["sms", "store", "hotline"],
        priority=5,
    )
    campaign = Campaign.objects.create(
        name=CAMPAIGN_NAME,
        segment=segment,
        channels=["sms"],
        holdout_rate=HOLDOUT_RATE,
        status="active",
        priority=3,
        starts_at=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1),
    )
    campaign.offers.set([offer])
    Wave.objects.create(
        campaign=campaign,
        number=1,
        day_offset=0,
        channel="sms",
        template=(
            "Dear {name} ({code}), thank you! {offer}: use coupon {coupon}. Your manager {manager}."
        ),
    )
    return campaign


# --- measuring --------------------------------------------------------------------------


def baseline(rows: int) -> float:
    """Seconds for the server to insert `rows` integers into an unindexed table."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_build_baseline")
        cursor.execute("CREATE TABLE bench_build_baseline (id bigint)")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_build_baseline SELECT generate_series(1, %s)", [rows])
    elapsed = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_build_baseline")
    return elapsed


def timed(function, profile: bool, label: str):
    profiler = cProfile.Profile() if profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    value = function()
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    if profiler:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(18)
        stats.sort_stats("cumulative").print_stats(30)
        print(f"--- profile: {label} ---\n{out.getvalue()}", flush=True)
    return value, elapsed


def check(campaign, build, waves, customers: int) -> dict:
    from django.db.models import Count

    from clientele.campaigns.models import CampaignTarget, Task
    from clientele.channels.models import OutboxMessage, SuppressionRecord

    targets = CampaignTarget.objects.filter(campaign=campaign).count()
    holdout = CampaignTarget.objects.filter(campaign=campaign, in_holdout=True).count()
    tasks = Task.objects.filter(campaign=campaign).count()
    messages = OutboxMessage.objects.filter(campaign_id=campaign.pk)
    message_count = messages.count()
    unique_keys = messages.values("dedup_key").distinct().count()
    recorded = dict(
        SuppressionRecord.objects.filter(campaign_id=campaign.pk)
        .values_list("reason")
        .annotate(n=Count("id"))
        .values_list("reason", "n")
    )
    suppressed = sum(recorded.values())
    sigma = math.sqrt(targets * HOLDOUT_RATE * (1 - HOLDOUT_RATE))
    checks = {
        "every active customer in an eligible city is a target": targets
        == targets_among(customers),
        "holdout within 4 sigma": abs(holdout - targets * HOLDOUT_RATE) <= 4 * sigma,
        "messages + suppressed + holdout = targets": message_count + suppressed + holdout
        == targets,
        "unique dedup keys": unique_keys == message_count,
        "one task per treated target": tasks == targets - holdout,
        "build counts agree": (build.added, build.holdout, build.tasks)
        == (targets, holdout, tasks),
        "wave counts agree": waves[0].enqueued == message_count
        and sum(waves[0].suppressed.values()) == suppressed,
    }
    return {
        "targets": targets,
        "holdout": holdout,
        "tasks": tasks,
        "messages": message_count,
        "unique_keys": unique_keys,
        "suppressed": recorded,
        "checks": checks,
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    present = database_customers(args.database) if args.reuse else None
    reuse = present == args.customers
    if not reuse:
        recreate(args.database)
    setup_django(args.database)
    from django.db import connection

    from clientele.campaigns import building

    if reuse:
        print(f"reusing {present:,} customers", flush=True)
        reset()
    else:
        seconds = load(args.customers)
        print(f"loaded {args.customers:,} customers in {seconds:.1f} s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    load_average = os.getloadavg()
    campaign = make_campaign()
    base = baseline(args.customers)
    build, build_s = timed(lambda: building.build(campaign), args.profile, "build")
    waves, wave_s = timed(lambda: building.run_due_waves(campaign), args.profile, "first wave")
    base_after = baseline(args.customers)
    base = min(base, base_after)
    total = build_s + wave_s
    result = check(campaign, build, waves, args.customers)
    load_after = os.getloadavg()
    reasons = ", ".join(f"{reason} {n:,}" for reason, n in sorted(result["suppressed"].items()))
    print(
        f"{version}; {args.customers:,} customers, {result['targets']:,} targets; load average "
        f"{load_average[0]:.1f} before, {load_after[0]:.1f} after\n"
        f"targets {result['targets']:,}, holdout {result['holdout']:,} "
        f"({result['holdout'] / max(1, result['targets']):.2%}), tasks {result['tasks']:,}, "
        f"messages {result['messages']:,} (unique keys {result['unique_keys']:,}), "
        f"suppressed {sum(result['suppressed'].values()):,}: {reasons}\n"
        f"build {build_s:.1f} s, first wave {wave_s:.1f} s, total {total:.1f} s "
        f"(target {TARGET_SECONDS:.0f} s: {'met' if total <= TARGET_SECONDS else 'MISSED'}); "
        f"baseline INSERT SELECT generate_series({args.customers:,}) {base:.2f} s, "
        f"ratio {total / base:.1f}",
        flush=True,
    )
    for name, ok in result["checks"].items():
        print(f"  {'ok  ' if ok else 'FAIL'} {name}", flush=True)
    connection.close()
    if not args.keep and not args.reuse:
        drop(args.database)
    return 0 if all(result["checks"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
