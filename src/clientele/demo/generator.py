"""Generate one chunk of the demo company's customers with everything that hangs off them.

Everything is drawn with numpy in whole arrays (no Python loop over customers or orders
decides anything; comprehensions only format strings), from
`np.random.default_rng([seed, chunk number])`, so a chunk is the same whatever else is
generated and a load can be resumed chunk by chunk.

The shape of the business:

* Purchase rates are gamma-distributed and customers differ in the price level they buy
  at, so spend is heavy-tailed: the top 20% of customers make about three quarters of it.
* Each customer has an active span (joined before or during the window, some churn), and
  orders fall inside it by the channel's daily weights (11.11, Spring Festival, weekdays).
* Money is integer cents until it is written: line amount = quantity x unit price rounded
  half-up to the cent, minus a whole-yuan discount; order total = sum of its lines.
"""

from dataclasses import dataclass, field

import numpy as np

from . import data
from .calendar import DAY, WINDOW_DAYS, Calendar

# Customer mix and behaviour.
PROSPECT_SHARE = 0.08  # people who registered but never bought
EXISTING_SHARE = (0.6, 0.8)  # joined before the window: people, organizations
CHURN_SHARE = 0.2
RATE_SHAPE = 0.75  # gamma shape of purchase rates: smaller means more unequal
ORG_RATE_FACTOR = 1.5
OWNED_TOP_SHARE = 0.03  # the best people get an account manager too
DO_NOT_DISTURB_SHARE = 0.005
CATEGORY_WEIGHTS = (0.27, 0.26, 0.16, 0.08, 0.23)  # beauty, apparel, baby, digital, food
FOOD, DIGITAL = 4, 3
LINES_PER_ORDER = {False: (0.42, 0.28, 0.18, 0.12), True: (0.25, 0.30, 0.25, 0.20)}
CANCELLED_SHARE = 0.02
RETURNED_SHARE = 0.03
ORDER_CHANNELS = ("store", "online", "phone", "sales")


def mean_lines_per_order(org_share: float = 0.015) -> float:
    """Expected order lines per order, for sizing a load by lines."""
    person = np.dot(LINES_PER_ORDER[False], (1, 2, 3, 4))
    org = np.dot(LINES_PER_ORDER[True], (1, 2, 3, 4))
    return float(person * (1 - org_share) + org * org_share)


@dataclass
class Refs:
    """Database ids the generated rows point to, and the catalogue as arrays."""

    product_ids: np.ndarray
    price_cents: np.ndarray
    product_top: np.ndarray
    product_bulk: np.ndarray
    product_role: np.ndarray
    tag_ids: dict[str, int]
    team_ids: dict[str, int]
    managers_by_team: dict[str, np.ndarray]
    service_ids: np.ndarray
    marketing_id: int

    def __post_init__(self):
        """Index the catalogue for drawing products by price level."""
        # Retail products of each top category sorted by price, so "buys at the 70th
        # percentile of prices" becomes one index into a slice.
        retail = ~self.product_bulk
        ordered, offsets, lengths = [], [], []
        for top in range(len(CATEGORY_WEIGHTS)):
            members = np.flatnonzero(retail & (self.product_top == top))
            members = members[np.argsort(self.price_cents[members], kind="stable")]
            offsets.append(sum(len(m) for m in ordered))
            lengths.append(len(members))
            ordered.append(members)
        self.retail_sorted = np.concatenate(ordered)
        self.retail_offset = np.asarray(offsets)
        self.retail_length = np.asarray(lengths)
        self.bulk_products = np.flatnonzero(self.product_bulk)


@dataclass
class Table:
    """Rows for one model as columns: numpy arrays, lists, or one value for every row."""

    model: type
    count: int
    columns: dict[str, object] = field(default_factory=dict)


@dataclass
class ChunkResult:
    """The tables of one chunk in insertion order, and a few numbers for progress."""

    tables: list[Table]
    customers: int
    orders: int
    lines: int
    next_contact_id: int
    next_order_id: int


def _pick(rng, weights, size) -> np.ndarray:
    """`size` indexes into `weights`, drawn in proportion to them."""
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _nullable(values: np.ndarray, present: np.ndarray) -> list:
    """A list with None where `present` is false (nullable foreign keys and dates)."""
    out = values.astype(object)
    out[~present] = None
    return out.tolist()


def _unique_digits(index: np.ndarray, multiplier: int, modulus: int, offset: int = 0):
    """A bijection of indexes onto [offset, offset + modulus): unique phone and card
    numbers without remembering the ones already given out (multiplier coprime to
    modulus)."""
    return offset + (index.astype(np.int64) * multiplier + 7_654_321) % modulus


class _Places:
    """PLACES flattened to one row per district with its weight and team."""

    def __init__(self):
        """Flatten the nested PLACES table and find each province's team."""
        rows = []
        for province, (weight, cities) in data.PLACES.items():
            team = next(
                (t for t, provinces in data.TEAM_REGIONS.items() if province in provinces),
                "华北大客户组",
            )
            city_weights = np.array([1.0, 0.6, 0.4, 0.3][: len(cities)])
            city_weights /= city_weights.sum()
            for (city, area, districts), city_weight in zip(cities, city_weights, strict=True):
                names = districts.split()
                for district in names:
                    rows.append(
                        (province, city, district, area, team, weight * city_weight / len(names))
                    )
        self.province, self.city, self.district, self.area, self.team, weights = map(
            np.asarray, zip(*rows, strict=True)
        )
        self.weights = weights.astype(float)


PLACES = _Places()


def _names(rng, female: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Chinese personal names and the index of each surname (for e-mail addresses)."""
    size = len(female)
    surname_weights = [s[2] for s in data.SURNAMES]
    surname = _pick(rng, surname_weights, size)
    two_chars = rng.random(size) < 0.65
    female_chars = np.asarray(data.GIVEN_FEMALE)
    male_chars = np.asarray(data.GIVEN_MALE)
    first = np.where(
        female,
        female_chars[rng.integers(0, len(female_chars), size)],
        male_chars[rng.integers(0, len(male_chars), size)],
    )
    second = np.where(
        female,
        female_chars[rng.integers(0, len(female_chars), size)],
        male_chars[rng.integers(0, len(male_chars), size)],
    )
    second = np.where(two_chars, second, "")
    surnames = np.asarray([s[0] for s in data.SURNAMES])[surname]
    names = [
        a + b + c
        for a, b, c in zip(surnames.tolist(), first.tolist(), second.tolist(), strict=True)
    ]
    return names, surname


def _mobiles(rng, index: np.ndarray) -> list[str]:
    """Unique 11-digit mobile numbers: a carrier prefix and 8 digits unique per index."""
    prefixes = np.asarray(data.MOBILE_PREFIXES)[
        rng.integers(0, len(data.MOBILE_PREFIXES), len(index))
    ]
    digits = _unique_digits(index, 61_803_399, 100_000_000)
    return [f"{p}{d:08d}" for p, d in zip(prefixes.tolist(), digits.tolist(), strict=True)]


def generate_chunk(
    *,
    seed: int,
    chunk_no: int,
    first: int,
    count: int,
    organizations: int,
    calendar: Calendar,
    refs: Refs,
    first_customer_id: int,
    first_contact_id: int,
    first_order_id: int,
    orders_per_customer: float,
    now: int,
) -> ChunkResult:
    """Customers first .. first + count - 1 (zero-based, across the whole load), of which
    `organizations` are companies, with their contacts, consents, tags, orders and lines,
    interactions and feedback. `now` (UTC epoch seconds) bounds every time."""
    from clientele.customers.models import Consent, Contact, Customer, Feedback, Interaction
    from clientele.sales.models import Order, OrderLine

    rng = np.random.default_rng([seed, chunk_no])
    n = count
    index = first + np.arange(n, dtype=np.int64)
    ids = first_customer_id + np.arange(n, dtype=np.int64)
    last_day = WINDOW_DAYS - 1

    # --- who they are -----------------------------------------------------------------
    is_org = np.zeros(n, dtype=bool)
    if organizations:
        is_org[rng.choice(n, size=organizations, replace=False)] = True
    female = rng.random(n) < 0.62
    names, surname = _names(rng, female)
    place = _pick(rng, PLACES.weights, n)
    province, city, district = PLACES.province[place], PLACES.city[place], PLACES.district[place]
    team_of_place = PLACES.team[place]
    roads = np.asarray(data.ROADS)[rng.integers(0, len(data.ROADS), n)]
    house = rng.integers(1, 999, n)
    building = rng.integers(1, 30, n)
    room = rng.integers(101, 2808, n)
    address = [
        f"{r}{h}号{f}楼" if o else f"{r}{h}号{b}栋{m}室"
        for r, h, b, m, f, o in zip(
            roads.tolist(),
            house.tolist(),
            building.tolist(),
            room.tolist(),
            (room // 100).tolist(),
            is_org.tolist(),
            strict=True,
        )
    ]
    age_years = np.clip(rng.normal(37, 12, n), 18, 82)
    today = np.datetime64(calendar.today, "D")
    birthday = today - (age_years * 365.25).astype("timedelta64[D]")
    has_birthday = (~is_org) & (rng.random(n) < 0.88)

    has_mobile = (~is_org) & (rng.random(n) < 0.97)
    mobiles = _mobiles(rng, index)
    area = PLACES.area[place]
    landline = _unique_digits(index, 43_245_679, 70_000_000, 20_000_000)
    phone = [
        f"{a}-{d}" if o else (m if has else "")
        for a, d, m, o, has in zip(
            area.tolist(),
            landline.tolist(),
            mobiles,
            is_org.tolist(),
            has_mobile.tolist(),
            strict=True,
        )
    ]
    email_kind = rng.random(n)
    has_email = np.where(is_org, rng.random(n) < 0.7, email_kind < 0.35)
    qq = rng.integers(100_000, 3_000_000_000, n)
    domains = np.asarray([d for d, _ in data.EMAIL_DOMAINS])[
        _pick(rng, [w for _, w in data.EMAIL_DOMAINS], n)
    ]
    pinyin = np.asarray([s[1] for s in data.SURNAMES])[surname]
    year = (calendar.today.year - age_years).astype(int)

    # Organizations: industry, size, brand, declared demand.
    industry = _pick(rng, [i[3] for i in data.INDUSTRIES], n)
    industry_name = np.asarray([i[0] for i in data.INDUSTRIES])[industry]
    industry_category = np.asarray([i[1] for i in data.INDUSTRIES])[industry]
    tonnage = is_org & np.asarray([i[2] for i in data.INDUSTRIES])[industry]
    brand = rng.integers(0, len(data.ORG_BRANDS), n)
    brand_name = np.asarray([b[0] for b in data.ORG_BRANDS])[brand]
    brand_pinyin = np.asarray([b[1] for b in data.ORG_BRANDS])[brand]
    size = np.asarray([s for s, _ in data.ORG_SIZES])[_pick(rng, [w for _, w in data.ORG_SIZES], n)]
    declares = tonnage & (rng.random(n) < 0.75)
    demand_milli = np.round(rng.lognormal(np.log(300), 1.1, n) * 1000).astype(np.int64)
    org_names = [
        f"{c.removesuffix('市')}{b}{data.ORG_SUFFIX[i]}"
        for c, b, i in zip(city.tolist(), brand_name.tolist(), industry_name.tolist(), strict=True)
    ]
    domain_index = index % 997  # company mail domains: brand pinyin + this number
    # Groups: a few parents, each with 2-5 subsidiaries in other cities.
    parent_of = np.full(n, -1, dtype=np.int64)
    org_positions = rng.permutation(np.flatnonzero(is_org))
    # About one group per 40 organizations, and at least one in any sample worth showing.
    groups = len(org_positions) // 40 or (1 if len(org_positions) >= 6 else 0)
    if groups:
        parents = org_positions[:groups]
        sizes = rng.integers(2, 6, groups)
        subsidiaries = org_positions[groups : groups + sizes.sum()]
        owners_parent = np.repeat(parents, sizes)[: len(subsidiaries)]
        parent_of[subsidiaries] = owners_parent
        industry_name[subsidiaries] = industry_name[owners_parent]
        industry_category[subsidiaries] = industry_category[owners_parent]
        tonnage[subsidiaries] = tonnage[owners_parent]
        brand_pinyin[subsidiaries] = brand_pinyin[owners_parent]
        domain_index[subsidiaries] = domain_index[owners_parent]
        for sub, parent in zip(subsidiaries.tolist(), owners_parent.tolist(), strict=True):
            org_names[sub] = f"{org_names[parent]}{city[sub].removesuffix('市')}分公司"
    in_group = np.zeros(n, dtype=bool)
    in_group[parent_of[parent_of >= 0]] = True
    in_group[parent_of >= 0] = True

    email = [
        (
            f"info@{bp}{di}.com.cn"
            if o
            else (f"{q}@qq.com" if k < 0.15 else f"{p}{y % 100:02d}{i % 1000}@{d}")
        )
        if e
        else ""
        for o, e, k, q, p, y, i, d, bp, di in zip(
            is_org.tolist(),
            has_email.tolist(),
            email_kind.tolist(),
            qq.tolist(),
            pinyin.tolist(),
            year.tolist(),
            index.tolist(),
            domains.tolist(),
            brand_pinyin.tolist(),
            domain_index.tolist(),
            strict=True,
        )
    ]
    name = [org_names[i] if o else names[i] for i, o in enumerate(is_org.tolist())]

    member = (~is_org) & (rng.random(n) < 0.75)
    card = _unique_digits(index, 39_916_801, 100_000_000)
    card_number = [
        f"8860{c:08d}" if m else "" for c, m in zip(card.tolist(), member.tolist(), strict=True)
    ]
    source = np.where(
        is_org,
        np.asarray([s for s, _ in data.ORG_SOURCES])[
            _pick(rng, [w for _, w in data.ORG_SOURCES], n)
        ],
        np.asarray([s for s, _ in data.SOURCES])[_pick(rng, [w for _, w in data.SOURCES], n)],
    )

    # --- when they are active -----------------------------------------------------------
    existing = rng.random(n) < np.where(is_org, EXISTING_SHARE[1], EXISTING_SHARE[0])
    join = np.where(existing, -rng.integers(1, 1096, n), rng.integers(0, WINDOW_DAYS, n))
    start = np.maximum(join, 0)
    churned = rng.random(n) < CHURN_SHARE
    end = np.where(churned, start + (rng.random(n) * (last_day - start)).astype(np.int64), last_day)
    span_years = (end - start + 1) / 365.0
    join_ts = calendar.midnight[0] + join * DAY + rng.integers(9 * 3600, 21 * 3600, n)
    join_ts = np.minimum(join_ts, now - 3600)

    # --- how much they buy ----------------------------------------------------------------
    appetite = rng.gamma(RATE_SHAPE, 1.0, n) * np.where(is_org, ORG_RATE_FACTOR, 1.0)
    appetite[(~is_org) & (rng.random(n) < PROSPECT_SHARE)] = 0.0
    expected = appetite * span_years
    scale = orders_per_customer * n / max(expected.sum(), 1e-9)
    order_count = rng.poisson(expected * scale)
    price_level = np.where(is_org, rng.beta(1.5, 2.5, n), rng.beta(1.2, 3.0, n))
    online_share = rng.beta(2.0, 2.0, n)
    favourite = _pick(rng, CATEGORY_WEIGHTS, n)
    org_price_bp = (rng.integers(85, 98, n) * 100).astype(np.int64)

    # --- orders -------------------------------------------------------------------------
    order_customer = np.repeat(np.arange(n), order_count)
    orders = len(order_customer)
    org_order = is_org[order_customer]
    draw = rng.random(orders)
    channel = np.where(
        org_order,
        np.select([draw < 0.6, draw < 0.85], [3, 2], 1),
        np.select([draw < 0.06, rng.random(orders) < online_share[order_customer]], [2, 1], 0),
    )
    day = np.empty(orders, dtype=np.int64)
    seconds = np.empty(orders, dtype=np.int64)
    for code, kind in ((0, "store"), (1, "online"), (2, "b2b"), (3, "b2b")):
        rows = np.flatnonzero(channel == code)
        day[rows] = calendar.draw_days(
            rng, kind, start[order_customer[rows]], end[order_customer[rows]]
        )
        seconds[rows] = calendar.draw_seconds(rng, kind, len(rows))
    # The 11.11 rush starts at midnight online.
    # Draws below are one per row whatever the masks select, so the random stream (and
    # all data after it) does not depend on the date or hour of the load.
    rush_draw = rng.random(orders)
    rush_seconds = rng.integers(0, 3600, orders)
    for day_1111 in calendar.days_of(month=11, day=11):
        rush = (day == day_1111) & (channel == 1) & (rush_draw < 0.3)
        seconds[rush] = rush_seconds[rush]
    ordered_at = calendar.midnight[day] + seconds
    # Nothing happens after now: today's later hours move to yesterday.
    late = ordered_at > now
    ordered_at[late] -= DAY
    day[late] -= 1
    order_sort = np.lexsort((ordered_at, order_customer))
    order_customer, channel, day, ordered_at, org_order = (
        a[order_sort] for a in (order_customer, channel, day, ordered_at, org_order)
    )
    order_ids = first_order_id + np.arange(orders, dtype=np.int64)

    age = last_day - day
    draw = rng.random(orders)
    progress = rng.random(orders)
    status = np.full(orders, "completed", dtype=object)
    # Store sales are completed at the till; other orders are still on their way.
    fresh = (age <= 1) & (channel != 0)
    status[fresh] = np.where(progress[fresh] < 0.4, "placed", "paid")
    shipping = (age >= 2) & (age <= 6) & (channel != 0)
    status[shipping] = np.where(progress[shipping] < 0.5, "paid", "shipped")
    status[draw < CANCELLED_SHARE] = "cancelled"
    status[(draw >= CANCELLED_SHARE) & (draw < CANCELLED_SHARE + RETURNED_SHARE) & (age >= 3)] = (
        "returned"
    )
    valued = np.isin(status, ("placed", "paid", "shipped", "completed"))

    # --- order lines --------------------------------------------------------------------------
    lines_per_order = (
        np.where(
            org_order,
            _pick(rng, LINES_PER_ORDER[True], orders),
            _pick(rng, LINES_PER_ORDER[False], orders),
        )
        + 1
    )
    line_order = np.repeat(np.arange(orders), lines_per_order)
    lines = len(line_order)
    line_customer = order_customer[line_order]
    line_org = is_org[line_customer]
    category = np.where(
        rng.random(lines) < 0.55, favourite[line_customer], _pick(rng, CATEGORY_WEIGHTS, lines)
    )
    org_category = np.where(
        rng.random(lines) < 0.65,
        industry_category[line_customer],
        np.where(rng.random(lines) < 0.6, FOOD, DIGITAL),
    )
    category = np.where(line_org, org_category, category)
    bulk = line_org & tonnage[line_customer] & (category == FOOD) & (rng.random(lines) < 0.6)
    position = np.clip(price_level[line_customer] + rng.normal(0, 0.2, lines), 0, 0.9999)
    rank = (position * refs.retail_length[category]).astype(np.int64)
    product = refs.retail_sorted[refs.retail_offset[category] + rank]
    if len(refs.bulk_products):
        product = np.where(
            bulk, refs.bulk_products[rng.integers(0, len(refs.bulk_products), lines)], product
        )
    else:
        bulk[:] = False
    top = refs.product_top[product]
    everyday = (top == FOOD) | (top == 2)
    person_quantity = _pick(rng, (0.70, 0.17, 0.07, 0.03, 0.02, 0.01), lines) + 1
    person_quantity += np.where(everyday, rng.poisson(0.6, lines), 0)
    org_quantity = np.clip(np.round(rng.lognormal(np.log(4), 0.6, lines)), 2, 400)
    quantity_milli = np.where(line_org, org_quantity, person_quantity).astype(np.int64) * 1000
    bulk_milli = np.clip(np.round(rng.lognormal(np.log(1.2), 0.6, lines) * 1000), 200, 60_000)
    quantity_milli = np.where(bulk, bulk_milli.astype(np.int64), quantity_milli)

    price_bp = np.where(
        line_org,
        org_price_bp[line_customer],
        np.asarray([10_000, 9_500, 9_000, 8_800])[_pick(rng, (0.72, 0.15, 0.09, 0.04), lines)],
    )
    unit_price = (refs.price_cents[product] * price_bp + 5_000) // 10_000
    gross = (quantity_milli * unit_price + 500) // 1000  # half-up to the cent
    role = refs.product_role[product]
    promotion = calendar.promotion[day[line_order]]
    discount_chance = np.where(promotion, 0.45, 0.1) * np.select(
        [role == "traffic", role == "profit"], [1.5, 0.3], 1.0
    )
    percent = np.asarray([5, 10, 15, 20])[_pick(rng, (0.4, 0.35, 0.15, 0.1), lines)]
    percent = np.where(rng.random(lines) < discount_chance, percent, 0)
    discount = (gross * percent // 100) // 100 * 100  # whole yuan, never above the line
    amount = gross - discount
    starts = np.concatenate([[0], np.cumsum(lines_per_order)[:-1]]).astype(np.int64)
    total = np.add.reduceat(amount, starts) if lines else np.zeros(0, dtype=np.int64)

    # --- what the orders say about the customer ----------------------------------------------
    spend = np.bincount(order_customer[valued], weights=total[valued], minlength=n)
    last_valued = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_valued, order_customer[valued], day[valued])
    first_ts = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_ts, order_customer, ordered_at)
    created_ts = np.minimum(join_ts, first_ts - 3600)
    since = last_day - last_valued
    customer_status = np.select(
        [last_valued < 0, since <= 365, since <= 540],
        [np.where(join >= 0, "prospect", "lost"), "active", "inactive"],
        "lost",
    )

    # Owners: every organization and the top people, by the team of their region;
    # subsidiaries belong to their parent's manager.
    ranked = np.argsort(-np.where(is_org, -1.0, spend), kind="stable")
    top_people = ranked[: int(round(OWNED_TOP_SHARE * (n - organizations)))]
    owned = is_org.copy()
    owned[top_people] = True
    owner = np.zeros(n, dtype=np.int64)
    team = np.zeros(n, dtype=np.int64)
    manager_pick = rng.integers(0, 1 << 30, n)
    for team_name, managers in refs.managers_by_team.items():
        rows = np.flatnonzero(owned & (team_of_place == team_name))
        if len(managers) == 0 or len(rows) == 0:
            continue
        owner[rows] = managers[manager_pick[rows] % len(managers)]
        team[rows] = refs.team_ids[team_name]
    owned &= owner > 0
    subsidiary = np.flatnonzero(parent_of >= 0)
    owner[subsidiary] = owner[parent_of[subsidiary]]
    team[subsidiary] = team[parent_of[subsidiary]]
    owned[subsidiary] = owned[parent_of[subsidiary]]
    do_not_disturb = rng.random(n) < DO_NOT_DISTURB_SHARE

    customers = Table(
        Customer,
        n,
        {
            "id": ids,
            "created_at": created_ts,
            "updated_at": created_ts,
            "code": [f"C{i + 1:07d}" for i in index.tolist()],
            "kind": np.where(is_org, "organization", "person"),
            "name": name,
            "phone": phone,
            "phone2": "",
            "email": email,
            "email2": "",
            "card_number": card_number,
            "province": province,
            "city": city,
            "district": district,
            "address": address,
            "birthday": _nullable(birthday.astype(str), has_birthday),
            "gender": _nullable(np.where(female, "female", "male"), ~is_org),
            "industry": np.where(is_org, industry_name, ""),
            "size": np.where(is_org, size, ""),
            "annual_demand": _nullable(_milli_text(demand_milli), declares),
            "demand_unit": np.where(declares, "t", ""),
            "source": source,
            "status": customer_status,
            "owner_id": _nullable(owner, owned),
            "team_id": _nullable(team, owned),
            "parent_id": _nullable(first_customer_id + parent_of, parent_of >= 0),
            "do_not_disturb": do_not_disturb,
            "custom_fields": "{}",
            "notes": "",
        },
    )
    # Gender is blank (not null) for organizations.
    customers.columns["gender"] = [g or "" for g in customers.columns["gender"]]

    # --- contacts of organizations ------------------------------------------------------------
    contact_count = np.where(is_org, _pick(rng, (0.2, 0.35, 0.3, 0.15), n) + 1, 0)
    contact_customer = np.repeat(np.arange(n), contact_count)
    contacts = len(contact_customer)
    contact_first = np.concatenate([[0], np.cumsum(contact_count)[:-1]])
    contact_rank = np.arange(contacts) - contact_first[contact_customer]
    roles = np.asarray(["influencer", "user", "gatekeeper"])[
        _pick(rng, (0.45, 0.35, 0.2), contacts)
    ]
    decision_role = np.where(contact_rank == 0, "key_man", roles)
    title = [
        data.CONTACT_TITLES[r][k % len(data.CONTACT_TITLES[r])]
        for r, k in zip(decision_role.tolist(), rng.integers(0, 12, contacts).tolist(), strict=True)
    ]
    contact_female = rng.random(contacts) < 0.45
    contact_names, contact_surname = _names(rng, contact_female)
    contact_index = 60_000_000 + first_contact_id + np.arange(contacts, dtype=np.int64)
    contact_email = [
        f"{p}{k}@{b}{i}.com.cn" if e else ""
        for p, k, b, i, e in zip(
            np.asarray([s[1] for s in data.SURNAMES])[contact_surname].tolist(),
            rng.integers(1, 99, contacts).tolist(),
            brand_pinyin[contact_customer].tolist(),
            domain_index[contact_customer].tolist(),
            (rng.random(contacts) < 0.6).tolist(),
            strict=True,
        )
    ]
    contact_birthday = today - (np.clip(rng.normal(42, 9, contacts), 24, 65) * 365.25).astype(
        "timedelta64[D]"
    )
    contact_ids = first_contact_id + np.arange(contacts, dtype=np.int64)
    contact_table = Table(
        Contact,
        contacts,
        {
            "id": contact_ids,
            "created_at": created_ts[contact_customer],
            "updated_at": created_ts[contact_customer],
            "customer_id": ids[contact_customer],
            "name": contact_names,
            "title": title,
            "phone": _mobiles(rng, contact_index),
            "phone2": "",
            "email": contact_email,
            "birthday": _nullable(contact_birthday.astype(str), rng.random(contacts) < 0.4),
            "decision_role": decision_role,
            "notes": "",
        },
    )

    # --- consents -------------------------------------------------------------------------
    tables_consent, sms_out = _consents(
        rng, Consent, n, ids, created_ts, has_mobile, is_org, has_email, do_not_disturb, now
    )

    # --- tags -----------------------------------------------------------------------------
    tag_table = _tags(
        rng,
        Customer.tags.through,
        refs,
        ids,
        is_org=is_org,
        age=age_years,
        has_birthday=has_birthday,
        price_level=price_level,
        online_share=online_share,
        favourite=favourite,
        spend=spend,
        in_group=in_group,
        tonnage=tonnage,
    )

    # --- interactions and feedback --------------------------------------------------------------
    interaction_table = _interactions(
        rng,
        Interaction,
        calendar,
        refs,
        ids=ids,
        is_org=is_org,
        order_count=order_count,
        start=start,
        owned=owned,
        owner=owner,
        blocked=do_not_disturb | sms_out,
        contact_first=contact_first,
        contact_count=contact_count,
        first_contact_id=first_contact_id,
        now=now,
    )
    feedback_table = _feedback(
        rng, Feedback, calendar, refs, ids=ids, order_count=order_count, start=start, now=now
    )

    order_table = Table(
        Order,
        orders,
        {
            "id": order_ids,
            "created_at": ordered_at,
            "updated_at": ordered_at,
            "customer_id": ids[order_customer],
            "source": np.asarray([data.ORDER_SOURCES[c] for c in ORDER_CHANNELS])[channel],
            "number": [
                f"{data.ORDER_PREFIX[ORDER_CHANNELS[c]]}{calendar.compact[d]}{i:09d}"
                for c, d, i in zip(channel.tolist(), day.tolist(), order_ids.tolist(), strict=True)
            ],
            "ordered_at": ordered_at,
            "status": status.astype(str),
            "channel": np.asarray(ORDER_CHANNELS)[channel],
            "currency": "CNY",
            "total": Cents(total),
            "notes": "",
        },
    )
    line_table = Table(
        OrderLine,
        lines,
        {
            "order_id": order_ids[line_order],
            "product_id": refs.product_ids[product],
            "quantity": ScaledInts(quantity_milli, 3),
            "unit_price": Cents(unit_price),
            "discount": Cents(discount),
            "amount": Cents(amount),
        },
    )
    return ChunkResult(
        tables=[
            customers,
            contact_table,
            tables_consent,
            tag_table,
            order_table,
            line_table,
            interaction_table,
            feedback_table,
        ],
        customers=n,
        orders=orders,
        lines=lines,
        next_contact_id=first_contact_id + contacts,
        next_order_id=first_order_id + orders,
    )


class ScaledInts:
    """An integer array standing for decimals with `places` places (cents, grams)."""

    def __init__(self, values: np.ndarray, places: int):
        """Keep the integers and the number of decimal places they stand for."""
        self.values = values
        self.places = places

    def text(self) -> list[str]:
        """The values as decimal strings, as Django would store them."""
        unit = 10**self.places
        places = self.places
        return [
            f"{'-' if v < 0 else ''}{abs(v) // unit}.{abs(v) % unit:0{places}d}"
            for v in self.values.tolist()
        ]


class Cents(ScaledInts):
    """Money in integer cents."""

    def __init__(self, values: np.ndarray):
        """Cents: two decimal places."""
        super().__init__(values, 2)


def _milli_text(values: np.ndarray) -> np.ndarray:
    """Thousandths (tons to the kilogram) as decimal strings in an object array."""
    return np.asarray(ScaledInts(values, 3).text(), dtype=object)


def _consents(rng, model, n, ids, created_ts, has_mobile, is_org, has_email, dnd, now):
    """SMS consent for every mobile number, phone for about half, e-mail for every
    address; a few opt-outs, and do-not-disturb customers opted out of calls and SMS."""
    channels, customers, opted_out = [], [], []
    sms_out = np.zeros(n, dtype=bool)
    for channel, present, out_share in (
        ("sms", has_mobile, 0.08),
        ("phone", (has_mobile | is_org) & (rng.random(n) < 0.55), 0.05),
        ("email", has_email, 0.12),
    ):
        rows = np.flatnonzero(present)
        out = rng.random(len(rows)) < out_share
        if channel != "email":
            out |= dnd[rows]
        if channel == "sms":
            sms_out[rows[out]] = True
        channels.append(np.full(len(rows), channel))
        customers.append(rows)
        opted_out.append(out)
    channel = np.concatenate(channels)
    customer = np.concatenate(customers)
    out = np.concatenate(opted_out)
    size = len(customer)
    # Opt-ins are recorded at registration; opt-outs some time later.
    delay = np.where(out, rng.integers(30, 700, size), rng.integers(0, 3, size)) * DAY
    recorded = np.minimum(created_ts[customer] + delay, now - 60)
    in_sources = np.asarray(data.CONSENT_SOURCES_IN)[
        rng.integers(0, len(data.CONSENT_SOURCES_IN), size)
    ]
    out_text = np.select(
        [channel == "sms", channel == "phone"],
        [data.CONSENT_SOURCES_OUT["sms"], data.CONSENT_SOURCES_OUT["phone"]],
        data.CONSENT_SOURCES_OUT["email"],
    )
    table = Table(
        model,
        size,
        {
            "created_at": recorded,
            "updated_at": recorded,
            "customer_id": ids[customer],
            "channel": channel,
            "status": np.where(out, "opted_out", "opted_in"),
            "recorded_at": recorded,
            "source": np.where(out, out_text, in_sources),
        },
    )
    return table, sms_out


def _tags(rng, through, refs, ids, **c):
    """Persona, preference and interest tags, each drawn from what the generator knows
    about the customer (age, price level, channel mix, favourite category, value)."""
    n = len(ids)
    person = ~c["is_org"]
    age = c["age"]
    r = rng.random
    # The best 30% of organizations by spend are key accounts.
    big_org = np.zeros(n, dtype=bool)
    if c["is_org"].any():
        threshold = np.quantile(c["spend"][c["is_org"]], 0.7)
        big_org = c["is_org"] & (c["spend"] >= threshold)
    rules = {
        "单身白领": person & (age >= 22) & (age <= 35) & (r(n) < 0.4),
        "工薪族": person & (age >= 25) & (age <= 55) & (r(n) < 0.3),
        "已婚有孩": person & (age >= 26) & (age <= 45) & ((c["favourite"] == 2) | (r(n) < 0.2)),
        "退休": person & (age >= 58) & (r(n) < 0.7),
        "企业主": person & (age >= 32) & (r(n) < 0.03),
        "创业者": person & (age <= 45) & (r(n) < 0.02),
        "个体商户": person & (r(n) < 0.03),
        "价格敏感": person & (c["price_level"] < 0.3) & (r(n) < 0.6),
        "品质优先": person & (c["price_level"] > 0.7) & (r(n) < 0.5),
        "偏好线上": person & (c["online_share"] > 0.65) & (r(n) < 0.7),
        "偏好门店": person & (c["online_share"] < 0.35) & (r(n) < 0.7),
        "苹果用户": person & (r(n) < 0.18),
        "安卓用户": person & (r(n) < 0.22),
        "送礼需求": (r(n) < 0.06) | (c["is_org"] & ~c["tonnage"] & (r(n) < 0.4)),
        "美妆爱好者": person & (c["favourite"] == 0) & (r(n) < 0.5),
        "时尚穿搭": person & (c["favourite"] == 1) & (r(n) < 0.4),
        "母婴人群": person & (c["favourite"] == 2) & (r(n) < 0.6),
        "数码达人": person & (c["favourite"] == 3) & (r(n) < 0.5),
        "美食家": person & (c["favourite"] == 4) & (r(n) < 0.4),
        "大客户": big_org,
        "集团客户": c["in_group"],
    }
    customer, tag = [], []
    for name, mask in rules.items():
        rows = np.flatnonzero(mask)
        customer.append(ids[rows])
        tag.append(np.full(len(rows), refs.tag_ids[name], dtype=np.int64))
    customer = np.concatenate(customer)
    tag = np.concatenate(tag)
    order = np.lexsort((tag, customer))
    return Table(through, len(customer), {"customer_id": customer[order], "tag_id": tag[order]})


INTERACTION_CHANNELS = tuple(data.INTERACTION_SUBJECTS)
PERSON_CHANNEL_WEIGHTS = (0.0, 0.12, 0.3, 0.1, 0.18, 0.1, 0.1, 0.03, 0.07)
ORG_CHANNEL_WEIGHTS = (0.35, 0.35, 0.05, 0.15, 0.0, 0.05, 0.0, 0.05, 0.0)
CHANNEL_HOURS = {
    "visit": (9, 17),
    "phone": (9, 19),
    "sms": (10, 20),
    "email": (8, 21),
    "store": (10, 21),
    "hotline": (8, 21),
    "web": (7, 23),
    "event": (14, 19),
    "chat": (8, 22),
}


def _interactions(rng, model, calendar, refs, *, ids, is_org, order_count, start, owned, owner,
                  blocked, contact_first, contact_count, first_contact_id, now):  # fmt: skip
    """Visits and calls by account managers, marketing SMS and e-mail, store visits,
    hotline calls, web and chat, events: more for busier customers."""
    n = len(ids)
    expected = np.where(is_org, 5 + 0.4 * order_count, 0.5 + 0.12 * order_count)
    count = np.minimum(rng.poisson(expected), 80)
    customer = np.repeat(np.arange(n), count)
    size = len(customer)
    org = is_org[customer]
    channel = np.where(
        org, _pick(rng, ORG_CHANNEL_WEIGHTS, size), _pick(rng, PERSON_CHANNEL_WEIGHTS, size)
    )
    names = np.asarray(INTERACTION_CHANNELS)
    # No marketing SMS to customers who opted out or asked not to be disturbed.
    sms = names == "sms"
    channel[(channel == np.flatnonzero(sms)[0]) & blocked[customer]] = np.flatnonzero(
        names == "store"
    )[0]
    channel_name = names[channel]
    first_day = np.minimum(start[customer], WINDOW_DAYS - 1)
    day = first_day + (rng.random(size) * (WINDOW_DAYS - first_day)).astype(np.int64)
    low = np.asarray([CHANNEL_HOURS[c][0] for c in INTERACTION_CHANNELS])[channel]
    high = np.asarray([CHANNEL_HOURS[c][1] for c in INTERACTION_CHANNELS])[channel]
    seconds = (low + (rng.random(size) * (high - low)).astype(np.int64)) * 3600
    seconds += rng.integers(0, 3600, size)
    occurred = calendar.midnight[day] + seconds
    occurred = np.where(occurred > now, occurred - DAY, occurred)
    direction = np.asarray([data.INTERACTION_SUBJECTS[c][0] for c in INTERACTION_CHANNELS])[channel]
    subject_lists = [data.INTERACTION_SUBJECTS[c][1] for c in INTERACTION_CHANNELS]
    pick = rng.integers(0, 1000, size)
    subject = [
        subject_lists[c][k % len(subject_lists[c])]
        for c, k in zip(channel.tolist(), pick.tolist(), strict=True)
    ]

    conversational = np.isin(channel_name, ("visit", "phone", "store", "event", "hotline", "chat"))
    called = channel_name == "phone"
    reached = np.where(called, rng.random(size) < 0.7, True)
    intents = np.asarray(["interested", "not_interested", "accepted", "declined", ""])
    intent = intents[_pick(rng, (0.3, 0.25, 0.15, 0.1, 0.2), size)]
    intent = np.where(conversational & reached, intent, "")
    outcome_key = np.where(called & ~reached, "unreached", intent)
    outcome = [
        data.OUTCOMES[k][p % len(data.OUTCOMES[k])]
        for k, p in zip(outcome_key.tolist(), pick.tolist(), strict=True)
    ]
    outcome = np.where(conversational | called, np.asarray(outcome, dtype=object), "")

    managed = np.isin(channel_name, ("visit", "phone")) & owned[customer]
    service = (
        refs.service_ids[rng.integers(0, len(refs.service_ids), size)]
        if len(refs.service_ids)
        else np.zeros(size, dtype=np.int64)
    )
    # Campaign touches (SMS, e-mail, events) are the marketing manager's.
    campaign = np.isin(channel_name, ("sms", "email", "event"))
    user = np.select([managed, campaign], [owner[customer], refs.marketing_id], service)
    by_service = np.isin(channel_name, ("phone", "hotline", "chat")) & ~managed
    has_user = (managed | by_service | campaign) & (user > 0)

    with_contact = org & (contact_count[customer] > 0)
    contact = (
        first_contact_id
        + contact_first[customer]
        + (rng.random(size) * np.maximum(contact_count[customer], 1)).astype(np.int64)
    )
    return Table(
        model,
        size,
        {
            "created_at": occurred,
            "updated_at": occurred,
            "customer_id": ids[customer],
            "contact_id": _nullable(
                contact, with_contact & np.isin(channel_name, ("visit", "phone", "email"))
            ),
            "channel": channel_name,
            "direction": direction,
            "occurred_at": occurred,
            "user_id": _nullable(user, has_user),
            "subject": subject,
            "notes": "",
            "reached": _nullable(reached, conversational | called),
            "intent": intent,
            "outcome": outcome,
        },
    )


FEEDBACK_KINDS = tuple(data.FEEDBACK)
FEEDBACK_TEXTS = [
    (kind, category, text)
    for kind, categories in data.FEEDBACK.items()
    for category, texts in categories
    for text in texts
]
FEEDBACK_SOURCES = (("review", 35), ("chat", 25), ("call", 20), ("survey", 12), ("visit", 8))


def _feedback(rng, model, calendar, refs, *, ids, order_count, start, now):
    """Complaints, suggestions, praise and questions from buying customers; recent ones
    still open, old ones closed."""
    n = len(ids)
    chance = np.where(order_count > 0, 0.03 + np.minimum(0.15, 0.004 * order_count), 0)
    count = np.where(rng.random(n) < chance, np.where(rng.random(n) < 0.85, 1, 2), 0)
    customer = np.repeat(np.arange(n), count)
    size = len(customer)
    kind = _pick(rng, (0.35, 0.2, 0.25, 0.2), size)
    text_kind = np.asarray([FEEDBACK_KINDS.index(k) for k, _, _ in FEEDBACK_TEXTS])
    # Draw a text of the right kind: a random position inside the kind's slice.
    order = np.argsort(text_kind, kind="stable")
    offsets = np.searchsorted(text_kind[order], np.arange(len(FEEDBACK_KINDS)))
    lengths = np.bincount(text_kind, minlength=len(FEEDBACK_KINDS))
    choice = order[offsets[kind] + (rng.random(size) * lengths[kind]).astype(np.int64)]
    first_day = np.minimum(start[customer], WINDOW_DAYS - 1)
    day = first_day + (rng.random(size) * (WINDOW_DAYS - first_day)).astype(np.int64)
    received = calendar.midnight[day] + rng.integers(8 * 3600, 22 * 3600, size)
    received = np.where(received > now, received - DAY, received)
    age = (now - received) // DAY
    draw = rng.random(size)
    status = np.where(
        age <= 14,
        np.where(draw < 0.6, "open", "answered"),
        np.select([draw < 0.85, draw < 0.97], ["closed", "answered"], "open"),
    )
    service = (
        refs.service_ids[rng.integers(0, max(len(refs.service_ids), 1), size)]
        if len(refs.service_ids)
        else np.zeros(size, dtype=np.int64)
    )
    return Table(
        model,
        size,
        {
            "created_at": received,
            "updated_at": received,
            "customer_id": ids[customer],
            "kind": np.asarray(FEEDBACK_KINDS)[kind],
            "category": [FEEDBACK_TEXTS[i][1] for i in choice.tolist()],
            "source": np.asarray([s for s, _ in FEEDBACK_SOURCES])[
                _pick(rng, [w for _, w in FEEDBACK_SOURCES], size)
            ],
            "text": [FEEDBACK_TEXTS[i][2] for i in choice.tolist()],
            "status": status,
            "received_at": received,
            "user_id": _nullable(service, (status != "open") & (service > 0)),
        },
    )
