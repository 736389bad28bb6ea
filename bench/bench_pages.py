"""Benchmark (not a test): customer list and 360 page latency on a large PostgreSQL database.

Loads the demo company generator into a dedicated database (created if missing, reused
when it already holds the customers; an interrupted load resumes at the next chunk),
then requests pages in-process with Django's test Client, signed in as the demo admin:

* the customer list: first page, a search by name prefix, a status + city filter, sorted
  by name, page 100;
* the 360 page of a random sample of customers;
* a baseline: the same number of GET /login/ (a redirect for a signed-in user: session,
  user and middleware, no domain query), so framework cost and data cost can be told
  apart.

It prints p50/p95 per page and, with --explain, EXPLAIN ANALYZE of the slowest queries
of each page. With --what-if it measures a second time with the changes it recommends
applied in this process and database only (then drops its indexes again). Targets
(issue 2): list p95 <= 200 ms, 360 p95 <= 150 ms.

    python bench/bench_pages.py --customers 1000000          # load (once) and measure
    python bench/bench_pages.py --load-only > load.log 2>&1  # just load, with progress
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from urllib.parse import urlencode, urlparse

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/clientele_bench"
TARGETS = {"list": 200.0, "360": 150.0}


def ensure_database(url: str) -> None:
    """Create the benchmark database on the server if it does not exist yet."""
    import psycopg
    from psycopg import sql

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"created database {name}", flush=True)


def setup_django(url: str) -> None:
    """Configure Django for the benchmark database, in production settings."""
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientele.settings"
    # One data folder for every run (it only holds the development secret key).
    os.environ.setdefault(
        "CLIENTELE_DATA_DIR", os.path.join(tempfile.gettempdir(), "clientele-bench-data")
    )
    # The test Client sends Host: testserver; DEBUG stays off so no query is recorded.
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost,127.0.0.1"
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def load(customers: int, lines_per_customer: float, seed: int) -> None:
    """Load (or finish loading) the benchmark data, then VACUUM ANALYZE."""
    from django.core.management import call_command
    from django.db import connection

    from clientele.customers.models import Customer
    from clientele.demo import generator, loader

    call_command("migrate", verbosity=0, interactive=False)
    present = Customer.objects.count()
    if present >= customers:
        print(f"reusing {present:,} customers", flush=True)
        return
    orders_per_customer = lines_per_customer / generator.mean_lines_per_order()
    with connection.cursor() as cursor:
        # A benchmark load can be redone: do not wait for the WAL flush on every commit.
        cursor.execute("SET synchronous_commit TO off")
    loader.load(
        size=customers,
        seed=seed,
        stdout=sys.stdout,
        orders_per_customer=orders_per_customer,
        resume=True,
    )
    loader.ensure_admin()
    analyze()


def analyze() -> None:
    """VACUUM ANALYZE the database after a load."""
    from django.db import connection

    began = time.perf_counter()
    with connection.cursor() as cursor:
        # Fresh statistics and a visibility map, as a production database has them.
        cursor.execute("VACUUM ANALYZE")
    print(f"VACUUM ANALYZE in {time.perf_counter() - began:.0f} s", flush=True)


def sizes() -> dict:
    """Row counts of the big tables and the database size, for the record."""
    from django.db import connection

    from clientele.customers.models import Customer, Interaction
    from clientele.sales.models import Order, OrderLine

    out = {}
    with connection.cursor() as cursor:
        for model in (Customer, Order, OrderLine, Interaction):
            # Exact counts: the statistics estimate would do, but this runs once.
            cursor.execute(f'SELECT count(*) FROM "{model._meta.db_table}"')
            out[model._meta.model_name] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        out["database"] = cursor.fetchone()[0]
    return out


def timed(client, urls: list[str]) -> list[float]:
    """Milliseconds per GET; every response must be a success or a redirect."""
    times = []
    for url in urls:
        began = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - began) * 1000)
        if response.status_code not in (200, 302):
            raise RuntimeError(f"GET {url} answered {response.status_code}")
    return times


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def scenarios(repeat: int, samples: int, seed: int) -> dict[str, tuple[str, list[str]]]:
    """Page name -> (target kind, URLs); parameters vary per request so no single cached
    plan or page hides the cost."""
    from django.urls import reverse

    from clientele.customers.models import Customer

    rnd = random.Random(seed)
    list_url = reverse("customers:customer_list")
    top = Customer.objects.order_by("-id").values_list("id", flat=True).first()
    bottom = Customer.objects.order_by("id").values_list("id", flat=True).first()
    sample_ids = []
    while len(sample_ids) < samples:
        ids = rnd.sample(range(bottom, top + 1), samples)
        sample_ids += list(Customer.objects.filter(id__in=ids).values_list("id", flat=True))
    sample_ids = sample_ids[:samples]
    names = list(
        Customer.objects.filter(id__in=sample_ids, kind="person").values_list("name", flat=True)
    )
    cities = list(
        Customer.objects.filter(id__in=sample_ids).values_list("city", flat=True).distinct()
    )
    statuses = ["active", "inactive", "lost", "prospect"]

    def q(**params):
        """The list URL with these query parameters."""
        return f"{list_url}?{urlencode(params)}"

    return {
        "list: first page": ("list", [list_url] * repeat),
        "list: search name prefix": (
            "list",
            [q(q=rnd.choice(names)[:2]) for _ in range(repeat)],
        ),
        "list: status + city": (
            "list",
            [q(status=rnd.choice(statuses), city=rnd.choice(cities)) for _ in range(repeat)],
        ),
        "list: sort by name": (
            "list",
            [q(sort=rnd.choice(["name", "-name"])) for _ in range(repeat)],
        ),
        "list: page 100": ("list", [q(page=100)] * repeat),
        "360 page": (
            "360",
            [reverse("customers:customer_detail", args=[pk]) for pk in sample_ids],
        ),
    }


def explain(client, url: str, top: int = 2) -> list[tuple[float, str, str]]:
    """Run the page once capturing its queries, then EXPLAIN ANALYZE the slowest ones."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    slowest = sorted(captured.captured_queries, key=lambda q: -float(q["time"]))[:top]
    plans = []
    with connection.cursor() as cursor:
        for query in slowest:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
            plans.append((float(query["time"]) * 1000, query["sql"], plan))
    return plans


# The changes this benchmark recommends, tried out in this process and database only:
# a composite index for the status + city filter, prefix search on names with
# expression indexes for the case-insensitive prefixes, and a paginator that never
# counts a million rows.
WHAT_IF_INDEXES = {
    "bench_whatif_customer_city_status": "(city, status, id)",
    "bench_whatif_customer_code_upper": "(upper(code) varchar_pattern_ops)",
    "bench_whatif_customer_email_upper": "(upper(email) varchar_pattern_ops)",
}
WHAT_IF_SEARCH = (
    "code__istartswith",
    "name__startswith",
    "phone__startswith",
    "email__istartswith",
    "card_number__startswith",
)
COUNT_CAP = 10_000


def capped_count_paginator():
    """A Paginator that counts at most COUNT_CAP rows of a filtered list, and takes the
    planner's row estimate for an unfiltered PostgreSQL table."""
    from django.core.paginator import Paginator
    from django.db import connection
    from django.utils.functional import cached_property

    class CappedCountPaginator(Paginator):
        @cached_property
        def count(self):
            """Rows to paginate: an estimate, or an exact count up to the cap."""
            # django-tables2 hands over BoundRows -> TableQuerysetData -> QuerySet.
            queryset = self.object_list.data.data
            if not queryset.query.where and connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                        [queryset.model._meta.db_table],
                    )
                    estimate = cursor.fetchone()[0]
                if estimate > 0:
                    return estimate
            return queryset.order_by()[: COUNT_CAP + 1].count()

    return CappedCountPaginator


def what_if(apply: bool) -> None:
    """Apply (or remove) the recommended changes for a second measurement."""
    from django.core.paginator import Paginator
    from django.db import connection
    from django_tables2 import Table

    from clientele.customers.filters import CustomerFilterSet

    with connection.cursor() as cursor:
        for name, definition in WHAT_IF_INDEXES.items():
            if apply:
                cursor.execute(
                    f"CREATE INDEX IF NOT EXISTS {name} ON customers_customer {definition}"
                )
            else:
                cursor.execute(f"DROP INDEX IF EXISTS {name}")
        if apply:
            cursor.execute("ANALYZE customers_customer")
    if not apply:
        return
    CustomerFilterSet.search_fields = WHAT_IF_SEARCH
    paginator = capped_count_paginator()
    original = Table.paginate

    def paginate(self, paginator_class=Paginator, *args, **kwargs):
        """Table.paginate with the capped paginator as the default."""
        if paginator_class is Paginator:
            paginator_class = paginator
        return original(self, paginator_class, *args, **kwargs)

    Table.paginate = paginate


def measure(repeat: int, samples: int, seed: int, show_plans: bool) -> None:
    from django.test import Client

    from clientele.core.models import User

    client = Client()
    client.force_login(User.objects.get(username="admin"))
    pages = scenarios(repeat, samples, seed)
    for _, urls in pages.values():  # warm caches, connections and templates
        timed(client, urls[:3])
    results = {}
    requests = 0
    for name, (kind, urls) in pages.items():
        results[name] = (kind, timed(client, urls))
        requests = max(requests, len(urls))
    baseline = timed(client, ["/login/"] * requests)
    base_p50 = statistics.median(baseline)

    load1, load5, _ = os.getloadavg()
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"\nmeasured {when}, load average {load1:.1f} / {load5:.1f}")
    print("| page | requests | p50 ms | p95 ms | target p95 | x baseline p50 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, (kind, times) in results.items():
        p50, p95 = percentile(times, 50), percentile(times, 95)
        verdict = "ok" if p95 <= TARGETS[kind] else "MISSED"
        print(
            f"| {name} | {len(times)} | {p50:.1f} | {p95:.1f} | "
            f"{TARGETS[kind]:.0f} ({verdict}) | {p50 / base_p50:.1f} |"
        )
    print(
        f"| baseline GET /login/ | {len(baseline)} | {base_p50:.1f} | "
        f"{percentile(baseline, 95):.1f} | | 1.0 |"
    )
    if show_plans:
        for name, (_, urls) in pages.items():
            print(f"\n### {name}: {urls[-1]}")
            for ms, sql, plan in explain(client, urls[-1]):
                print(f"\n-- {ms:.1f} ms\n{sql}\n{plan}")


def main(argv=None) -> None:
    """Parse options, load or reuse the data, measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument(
        "--lines-per-customer",
        type=float,
        default=10.0,
        help="order lines per customer (the issue's 1M customers / 10M lines is 10)",
    )
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--repeat", type=int, default=50, help="requests per list variant")
    parser.add_argument("--samples", type=int, default=200, help="customers for the 360 page")
    parser.add_argument("--load-only", action="store_true")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE slow queries")
    parser.add_argument(
        "--what-if",
        action="store_true",
        help="measure again with the recommended indexes, search and paginator",
    )
    args = parser.parse_args(argv)

    if not urlparse(args.database_url).scheme.startswith("postgres"):
        parser.error("the page benchmark runs on PostgreSQL")
    ensure_database(args.database_url)
    setup_django(args.database_url)
    load(args.customers, args.lines_per_customer, args.seed)
    print(f"data: {sizes()}", flush=True)
    if args.load_only:
        return
    print("\n## as is")
    measure(args.repeat, args.samples, args.seed, args.explain)
    if args.what_if:
        print("\n## what if (recommended indexes, prefix search, capped count)")
        what_if(apply=True)
        try:
            measure(args.repeat, args.samples, args.seed, args.explain)
        finally:
            what_if(apply=False)


if __name__ == "__main__":
    main()
