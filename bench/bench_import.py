"""Benchmark: importing order lines through `run_import` (target >= 20,000 lines/s).

    python bench/bench_import.py                      # SQLite, 200,000 lines
    python bench/bench_import.py --lines 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/bench_import.py
    python bench/bench_import.py --record             # append the result to docs/benchmarks.md

It generates a CSV of N order lines (1 to 6 lines per order, prices per product, dates
over two years) for M customers and P products, imports it as a user would, and prints
lines per second. For a yardstick that does not depend on the machine it also times, in
the same process, a plain streaming read of the file with the readers and a read that
parses every cell with the parsers; the ratio import time / parse time says what the
checks, the references and the database writes cost on top of reading the file.

SQLite runs in a temporary folder, removed at the end with the generated file. On
PostgreSQL a database clientele_bench_<pid> is created next to the one DATABASE_URL
names and dropped at the end.
"""

import argparse
import csv
import datetime
import os
import platform
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The database, the generated file and the stored job files; removed at the end.
SCRATCH = Path(tempfile.mkdtemp(prefix="clientele-bench-import-"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000, help="order lines (200,000)")
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--record", action="store_true", help="append to docs/benchmarks.md")
    return parser.parse_args()


def configure(args) -> str | None:
    """Point Django at a throw-away database; returns the PostgreSQL database to drop."""
    os.environ["CLIENTELE_DATA_DIR"] = str(SCRATCH / "data")
    os.environ["HUEY_IMMEDIATE"] = "1"
    # The classification an import queues runs in the worker in production, after the
    # import; with jobs run inline it would land inside the timed import.
    os.environ["CLIENTELE_CLASSIFY_AFTER_IMPORT"] = "0"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientele.settings")
    url = os.environ.get("DATABASE_URL", "")
    bench_db = None
    if url.startswith("postgres"):
        import psycopg

        bench_db = f"clientele_bench_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {bench_db}")
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/" + bench_db
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    return bench_db


def drop(bench_db: str, url: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {bench_db}")


def seed(args):
    """Customers, products and the order-lines file; returns (path, prices)."""
    from decimal import Decimal

    from clientele.catalog.models import Product
    from clientele.core.models import Role, User
    from clientele.customers.models import Customer

    rng = random.Random(args.seed)
    Customer.objects.bulk_create(
        [Customer(code=f"C{i:07d}", name=f"Customer {i}") for i in range(args.customers)],
        batch_size=5000,
    )
    prices = [Decimal(rng.randint(100, 99_999)) / 100 for _ in range(args.products)]
    Product.objects.bulk_create(
        [
            Product(sku=f"SKU{i:06d}", name=f"Product {i}", list_price=prices[i])
            for i in range(args.products)
        ],
        batch_size=5000,
    )
    user = User.objects.create_user("bench", password=None, role=Role.ADMINISTRATOR)
    path = SCRATCH / "order-lines.csv"
    start = datetime.datetime.now() - datetime.timedelta(days=730)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "Order number",
                "Customer code",
                "Ordered at",
                "Status",
                "Channel",
                "SKU",
                "Quantity",
                "Unit price",
                "Discount",
            ]
        )
        written, order = 0, 0
        while written < args.lines:
            order += 1
            customer = f"C{int(args.customers * rng.random() ** 2):07d}"  # a few buy most
            when = start + datetime.timedelta(minutes=rng.randint(0, 730 * 24 * 60 - 1))
            status = rng.choice(("paid", "completed", "completed", "shipped", "returned"))
            channel = rng.choice(("store", "store", "online", "phone"))
            for _ in range(min(rng.randint(1, 6), args.lines - written)):
                product = rng.randrange(args.products)
                discount = "0" if rng.random() < 0.8 else "1.00"
                writer.writerow(
                    [
                        f"SO{order:09d}",
                        customer,
                        f"{when:%Y-%m-%d %H:%M}",
                        status,
                        channel,
                        f"SKU{product:06d}",
                        rng.randint(1, 5),
                        prices[product],
                        discount,
                    ]
                )
                written += 1
    return path, user


def baseline(path):
    """Seconds to stream the file with the readers, and to also parse every cell."""
    from zoneinfo import ZoneInfo

    from clientele.imports.parsing import parse_amount, parse_datetime, parse_text
    from clientele.imports.readers import open_table

    started = time.perf_counter()
    with open_table(path) as table:
        for _ in table:
            pass
    read = time.perf_counter() - started
    zone = ZoneInfo("Asia/Shanghai")
    started = time.perf_counter()
    with open_table(path) as table:
        for _, cells in table:
            parse_text(cells[0], 60)
            parse_text(cells[1], 40)
            parse_datetime(cells[2], zone)
            parse_text(cells[3])
            parse_text(cells[4])
            parse_text(cells[5], 60)
            parse_amount(cells[6], 3)
            parse_amount(cells[7])
            parse_amount(cells[8])
    return read, time.perf_counter() - started


def run(path, user):
    from django.core.files import File

    from clientele.imports.models import ImportJob, ImportStatus
    from clientele.imports.services import run_import

    job = ImportJob(kind="orders", original_name=path.name, created_by=user, source="bench")
    with open(path, "rb") as handle:
        job.file.save(path.name, File(handle), save=False)
    job.status = ImportStatus.QUEUED
    job.save()

    marks = {}

    def bar(job):
        # Pass 1 ends when every row is checked; a first load on PostgreSQL writes while
        # it checks (see OrderImporter.streams_writes), so pass 2 is then only the tail.
        if job.total_rows and job.processed_rows >= job.total_rows and "checked" not in marks:
            marks["checked"] = time.perf_counter()
            marks["streamed"] = job.written_rows > 0
        print(
            f"\r  {job.percent:3d}% checked {job.processed_rows:,} written {job.written_rows:,}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    started, cpu = time.perf_counter(), time.process_time()
    run_import(job, progress=bar)
    print(file=sys.stderr)
    ended = time.perf_counter()
    check = marks.get("checked", ended) - started
    if marks.get("streamed"):
        print(f"pass 1        {check:.2f} s (read, parse, check and write while checking)")
        print(f"pass 2        {ended - started - check:.2f} s (the last writes and commit)")
    else:
        print(f"pass 1        {check:.2f} s (read, parse, check)")
        print(f"pass 2        {ended - started - check:.2f} s (write)")
    return job, ended - started, time.process_time() - cpu


def record(line: str) -> None:
    docs = ROOT / "docs" / "benchmarks.md"
    heading = "## Import of order lines"
    text = docs.read_text(encoding="utf-8") if docs.exists() else "# Benchmarks\n"
    if heading not in text:
        text = text.rstrip("\n") + (
            f"\n\n{heading}\n\n"
            "`python bench/bench_import.py [--lines N]` (see its docstring) imports a CSV of\n"
            "order lines through `run_import`, both passes, with audit entries. Parse-only is\n"
            "the same file streamed by the readers with every cell parsed; ratio = import time\n"
            "/ parse-only time, measured in the same process, so it holds when the machine is\n"
            "busy. CPU s is the import's CPU time in the Python process (on PostgreSQL the\n"
            "server's share is not in it).\n\n"
            "| date | database | lines | orders | file MB | import s | lines/s | parse-only s"
            " | ratio | CPU s (this process) | peak RSS MB | machine, load |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n"
        )
    lines = text.rstrip("\n").split("\n")
    start = lines.index(heading)
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    while lines[end - 1] == "":  # after the table's last row, before the blank line
        end -= 1
    lines.insert(end, line)
    docs.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main():
    args = parse_args()
    url = os.environ.get("DATABASE_URL", "")
    bench_db = configure(args)
    try:
        from django.db import connection

        from clientele.sales.models import Order, OrderLine

        path, user = seed(args)
        size_mb = path.stat().st_size / 1e6
        read, parse = baseline(path)
        load = os.getloadavg()[0]
        job, seconds, cpu = run(path, user)
        if job.status != "succeeded":
            sys.exit(f"import {job.status}: {job.message} {job.errors[:5]}")
        lines = OrderLine.objects.count()
        orders = Order.objects.count()
        rate = lines / seconds
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        vendor = connection.vendor
        print(f"database      {vendor}")
        print(f"file          {args.lines:,} lines, {orders:,} orders, {size_mb:.1f} MB")
        print(f"stream read   {read:.2f} s ({args.lines / read:,.0f} lines/s)")
        print(f"parse-only    {parse:.2f} s ({args.lines / parse:,.0f} lines/s)")
        print(f"import        {seconds:.2f} s ({rate:,.0f} lines/s)")
        print(
            f"import CPU    {cpu:.2f} s in this process ({lines / cpu:,.0f} lines per CPU second)"
        )
        print(f"load average  {load:.1f} at the start ({os.cpu_count()} CPUs)")
        print(f"ratio         {seconds / parse:.2f} x parse-only")
        print(f"peak RSS      {peak:.0f} MB")
        if args.record:
            machine = f"{os.cpu_count()} CPU, Python {platform.python_version()}, load {load:.1f}"
            record(
                f"| {datetime.date.today()} | {vendor} | {args.lines:,} | {orders:,} |"
                f" {size_mb:.0f} | {seconds:.1f} | {rate:,.0f} | {parse:.1f} |"
                f" {seconds / parse:.2f} | {cpu:.1f} | {peak:.0f} | {machine} |"
            )
    finally:
        if bench_db:
            drop(bench_db, url)
        shutil.rmtree(SCRATCH, ignore_errors=True)


if __name__ == "__main__":
    main()
