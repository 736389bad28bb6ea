"""One Ibis expression per kind of model, over the canonical relations of `sources`.

Everything is set-based (grouping, joins and window functions run in the database) and
written so SQLite and PostgreSQL give identical answers:

- money is counted in integer cents, quantities in thousandths, days as integer day
  numbers in the organisation's time zone; thresholds become integer comparisons
  (shares in basis points), so no floating-point rounding can move a customer across a cut;
- every ordering has a unique tie-break (measure, then customer id) or treats ties alike
  on purpose (RFM quintiles, value bands), and no sort key is ever NULL (the two
  databases put NULLs at opposite ends).

Each function returns a table with the columns of `RESULT_SCHEMA`, one row per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis

from .constants import NO_PURCHASE
from .sources import Sources, local_day

RESULT_SCHEMA = {
    "customer_id": "int64",
    "code": "string",
    "measure": "float64",
    "rank": "int64",
    "share": "float64",
    "potential": "boolean",
    "score_r": "int64",
    "score_f": "int64",
    "score_m": "int64",
    "recency_days": "int64",
    "frequency": "int64",
    "monetary": "float64",
    "expectation": "float64",
    "p_alive": "float64",
    "expected_purchases": "float64",
    "expected_aov": "float64",
    "clv": "float64",
}
RESULT_COLUMNS = list(RESULT_SCHEMA)


class EngineError(Exception):
    """A definition cannot run on this data (e.g. ABC by quantity on an order file); the
    message is shown to the user as it is."""


@dataclass
class Context:
    """What every expression of one batch shares: the as-of day, the time zone's UTC
    offsets, the per-customer-day table and the definition being computed."""

    as_of_day: int
    offsets: list
    order_days: ibis.Table  # customer_id, day, cents, orders (valued orders, day <= as_of)
    definition_id: int | None = None
    # {(window, fact)} -> a stored `customer_facts_wide` table with at least those: a
    # batch computes the facts all its definitions read in one pass over the
    # customer-days instead of one pass per window and kind.
    wide_store: object | None = None

    def wide(self, needed):
        """These (window, fact) pairs, one row per customer (`customer_facts_wide`)."""
        if self.wide_store is None:
            return customer_facts_wide(self, needed)
        return self.wide_store(frozenset(needed))

    def facts(self, window_days, names):
        """Facts of one window (`window_facts`)."""
        return window_facts(self.wide({(window_days, n) for n in names}), window_days, names)


def result(t, **columns):
    """Select the given result columns from `t`, each of its RESULT_SCHEMA type; `widen`
    adds the others when the result is stored."""
    return t.select(
        **{
            name: columns[name].cast(kind)
            for name, kind in RESULT_SCHEMA.items()
            if name in columns
        }
    )


def widen(t):
    """Every RESULT_SCHEMA column of a result: the ones it lacks are NULL (potential False)."""
    out = {}
    for name, kind in RESULT_SCHEMA.items():
        if name in t.columns:
            out[name] = t[name]
        elif name == "potential":
            out[name] = ibis.literal(False)
        else:
            out[name] = ibis.null(kind)
    return t.select(**out)


def order_days(src: Sources, as_of_day: int, offsets) -> ibis.Table:
    """Valued orders merged per customer and local day (same-day purchases are one
    purchase occasion), up to and including the as-of day."""
    o = src.valued_orders
    o = o.mutate(day=local_day(o.epoch, offsets))
    o = o.filter(o.day <= as_of_day)
    return o.group_by(["customer_id", "day"]).aggregate(cents=o.cents.sum(), orders=o.count())


# first_key packs (day, cents) of a purchase day into one integer, so MIN() finds the
# first purchase day and its amount in the same pass (cents < 2**40, days < 2**23).
FIRST_SHIFT = 2**40
# The per-customer facts of one window (see `customer_facts_wide`).
FACT_NAMES = ("spend", "orders", "occasions", "first", "last", "occ_cents", "first_key", "before")


def window_tag(window_days) -> str:
    """The suffix of a window's columns in the facts table: all (no window) or d365."""
    return "all" if window_days is None else f"d{int(window_days)}"


def customer_facts_wide(ctx: Context, needed):
    """Facts of several windows in one pass over the customer-days: one row per customer
    with a valued order-day and a column `{fact}_{window_tag}` per (window, fact) pair
    asked for. The facts (`FACT_NAMES`): spend (net cents), orders, occasions (purchase
    days: a positive net amount), first and last purchase day, occ_cents (spend on
    purchase days), first_key (first purchase day x 2**40 + its cents) and, for a window
    of w days, before (the last purchase day before it). Outside a window sums and days
    are NULL and counts 0."""
    od = ctx.order_days
    aggregates = {}
    for window_days, name in sorted(needed, key=lambda p: (-1 if p[0] is None else p[0], p[1])):
        if name not in FACT_NAMES or (name == "before" and window_days is None):
            raise ValueError(f"no fact {name} for window {window_days}")
        inside = None if window_days is None else od.day > ctx.as_of_day - int(window_days)
        aggregates[f"{name}_{window_tag(window_days)}"] = _fact(od, name, inside)
    return od.group_by("customer_id").aggregate(**aggregates)


def _fact(od, name: str, inside):
    """One fact's aggregate over customer-days; `inside` selects the window's days (None:
    all of them)."""
    buy = od.cents > 0
    bought = buy if inside is None else buy & inside
    if name == "spend":
        return od.cents.sum(where=inside)
    if name == "orders":
        return od.orders.sum(where=inside)
    if name == "occasions":
        return od.count(where=bought)
    if name == "first":
        return od.day.min(where=bought)
    if name == "last":
        return od.day.max(where=bought)
    if name == "occ_cents":
        return od.cents.sum(where=bought)
    if name == "first_key":
        return (od.day * FIRST_SHIFT + od.cents).min(where=bought)
    return od.day.max(where=buy & ~inside)  # before


def window_facts(wide, window_days, names):
    """Facts of one window from a `customer_facts_wide` table that has them. Customers
    without a valued order-day in the window keep their row, with NULL sums and days and
    0 occasions: every reader joins the facts to the customers and fills those in."""
    tag = window_tag(window_days)
    return wide.select(customer_id=wide.customer_id, **{n: wide[f"{n}_{tag}"] for n in names})


# The facts each kind reads (see `facts_needed`).
RFM_FACTS = ("last", "occasions", "occ_cents")
CLV_FACTS = ("first", "last", "occasions", "occ_cents", "first_key")
LIFECYCLE_FACTS = ("first", "last", "occasions")  # all time
LIFECYCLE_RECENT_FACTS = ("first", "before")  # within reactivated_days


def facts_needed(kind: str, p: dict) -> set:
    """The (window, fact) pairs a definition reads, so a batch can compute them together."""
    from .constants import Kind

    def pairs(window_days, names):
        return {(window_days, name) for name in names}

    if kind == Kind.ABC:
        if p["measure"] in ("spend", "orders"):
            return pairs(p["window_days"], [p["measure"]])
        return set()
    if kind == Kind.TIER:
        return pairs(p["window_days"] if p["downgrade"] == "rolling" else None, ["spend"])
    if kind == Kind.RFM:
        return pairs(p["window_days"], RFM_FACTS)
    if kind == Kind.CLV:
        return pairs(p["window_days"], CLV_FACTS)
    if kind == Kind.LIFECYCLE:
        return pairs(None, LIFECYCLE_FACTS) | pairs(p["reactivated_days"], LIFECYCLE_RECENT_FACTS)
    if kind == Kind.QUADRANT:
        needed = pairs(p["expectation"]["window_days"], ["orders"])
        if p["value"]["measure"] == "spend":
            needed |= pairs(p["value"]["window_days"], ["spend"])
        return needed
    return set()


def _within(t, ctx: Context, window_days):
    if window_days is None:
        return t
    return t.filter(t.day > ctx.as_of_day - int(window_days))


def _bp(percent: float) -> int:
    """A percentage as integer basis points (80 -> 8000)."""
    return int(round(percent * 100))


def _by_customer(src: Sources, per_customer, **fill):
    """All customers left-joined to a per-customer aggregate, NULLs filled as given."""
    c = src.customers
    j = c.left_join(per_customer, c.id == per_customer.customer_id)
    cols = {"customer_id": j.id}
    for name in per_customer.columns:
        if name == "customer_id":
            continue
        cols[name] = j[name].fill_null(fill[name]) if name in fill else j[name]
    return j.select(**cols)


def tie_stats(t, column: str, descending: bool = False):
    """Per group (`buyer`) and distinct value of `column`: how many customers have it
    (ties), how many come before it in the order (rank0, what RANK() - 1 gives each of
    them) and the group's size (n). The quintile score (`_tie_score`) depends on nothing
    else, so one sort of the distinct values replaces three window passes over every
    customer (RFM at 1,000,000 customers sorted nine times)."""
    s = t.group_by([t.buyer, t[column].name("value")]).aggregate(ties=t.count())
    order = ibis.desc(s.value) if descending else s.value
    running = s.ties.cumsum(group_by=s.buyer, order_by=order)
    return s.select(
        buyer=s.buyer,
        value=s.value,
        ties=s.ties,
        rank0=(running - s.ties).cast("int64"),
        n=s.ties.sum().over(group_by=s.buyer).cast("int64"),
    )


def _tie_score(stats):
    """Quintile score 1-5 from the average rank of a value within its group: equal values
    get equal scores, a single customer or identical customers get 3."""
    return ((5 * (2 * stats.rank0 + stats.ties)) // (2 * stats.n) + 1).cast("int64")


def _scored(t, stats: dict):
    """`t` with the quintile score of each column of RFM_SCORED, from the column's tie
    statistics (`stats[column]`, see `tie_stats`). One flat join of the four tables: with
    the joins nested in subqueries SQLite searched the statistics by `buyer` alone."""
    j = t
    for column, _score, _descending in RFM_SCORED:
        s = stats[column]
        j = j.join(s, [t.buyer == s.buyer, t[column] == s.value])
    scores = {score: _tie_score(stats[column]) for column, score, _d in RFM_SCORED}
    return j.select(*[t[c] for c in t.columns], **scores)


# --- ABC / Pareto -------------------------------------------------------------------


def abc(src: Sources, ctx: Context, p: dict):
    """A = the smallest set of top customers (measure desc, id asc) whose cumulative
    measure reaches a_share % of the total, B up to b_share %, C the rest (and every
    customer whose measure is zero or negative). `potential` flags customers whose
    declared annual demand is at least min_demand while their last 365 days of purchases
    in that unit cover less than max_coverage % of it."""
    measure = p["measure"]
    if measure in ("margin", "quantity") and src.lines is None:
        raise EngineError(
            f"ABC by {measure} needs order lines with products; an order file has none."
        )
    if measure in ("spend", "orders"):
        facts = ctx.facts(p["window_days"], [measure])
        per = facts.select(
            customer_id=facts.customer_id,
            m=facts.spend if measure == "spend" else facts.orders,
        )
    else:
        lines = src.lines.mutate(day=local_day(src.lines.epoch, ctx.offsets))
        lines = _within(lines.filter(lines.day <= ctx.as_of_day), ctx, p["window_days"])
        if measure == "quantity":
            lines = lines.filter(lines.unit == p["unit"])
            per = lines.group_by("customer_id").aggregate(m=lines.qty_milli.sum())
        else:
            # Margin in 1/100,000 of the currency (cents x thousandths), made cents once per
            # customer; lines of products without a known cost contribute nothing.
            lines = lines.filter(lines.cost_cents.notnull())
            per = lines.group_by("customer_id").aggregate(
                m=(lines.amount_cents * 1000 - lines.qty_milli * lines.cost_cents).sum()
            )
            per = per.mutate(m=(per.m // 1000).cast("int64"))
    t = _by_customer(src, per, m=0)
    positive = ibis.cases((t.m > 0, t.m), else_=0)
    order = [ibis.desc(t.m), t.customer_id]
    t = t.mutate(
        total=positive.sum().over(),
        cum=positive.cumsum(order_by=order),
        rank=ibis.row_number().over(order_by=order) + 1,
    )
    # The flag joins after the windows: every column a window carries is sorted with it
    # (DuckDB took twice as long at a million customers with one more).
    if p.get("potential") and src.lines is not None:
        flags = _potential(src, ctx, p["potential"])
        t = t.left_join(flags, t.customer_id == flags.pid)
        t = t.select(
            *(t[name] for name in ("customer_id", "m", "total", "cum", "rank")),
            flag=t.flag.fill_null(False),
        )
    else:
        t = t.mutate(flag=ibis.literal(False))
    before = t.cum - t.m
    code = ibis.cases(
        ((t.m > 0) & (before * 10000 < _bp(p["a_share"]) * t.total), "A"),
        ((t.m > 0) & (before * 10000 < _bp(p["b_share"]) * t.total), "B"),
        else_="C",
    )
    share = ibis.cases((t.m > 0, t.cum.cast("float64") * 100.0 / t.total), else_=ibis.null())
    scale = {"spend": 100.0, "margin": 100.0, "quantity": 1000.0, "orders": 1.0}[measure]
    return result(
        t,
        customer_id=t.customer_id,
        code=code,
        measure=t.m.cast("float64") / scale,
        rank=t.rank,
        share=share,
        potential=t.flag,
    )


def _potential(src: Sources, ctx: Context, spec: dict):
    """Customers with a large declared demand that their purchases here barely cover."""
    c = src.customers
    big = c.filter(c.demand_milli >= int(round(spec["min_demand"] * 1000)))
    lines = src.lines.mutate(day=local_day(src.lines.epoch, ctx.offsets))
    lines = lines.filter((lines.day <= ctx.as_of_day) & (lines.day > ctx.as_of_day - 365))
    j = lines.join(big, (lines.customer_id == big.id) & (lines.unit == big.demand_unit))
    bought = j.group_by(j.customer_id).aggregate(q=j.qty_milli.sum())
    k = big.left_join(bought, big.id == bought.customer_id)
    q = k.q.fill_null(0)
    return k.select(pid=k.id, flag=q * 10000 < _bp(spec["max_coverage"]) * k.demand_milli)


# --- spend tiers ---------------------------------------------------------------------


def tiers(src: Sources, ctx: Context, p: dict):
    """The highest tier whose minimum the qualifying spend reaches: cumulative spend, or
    spend in the last window_days with a rolling downgrade. A customer never drops below
    the tier held (downgrade "never"), or drops only once window_days have passed since
    the tier was last reviewed (rolling); upgrades take effect at once."""
    rolling = p["downgrade"] == "rolling"
    facts = ctx.facts(p["window_days"] if rolling else None, ["spend"])
    per = facts.select(customer_id=facts.customer_id, spend=facts.spend)
    t = _by_customer(src, per, spend=0)
    levels = p["tiers"]
    level = ibis.cases(
        *[(t.spend >= int(round(tier["min_spend"] * 100)), i)
          for i, tier in reversed(list(enumerate(levels)))],
        else_=0,
    )  # fmt: skip
    t = t.mutate(level=level.cast("int64"))
    if src.current is not None and ctx.definition_id is not None:
        # A level set by hand is no level earned: once cleared it is not kept.
        cur = src.current.filter(
            (src.current.definition_id == ctx.definition_id) & ~src.current.manual
        )
        cur = cur.select(
            cid=cur.customer_id,
            prev=ibis.cases(
                *[(cur.code == tier["code"], i) for i, tier in enumerate(levels)],
                else_=ibis.null("int64"),
            ),
            reviewed=cur.reviewed_at,
        )
        j = t.left_join(cur, t.customer_id == cur.cid)
        keep = ibis.greatest(j.level, j.prev.fill_null(0))
        if rolling:
            due = j.reviewed <= ibis.literal(_date_of(ctx.as_of_day - p["window_days"]))
            final = ibis.cases((j.prev.isnull() | due, j.level), else_=keep)
        else:
            final = ibis.cases((j.prev.isnull(), j.level), else_=keep)
        t = j.select(customer_id=j.customer_id, spend=j.spend, level=final.cast("int64"))
    code = ibis.cases(*[(t.level == i, tier["code"]) for i, tier in enumerate(levels)],
                      else_=levels[0]["code"])  # fmt: skip
    return result(t, customer_id=t.customer_id, code=code, measure=t.spend.cast("float64") / 100)


def _date_of(day: int):
    from .sources import day_date

    return day_date(day)


# --- RFM -----------------------------------------------------------------------------


# The RFM inputs' columns scored by quintiles: (column, score, ordered descending).
RFM_SCORED = (("rec", "sr", True), ("f", "sf", False), ("m", "sm", False))
# The index of a stored `tie_stats` table. Value first: led by `buyer`, SQLite (with no
# statistics on temporary tables) searched the table by `buyer` alone for every customer.
TIE_STATS_INDEX = ("value", "buyer")


def rfm_inputs(src: Sources, ctx: Context, p: dict):
    """Every customer's recency (days since the last purchase occasion), frequency
    (occasions) and monetary (spend on them) in the window; `buyer` is false for those
    without a purchase there (their values are 0). The batch stores this table once and
    scores it (`tie_stats`, `rfm`)."""
    facts = ctx.facts(p["window_days"], RFM_FACTS)
    per = facts.select(
        customer_id=facts.customer_id, last=facts.last, f=facts.occasions, m=facts.occ_cents
    )
    t = _by_customer(src, per)
    return t.select(
        customer_id=t.customer_id,
        buyer=t.last.notnull(),
        last=t.last,
        rec=(ctx.as_of_day - t.last.fill_null(ctx.as_of_day)).cast("int64"),
        f=t.f.fill_null(0).cast("int64"),
        m=t.m.fill_null(0).cast("int64"),
    )


def rfm(inputs, p: dict, stats: dict | None = None):
    """R, F and M scored 1-5 by quintiles of the average rank within buyers (ties score
    alike; `stats` maps each column to its `tie_stats` table) or by fixed cut-offs; the
    segment comes from the R-F map. Customers without a purchase in the window get the
    class "none"."""
    return rfm_segments(rfm_scores(inputs, p, stats), p)


def rfm_scores(inputs, p: dict, stats: dict | None = None):
    """The inputs with their scores sr, sf, sm (NULL, like rec, f and m, for customers
    without a purchase in the window). A batch stores this table before `rfm_segments`
    reads it: compiled into one statement, every use of a score in the segment map
    repeated the score's whole formula (6 s of PostgreSQL's time at 1,000,000 customers)."""
    t = inputs
    if p["method"] == "quintile":
        t = _scored(t, stats)
    else:
        cut = p["cutoffs"]
        t = t.mutate(
            sr=5 - sum(ibis.cases((t.rec > c, 1), else_=0) for c in cut["recency_days"]),
            sf=1 + sum(ibis.cases((t.f >= c, 1), else_=0) for c in cut["frequency"]),
            sm=1 + sum(ibis.cases((t.m >= int(round(c * 100)), 1), else_=0)
                       for c in cut["monetary"]),
        )  # fmt: skip
    none_int = ibis.null("int64")
    t = t.mutate(
        sr=ibis.cases((t.buyer, t.sr), else_=none_int),
        sf=ibis.cases((t.buyer, t.sf), else_=none_int),
        sm=ibis.cases((t.buyer, t.sm), else_=none_int),
        rec=ibis.cases((t.buyer, t.rec), else_=none_int),
        f=ibis.cases((t.buyer, t.f), else_=none_int),
        m=ibis.cases((t.buyer, t.m), else_=none_int),
    )
    return t.select("customer_id", "last", "sr", "sf", "sm", "rec", "f", "m")


def rfm_segments(t, p: dict):
    """The RFM result from `rfm_scores`: the segment from the R-F map."""
    segment = ibis.cases(
        *[
            (
                t.sr.between(seg["r"][0], seg["r"][1]) & t.sf.between(seg["f"][0], seg["f"][1]),
                seg["code"],
            )
            for seg in p["segments"]
        ],
        else_=NO_PURCHASE,
    )
    code = ibis.cases((t.last.isnull(), NO_PURCHASE), else_=segment)
    return result(
        t,
        customer_id=t.customer_id,
        code=code,
        measure=t.m.cast("float64") / 100,
        score_r=t.sr,
        score_f=t.sf,
        score_m=t.sm,
        recency_days=t.rec,
        frequency=t.f,
        monetary=t.m.cast("float64") / 100,
    )


# --- lifetime value: the statistics (fit and predictions are in engine.py) ------------


def clv_facts(src: Sources, ctx: Context, p: dict, period_days: float):
    """Per customer with a purchase occasion: x (repeat occasions), t_x and T in days from
    the first occasion, the same in whole model periods (tp, ap: what the model is fitted
    on, as lifetimes' summary does, so customers compress to few unique histories), total
    and repeat spend in cents."""
    f = ctx.facts(p["window_days"], CLV_FACTS)
    f = f.filter(f.first.notnull())
    first_cents = f.first_key - f.first * FIRST_SHIFT
    return f.select(
        customer_id=f.customer_id,
        x=(f.occasions - 1).cast("int64"),
        t_x=(f.last - f.first).cast("int64"),
        age=(ctx.as_of_day - f.first).cast("int64"),
        tp=((f.last - f.first) // period_days).cast("int64"),
        ap=((ctx.as_of_day - f.first) // period_days).cast("int64"),
        total=f.occ_cents,
        repeat=(f.occ_cents - first_cents).cast("int64"),
        recency=(ctx.as_of_day - f.last).cast("int64"),
    )


def spend_buckets(facts, per_unit: int):
    """(x, bucket, customers) for repeat buyers, bucket = floor(ln(mean repeat spend in
    cents) x per_unit): the compressed statistics of the Gamma-Gamma fit."""
    rep = facts.filter((facts.x > 0) & (facts.repeat > 0))
    rep = rep.mutate(
        bucket=((rep.repeat.cast("float64") / rep.x.cast("float64")).ln() * per_unit)
        .floor()
        .cast("int64")
    )
    return rep.group_by(["x", "bucket"]).aggregate(n=rep.count())


# A (x, tp, ap) history packed into one integer, 21 bits each (x * 2**42 + tp * 2**21 +
# ap), for joining customers to their history's predictions on one column: a join on the
# three columns made PostgreSQL sort a million customers by all three first.
HISTORY_PART = 2**21


def history_key(x, tp, ap):
    """The packed history of (x, tp, ap), each in [0, HISTORY_PART): numbers, numpy arrays
    or Ibis columns alike."""
    return x * HISTORY_PART**2 + tp * HISTORY_PART + ap


def _predicted(t, triples, packed: bool):
    """The join condition of rows with (x, tp, ap) to their history's predictions."""
    if packed:
        return history_key(t.x, t.tp, t.ap) == triples.history
    return (t.x == triples.tx) & (t.tp == triples.ttx) & (t.ap == triples.tage)


def _valued(t, gg, own_mean_fallback: bool):
    """(mean repeat order value, expected order value, lifetime value) of a row with x,
    total, repeat (cents) and its history's discounted purchase factor: the expected
    order value by the Gamma-Gamma formula, or the customer's own mean order value when
    Gamma-Gamma could not be fitted (`gg` None)."""
    own = t.total.cast("float64") / 100.0 / (t.x + 1).cast("float64")
    m = t.repeat.cast("float64") / 100.0 / t.x.cast("float64")
    if gg is None or own_mean_fallback:
        aov = own
    else:
        pp, q, g = (float(v) for v in (gg.p, gg.q, gg.gamma))
        population = pp * g / (q - 1) if q > 1 else None
        den = t.x.cast("float64") * pp + (q - 1)
        informative = (t.x > 0) & (t.repeat > 0) & (den > 0)
        blend = pp * (g + t.x.cast("float64") * m) / den
        fallback = ibis.literal(population) if population is not None else own
        aov = ibis.cases((informative, blend), else_=fallback)
    return m, aov, (t.factor * aov).cast("float64")


def clv_ranks(facts, triples, gg, own_mean_fallback: bool, packed: bool = False):
    """(rid, r1, n): each buyer's rank by lifetime value (ties share a rank) among the n
    buyers. Ranked on these two columns alone and joined back by `clv_result`: a window
    carrying every result column sorted all of them (DuckDB 0.7 against 0.25 s for a
    million customers)."""
    b = facts.inner_join(triples, _predicted(facts, triples, packed))
    b = b.select(rid=b.customer_id, v=_valued(b, gg, own_mean_fallback)[2])
    return b.select(
        rid=b.rid, r1=ibis.rank().over(order_by=ibis.desc(b.v)) + 1, n=b.rid.count().over()
    )


def clv_result(
    src: Sources, facts, triples, ranks, p: dict, gg, own_mean_fallback: bool,
    packed: bool = False,
):  # fmt: skip
    """Join customers, their statistics, the per-(x, t_x, T) predictions and their rank
    (`clv_ranks`); value bands by rank of lifetime value among buyers (ties share a
    band)."""
    c = src.customers
    j = c.left_join(facts, c.id == facts.customer_id)
    j = j.select(
        customer_id=j.id, x=j.x, tp=j.tp, ap=j.ap, total=j.total, repeat=j.repeat,
        recency=j.recency, buyer=j.x.notnull(),
    )  # fmt: skip
    k = j.left_join(triples, _predicted(j, triples, packed))
    k = k.left_join(ranks, k.customer_id == ranks.rid)
    m, aov, clv = _valued(k, gg, own_mean_fallback)
    bands = p["bands"]
    code = ibis.cases(
        (~k.buyer, NO_PURCHASE),
        (k.r1 * 10000 <= _bp(bands[0]) * k.n + 9999, "high"),
        (k.r1 * 10000 <= _bp(bands[1]) * k.n + 9999, "medium"),
        else_="low",
    )
    buyer = k.buyer
    return result(
        k,
        customer_id=k.customer_id,
        code=code,
        measure=ibis.cases((buyer, clv), else_=ibis.null()),
        rank=ibis.cases((buyer, k.r1), else_=ibis.null()),
        recency_days=k.recency,
        frequency=k.x,
        monetary=ibis.cases((buyer & (k.x > 0), m), else_=ibis.null()),
        p_alive=ibis.cases((buyer, k.p_alive), else_=ibis.null()),
        expected_purchases=ibis.cases((buyer, k.expected), else_=ibis.null()),
        expected_aov=ibis.cases((buyer, aov), else_=ibis.null()),
        clv=ibis.cases((buyer, clv), else_=ibis.null()),
    )


# --- lifecycle -----------------------------------------------------------------------


def lifecycle(src: Sources, ctx: Context, p: dict, alive=None):
    """prospect (never bought), new (first occasion within new_days), lapsed (silent longer
    than lapsed_days), reactivated (came back within reactivated_days after a silence
    longer than lapsed_days), at risk (silent longer than risk_factor x the customer's own
    mean gap between occasions — default_gap_days with a single occasion — or probability
    alive below p_alive_below), else active. `alive` is a table (customer_id, p_alive)."""
    recent_days = p["reactivated_days"]
    w = ctx.wide(
        {(None, n) for n in LIFECYCLE_FACTS} | {(recent_days, n) for n in LIFECYCLE_RECENT_FACTS}
    )
    recent = window_tag(recent_days)
    per = w.select(
        customer_id=w.customer_id,
        first=w.first_all,
        last=w.last_all,
        n=w.occasions_all,
        back=w[f"first_{recent}"],  # the first purchase day within reactivated_days
        before=w[f"before_{recent}"],  # the last one before them
    )
    # Customers whose valued orders all had no amount never bought: no row, as prospects.
    per = per.filter(per.last.notnull())
    t = _by_customer(src, per)
    if alive is not None:
        t = t.left_join(alive, t.customer_id == alive.customer_id).select(
            *[t[col] for col in t.columns], pa=alive.p_alive
        )
    else:
        t = t.mutate(pa=ibis.null("float64"))
    silence = (ctx.as_of_day - t.last).cast("int64")
    k10 = int(round(p["risk_factor"] * 10))
    slow = ibis.cases(
        (t.n >= 2, silence * (t.n - 1) * 10 > k10 * (t.last - t.first)),
        else_=silence * 10 > k10 * p["default_gap_days"],
    )
    if p.get("p_alive_below") is not None and alive is not None:
        slow = slow | (t.pa.notnull() & (t.pa < p["p_alive_below"]))
    code = ibis.cases(
        (t.last.isnull(), "prospect"),
        (ctx.as_of_day - t.first < p["new_days"], "new"),
        (silence > p["lapsed_days"], "lapsed"),
        (t.before.notnull() & t.back.notnull() & (t.back - t.before > p["lapsed_days"]),
         "reactivated"),
        (slow, "at_risk"),
        else_="active",
    )  # fmt: skip
    gap = ibis.cases(
        (t.n >= 2, (t.last - t.first).cast("float64") / (t.n - 1).cast("float64")),
        else_=ibis.null(),
    )
    return result(
        t,
        customer_id=t.customer_id,
        code=code,
        measure=gap,
        recency_days=silence,
        frequency=t.n,
        p_alive=t.pa,
    )


# --- value x expectation ---------------------------------------------------------------


def quadrant_inputs(src: Sources, ctx: Context, p: dict, clv=None):
    """Per customer: value (spend in the window, or lifetime value from `clv`) and
    expectation (feedback of the chosen kinds per order in the expectation window; per
    customer without orders, the feedback count)."""
    value_spec, exp_spec = p["value"], p["expectation"]
    c = src.customers.select(customer_id=src.customers.id)
    if value_spec["measure"] == "spend":
        facts = ctx.facts(value_spec["window_days"], ["spend"])
        per = facts.select(vid=facts.customer_id, v=facts.spend.cast("float64") / 100)
    else:
        if clv is None:
            raise EngineError("Quadrants by lifetime value need the lifetime-value results.")
        per = clv.select(vid=clv.customer_id, v=clv.clv)
    fb = src.feedback
    fb = fb.mutate(day=local_day(fb.epoch, ctx.offsets))
    fb = fb.filter(fb.kind.isin(exp_spec["kinds"]) & (fb.day <= ctx.as_of_day))
    fb = _within(fb, ctx, exp_spec["window_days"])
    complaints = fb.group_by("customer_id").aggregate(k=fb.count())
    complaints = complaints.select(kid=complaints.customer_id, k=complaints.k)
    facts = ctx.facts(exp_spec["window_days"], ["orders"])
    orders = facts.select(oid=facts.customer_id, o=facts.orders)
    j = (
        c.left_join(per, c.customer_id == per.vid)
        .left_join(complaints, c.customer_id == complaints.kid)
        .left_join(orders, c.customer_id == orders.oid)
    )
    o = ibis.greatest(j.o.fill_null(0), 1)
    return j.select(
        customer_id=j.customer_id,
        value=j.v.fill_null(0.0).cast("float64"),
        expectation=j.k.fill_null(0).cast("float64") / o.cast("float64"),
    )


def quadrants(inputs, value_cut: float, expectation_cut: float):
    """High value means above the value cut, high expectation above the expectation cut
    (both strictly, so customers exactly at a median are on the low side)."""
    hv = inputs.value > value_cut
    he = inputs.expectation > expectation_cut
    code = ibis.cases((hv & he, "intimate"), (hv, "safe"), (he, "dangerous"), else_="stranger")
    return result(
        inputs,
        customer_id=inputs.customer_id,
        code=code,
        measure=inputs.value,
        expectation=inputs.expectation,
    )
