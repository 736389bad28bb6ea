"""Benchmark of the classification engine (issue 3): not a timed test, a measurement.

    python bench/bench_classify.py                         # 1,000,000 customers x 10 orders
    python bench/bench_classify.py --customers 100000      # a smaller run
    python bench/bench_classify.py --backends sqlite --skip-file
    python bench/bench_classify.py --backends '' --repeat 3   # only the order-file comparison
    python bench/bench_classify.py --reuse --skip-file     # the databases of the last run again

1. Generates N customers with 10 orders each on average (numpy, seeded), simulated from
   the BG/NBD and Gamma-Gamma processes (see `generate`): 1,000,000 customers give about
   10,000,000 orders.
2. For SQLite (a fresh file) and PostgreSQL (database clientele_bench_classify, dropped and
   recreated): migrates, loads the rows straight into the tables, and times a full run of
   all default definitions twice — the first run writes every current class, the second is
   the steady state (few changes) — and a third time after a day's new orders (30,000 paid
   orders on the as-of day, the nightly run's usual input). Each backend runs in its own
   process (Django settings).
3. Writes the valued orders as an equivalent CSV and, in this process, times
   `clientele classify --orders` (classify_order_file) against the reference pipeline:
   lifetimes' summary_data_from_transaction_data + BetaGeoFitter + GammaGammaFitter +
   pandas qcut RFM (and, separately, the reference's predictions), alternately --repeat
   times, and prints the best of each and the ratio (wall clock and CPU seconds).

Results are printed and written to WORKDIR/results.json; docs/benchmarks.md records them.
Every statement of the database runs is logged with its duration in WORKDIR/trace-*.log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
END = dt.date(2025, 6, 30)  # the as-of day of every run
ZONE = "Asia/Shanghai"
PG_ADMIN = os.environ.get(
    "BENCH_POSTGRES_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PG_NAME = "clientele_bench_classify"
DAY_ORDERS = 30_000  # the third run's new orders: a busy day's


# --- data ------------------------------------------------------------------------------


def generate(customers: int, per_customer: int, seed: int):
    """Purchase histories simulated from the BG/NBD and Gamma-Gamma models themselves
    (so the models have something to find): first purchases spread over three years,
    weekly purchase rates ~ Gamma(r, alpha) with alpha set so a customer buys
    `per_customer` times on average, dropout after each repeat purchase with p ~ Beta(1, 6),
    order values ~ Gamma(6, nu), nu ~ Gamma(4, 100) (about 200 a order); 2% of orders are
    cancelled and 1% returned. Arrays: order customer (1-based id), UTC epoch seconds,
    cents, status (0 paid, 1 cancelled, 2 returned)."""
    rng = np.random.default_rng(seed)
    end_epoch = int(dt.datetime.combine(END, dt.time(16, 0), dt.UTC).timestamp())
    weeks = 3 * 52.0
    born = rng.random(customers) * weeks  # weeks before the end
    rate = rng.gamma(2.0, 1.0, customers) * per_customer / 43.0
    repeats_allowed = rng.geometric(rng.beta(1.0, 6.0, customers))
    nu = rng.gamma(4.0, 1.0 / 100.0, customers)
    parts = []
    chunk = 200_000
    most = 8 * per_customer
    for lo in range(0, customers, chunk):
        hi = min(lo + chunk, customers)
        gaps = rng.exponential(1.0, (hi - lo, most)) / rate[lo:hi, None]
        times = np.cumsum(gaps, axis=1)  # weeks after the first purchase
        keep = (times <= born[lo:hi, None]) & (
            np.arange(1, most + 1)[None, :] <= repeats_allowed[lo:hi, None]
        )
        rows, cols = np.nonzero(keep)
        ids = np.concatenate([np.arange(lo, hi), rows + lo])
        weeks_after = np.concatenate([np.zeros(hi - lo), times[rows, cols]])
        parts.append((ids, weeks_after))
    ids = np.concatenate([p[0] for p in parts])
    after = np.concatenate([p[1] for p in parts])
    order = np.argsort(ids, kind="stable")
    ids, after = ids[order], after[order]
    epoch = (end_epoch - (born[ids] - after) * 7 * 86400).astype(np.int64)
    value = rng.gamma(6.0, 1.0, ids.size) / nu[ids]
    cents = np.maximum(np.round(value * 100), 100).astype(np.int64)
    draw = rng.random(ids.size)
    status = np.where(draw < 0.02, 1, np.where(draw < 0.03, 2, 0)).astype(np.int8)
    return (ids + 1).astype(np.int64), epoch, cents, status


def _iso(epoch: np.ndarray, zone_offset_hours: int = 0) -> np.ndarray:
    """Epochs as 'YYYY-MM-DD HH:MM:SS' text (UTC, or shifted to a fixed local offset)."""
    moments = (epoch + zone_offset_hours * 3600).astype("datetime64[s]")
    return np.char.replace(moments.astype(str), "T", " ")


# --- the database runs (one process per backend) -----------------------------------------


def calibrate() -> float:
    """Seconds for a fixed piece of work (sorting 4,000,000 random numbers, best of 3),
    timed in the same process just before each run: the speed of this machine at that
    moment, so runs on machines (or minutes) of different speed can be compared as a
    ratio. Runs of the same code here varied by 30-40% with this figure."""
    values = np.random.default_rng(0).random(4_000_000)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        np.sort(values)
        best = min(best, time.perf_counter() - started)
    return best


def worker(backend: str, data: str, workdir: Path, reuse: bool = False) -> dict:
    """Migrate a fresh database, load the data, time two full runs. Prints JSON. With
    `reuse`, a database left by an earlier run (--keep) is used as it is, its
    classification results cleared, so the first run is a first run again (without one,
    the data is loaded as usual)."""
    if backend == "sqlite":
        path = workdir / "bench.sqlite3"
        if not reuse:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            exists = admin.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [PG_NAME]
            ).fetchone()
            if not reuse or not exists:
                admin.execute(f"DROP DATABASE IF EXISTS {PG_NAME}")
                admin.execute(f"CREATE DATABASE {PG_NAME}")
        os.environ["DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_NAME}"
    os.environ.setdefault("CLIENTELE_DATA_DIR", str(workdir / "data"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "clientele.settings"
    os.environ["TIME_ZONE"] = ZONE
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    # Every statement of the runs with its duration, for finding where the time goes.
    trace = logging.getLogger("clientele.segmentation.sources")
    trace.setLevel(logging.DEBUG)
    trace.propagate = False
    handler = logging.FileHandler(workdir / f"trace-{backend}.log", mode="w")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s  [%(threadName)s]"))
    trace.addHandler(handler)
    from clientele.sales.models import Order

    started = time.perf_counter()
    if reuse and Order.objects.exists():
        _clear_classification(connection)
    else:  # a fresh database, or --reuse with none left by an earlier run
        _load_database(connection, backend, np.load(data))
    load_seconds = time.perf_counter() - started

    from clientele.segmentation.constants import Trigger
    from clientele.segmentation.models import ClassificationDefinition
    from clientele.segmentation.runs import run_definitions

    result = {"backend": backend, "load_seconds": load_seconds, "runs": []}
    for label in ("first run", "second run", f"after {DAY_ORDERS:,} new orders"):
        if label.startswith("after"):
            result["day_load_seconds"] = _add_a_days_orders(connection, backend, np.load(data))
        baseline = calibrate()
        started = time.perf_counter()
        runs = run_definitions(
            list(ClassificationDefinition.objects.filter(active=True)),
            trigger=Trigger.COMMAND,
            as_of=END,
        )
        total = time.perf_counter() - started
        result["runs"].append(
            {
                "label": label,
                "seconds": total,
                "baseline": baseline,
                "definitions": {
                    r.definition.key: {
                        "seconds": r.duration,
                        "status": r.status,
                        "error": r.error,
                        "customers": r.customers,
                        "transitions": r.transitions,
                        "counts": r.counts,
                    }
                    for r in runs
                },
            }
        )
    print("RESULT " + json.dumps(result), flush=True)
    return result


def _add_a_days_orders(connection, backend, arrays) -> float:
    """A day's new orders (the nightly run's usual input): DAY_ORDERS paid orders of
    random customers on the as-of day, written like the load; the seconds it took."""
    from django.db.models import Max
    from django.utils import timezone

    from clientele.sales.models import Order

    rng = np.random.default_rng(7)
    n = int(arrays["customers"])
    start = Order.objects.aggregate(m=Max("id"))["m"] + 1
    end_of_day = int(dt.datetime.combine(END, dt.time(15, 59), dt.UTC).timestamp())  # Shanghai
    epoch = end_of_day - rng.integers(0, 86400, DAY_ORDERS)
    customers = rng.integers(1, n + 1, DAY_ORDERS)
    cents = rng.integers(1_000, 100_000, DAY_ORDERS)
    pg = backend == "postgres"
    statuses = np.full(DAY_ORDERS, "paid")
    started = time.perf_counter()
    _insert_orders(connection, pg, start, "D", customers, epoch, cents, statuses,
                   _stamp(timezone.now(), pg))  # fmt: skip
    if pg:
        _move_sequence(connection, Order._meta.db_table)
    return time.perf_counter() - started


def _clear_classification(connection):
    """Remove every run and result, keeping the definitions, customers and orders."""
    from clientele.segmentation import models

    tables = [
        m._meta.db_table
        for m in (models.ClassTransition, models.CurrentClass, models.CustomerClass,
                  models.ClassificationRun)
    ]  # fmt: skip
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"DELETE FROM {table}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"VACUUM ANALYZE {table}")
    else:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM")


def _load_database(connection, backend, arrays):
    """Insert customers and orders straight into the application's tables."""
    from django.utils import timezone

    from clientele.customers.models import Customer
    from clientele.sales.models import Order

    now = timezone.now()
    n = int(arrays["customers"])
    customer, epoch, cents, status = (arrays[k] for k in ("customer", "epoch", "cents", "status"))
    statuses = np.array(["paid", "cancelled", "returned"])[status]
    pg = backend == "postgres"
    stamp = _stamp(now, pg)
    ids = np.arange(1, n + 1)
    customer_rows = ((int(i), f"C{int(i):07d}", f"Customer {int(i)}") for i in ids.tolist())
    customer_fixed = _fixed(Customer, {"id", "code", "name"}, stamp)
    _insert(connection, pg, Customer._meta.db_table, ["id", "code", "name"], customer_rows,
            customer_fixed)  # fmt: skip
    _insert_orders(connection, pg, 1, "O", customer, epoch, cents, statuses, stamp)
    # What follows any bulk load (and what autovacuum would soon do anyway): statistics,
    # the visibility map and hint bits set, the write-ahead log checkpointed. Without it
    # the first timed run also paid for that (every freshly loaded order row's hint bits
    # written on first read, autovacuum running alongside): 66.6 s instead of about 61 s
    # on PostgreSQL on 2026-12-01.
    if not pg:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if pg:
        for table in (Customer._meta.db_table, Order._meta.db_table):
            _move_sequence(connection, table)
        connection.ensure_connection()
        autocommit = connection.get_autocommit()
        connection.set_autocommit(True)  # VACUUM cannot run inside a transaction
        with connection.cursor() as cursor:
            for table in (Customer._meta.db_table, Order._meta.db_table):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
            cursor.execute("CHECKPOINT")
        connection.set_autocommit(autocommit)


def _stamp(now, pg: bool) -> str:
    """created_at / updated_at as each database's column takes it (SQLite: naive UTC)."""
    return now.isoformat(" ") if pg else now.replace(tzinfo=None).isoformat(" ")


def _insert_orders(connection, pg, first_id, prefix, customer, epoch, cents, statuses, stamp):
    """Orders with ids from `first_id` (numbered prefix + id), straight into the table."""
    from clientele.sales.models import Order

    times = _iso(epoch)
    if pg:
        times = np.char.add(times, "+00")
    rows = (
        (first_id + i, int(c), f"{prefix}{first_id + i}", t, s, f"{v // 100}.{v % 100:02d}")
        for i, (c, t, s, v) in enumerate(zip(customer.tolist(), times.tolist(),
                                             statuses.tolist(), cents.tolist(), strict=True))
    )  # fmt: skip
    fixed = _fixed(Order, {"id", "customer", "number", "ordered_at", "status", "total"}, stamp)
    _insert(connection, pg, Order._meta.db_table,
            ["id", "customer_id", "number", "ordered_at", "status", "total"], rows, fixed)  # fmt: skip


def _move_sequence(connection, table: str) -> None:
    """PostgreSQL: the id sequence past the explicitly written ids."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}"
        )


def _fixed(model, given, stamp) -> dict:
    """Column -> value for every other concrete column: the model default, '' or NULL."""
    from django.db.models import NOT_PROVIDED

    values = {}
    for field in model._meta.concrete_fields:
        if field.name in given or field.primary_key:
            continue
        if field.name in ("created_at", "updated_at"):
            values[field.column] = stamp
        elif field.default is not NOT_PROVIDED:
            default = field.get_default()
            values[field.column] = (
                json.dumps(default) if isinstance(default, dict | list) else default
            )
        elif field.null:
            values[field.column] = None
        else:
            values[field.column] = ""
    return values


def _insert(connection, pg, table, columns, rows, fixed):
    names = columns + list(fixed)
    tail = tuple(fixed.values())
    if pg:
        with connection.cursor() as wrapper:
            with wrapper.cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + tail)
        return
    from django.db import transaction

    marks = ", ".join(["%s"] * len(names))
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})"
    batch = []
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            batch.append(row + tail)
            if len(batch) == 50000:
                cursor.executemany(sql, batch)
                batch = []
        if batch:
            cursor.executemany(sql, batch)


# --- order file vs reference ---------------------------------------------------------------


def write_csv(path: Path, arrays) -> int:
    """The valued orders (cancelled and returned left out) as customer_id, ordered_at (local
    Shanghai time), amount."""
    customer, epoch, cents, status = (arrays[k] for k in ("customer", "epoch", "cents", "status"))
    keep = status == 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("customer_id,ordered_at,amount\n")
        chunk = 1_000_000
        idx = np.flatnonzero(keep)
        for start in range(0, idx.size, chunk):
            part = idx[start : start + chunk]
            codes = np.char.add("C", np.char.zfill(customer[part].astype(str), 7))
            when = _iso(epoch[part], 8)
            amount = np.char.add(
                np.char.add((cents[part] // 100).astype(str), "."),
                np.char.zfill((cents[part] % 100).astype(str), 2),
            )
            lines = np.char.add(
                np.char.add(np.char.add(np.char.add(codes, ","), when), ","), amount
            )
            handle.write("\n".join(lines.tolist()))
            handle.write("\n")
    return int(keep.sum())


def reference(path: Path, with_predictions: bool) -> dict:
    """lifetimes + pandas: the pipeline people write by hand."""
    import pandas as pd
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    timings = {}
    start = time.perf_counter()
    cpu = time.process_time()
    frame = pd.read_csv(path, parse_dates=["ordered_at"])
    timings["read"] = time.perf_counter() - start
    step = time.perf_counter()
    summary = summary_data_from_transaction_data(
        frame, "customer_id", "ordered_at", monetary_value_col="amount",
        observation_period_end=pd.Timestamp(END), freq="W",
    )  # fmt: skip
    timings["summary"] = time.perf_counter() - step
    step = time.perf_counter()
    # Unpenalised, lifetimes does not converge on these data (the MLE of a and b runs to
    # infinity); a small penalty is what its documentation suggests.
    bg = BetaGeoFitter(penalizer_coef=0.001).fit(
        summary["frequency"], summary["recency"], summary["T"]
    )
    timings["bgnbd"] = time.perf_counter() - step
    step = time.perf_counter()
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    gg = GammaGammaFitter(penalizer_coef=0.001).fit(repeat["frequency"], repeat["monetary_value"])
    timings["gamma_gamma"] = time.perf_counter() - step
    step = time.perf_counter()
    last = frame.groupby("customer_id").agg(
        last=("ordered_at", "max"), f=("ordered_at", "count"), m=("amount", "sum")
    )
    recency = (pd.Timestamp(END) - last["last"]).dt.days
    r = pd.qcut(recency.rank(method="first"), 5, labels=[5, 4, 3, 2, 1])
    f = pd.qcut(last["f"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    m = pd.qcut(last["m"].rank(method="first"), 5, labels=[1, 2, 3, 4, 5])
    _rfm = r.astype(str) + f.astype(str) + m.astype(str)
    timings["rfm"] = time.perf_counter() - step
    timings["total"] = time.perf_counter() - start
    timings["cpu"] = time.process_time() - cpu
    result = {
        "timings": timings,
        "bgnbd": bg.params_.to_dict(),
        "gamma_gamma": gg.params_.to_dict(),
    }
    if with_predictions:
        step = time.perf_counter()
        bg.conditional_probability_alive(summary["frequency"], summary["recency"], summary["T"])
        bg.conditional_expected_number_of_purchases_up_to_time(
            52, summary["frequency"], summary["recency"], summary["T"]
        )
        gg.customer_lifetime_value(
            bg, summary["frequency"], summary["recency"], summary["T"],
            summary["monetary_value"], time=12, discount_rate=0.01, freq="W",
        )  # fmt: skip
        result["predictions_seconds"] = time.perf_counter() - step
    return result


def file_mode(path: Path, out: Path) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clientele.settings")
    import django

    django.setup()
    from clientele.segmentation.orderfile import classify_order_file

    cpu = time.process_time()
    result = classify_order_file(str(path), str(out), until=END, zone=ZONE)
    timings = dict(result.timings, cpu=time.process_time() - cpu)
    models = json.loads((out / "models.json").read_text())
    return {"timings": timings, "customers": result.customers, "orders": result.orders,
            "bgnbd": models["bgnbd"], "gamma_gamma": models["gamma_gamma"]}  # fmt: skip


# --- main ------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10, help="orders per customer")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--skip-file", action="store_true")
    parser.add_argument("--skip-reference-predictions", action="store_true")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each file pipeline, alternating; the best counts")  # fmt: skip
    parser.add_argument("--workdir", default=str(HERE / "out"))
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="use the databases and data an earlier run left in --workdir",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    if args.worker:
        worker(args.worker, args.data, workdir, args.reuse)
        return

    results = {"customers": args.customers, "orders_per_customer": args.orders, "seed": args.seed}
    data = workdir / "data.npz"
    if not (args.reuse and data.exists()):
        started = time.perf_counter()
        customer, epoch, cents, status = generate(args.customers, args.orders, args.seed)
        np.savez(data, customer=customer, epoch=epoch, cents=cents, status=status,
                 customers=np.int64(args.customers))  # fmt: skip
        print(f"generated {customer.size:,} orders for {args.customers:,} customers in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip

    for backend in [b for b in args.backends.split(",") if b]:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", backend, "--data", str(data),
             "--workdir", str(workdir)] + (["--reuse"] if args.reuse else []),
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"{backend} worker failed")
        result = json.loads(line[len("RESULT ") :])
        results[backend] = result
        print(f"\n{backend}: loaded in {result['load_seconds']:.0f} s; a day's orders in"
              f" {result['day_load_seconds']:.1f} s", flush=True)  # fmt: skip
        for run in result["runs"]:
            print(f"  {run['label']}: {run['seconds']:.1f} s for all default definitions"
                  f" ({run['seconds'] / run['baseline']:.0f} x the baseline's"
                  f" {run['baseline']:.3f} s)")  # fmt: skip
            for key, info in run["definitions"].items():
                print(f"    {key:18s} {info['seconds']:7.1f} s  {info['status']}"
                      f"  {info['error'][:80] if info['error'] else ''}")  # fmt: skip

    if not args.skip_file:
        csv_path = workdir / "orders.csv"
        rows = write_csv(csv_path, np.load(data))
        print(f"\norder file: {rows:,} valued orders, {csv_path.stat().st_size / 1e6:.0f} MB",
              flush=True)  # fmt: skip
        # The machine is shared: the two pipelines run alternately --repeat times and the
        # best time of each is compared (each also reports its CPU seconds, all threads).
        ours_runs, ref_runs = [], []
        for attempt in range(1, args.repeat + 1):
            ours = file_mode(csv_path, workdir / "classify")
            ours_runs.append(ours)
            print(
                f"  [{attempt}] clientele classify --orders: {ours['timings']['total']:.1f} s "
                + json.dumps({k: round(v, 1) for k, v in ours["timings"].items()}),
                flush=True,
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ref = reference(csv_path, not args.skip_reference_predictions)
            ref_runs.append(ref)
            print(
                f"  [{attempt}] reference (lifetimes + pandas qcut): "
                f"{ref['timings']['total']:.1f} s "
                + json.dumps({k: round(v, 1) for k, v in ref["timings"].items()}),
                flush=True,
            )
            print(
                f"  [{attempt}] ratio reference / classify: "
                f"{ref['timings']['total'] / ours['timings']['total']:.1f}x",
                flush=True,
            )
        ours = min(ours_runs, key=lambda r: r["timings"]["total"])
        ref = min(ref_runs, key=lambda r: r["timings"]["total"])
        total = ref["timings"]["total"]
        ratio = total / ours["timings"]["total"]
        print(f"  best of {args.repeat}: classify {ours['timings']['total']:.1f} s, reference "
              f"{total:.1f} s, ratio {ratio:.1f}x (wall clock); CPU seconds (all threads) "
              f"{ref['timings']['cpu']:.1f} / {ours['timings']['cpu']:.1f} = "
              f"{ref['timings']['cpu'] / ours['timings']['cpu']:.1f}x")  # fmt: skip
        if "predictions_seconds" in ref:
            with_pred = total + ref["predictions_seconds"]
            print(f"  reference with its predictions (p alive, E[X(52)], CLV): {with_pred:.1f} s,"
                  f" ratio {with_pred / ours['timings']['total']:.1f}x")  # fmt: skip
        results["file"] = {"ours": ours_runs, "reference": ref_runs, "ratio": ratio, "rows": rows}
    (workdir / "results.json").write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
