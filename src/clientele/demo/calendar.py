"""The demo's two-year trading calendar: local midnights, and how busy each day is.

Days are numbered 0 .. WINDOW_DAYS - 1, the last one being today in Asia/Shanghai.
Each sales channel has its own daily weights (weekly rhythm, 11.11, 6.18, 12.12 and the
weeks before Spring Festival, a quiet festival week, slow growth) and a cumulative sum
over them, so the generator can draw a day inside any customer's active span in one
vectorized step.
"""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from .data import SPRING_FESTIVAL

TZ = ZoneInfo("Asia/Shanghai")
WINDOW_DAYS = 731  # two years ending today, both ends included
DAY = 86_400

# Relative busyness by weekday (Monday first). Stores fill up at the weekend, the web
# shop is flat, business customers buy on working days only.
WEEKLY = {
    "store": (0.85, 0.85, 0.9, 0.95, 1.1, 1.45, 1.4),
    "online": (1.05, 1.0, 1.0, 1.0, 1.0, 0.95, 1.0),
    "b2b": (1.2, 1.2, 1.2, 1.2, 1.1, 0.15, 0.1),
}
# Opening hours (local) and the relative busyness of each hour.
HOURS = {
    "store": (10, (3, 4, 5, 4, 4, 5, 6, 7, 8, 8, 6, 3)),
    "online": (7, (1, 2, 3, 4, 4, 5, 4, 4, 4, 4, 4, 5, 6, 8, 9, 8, 5)),
    "b2b": (9, (3, 5, 5, 3, 2, 4, 5, 4, 2)),
}


@dataclass(frozen=True)
class Calendar:
    """The window's days: their dates, local midnights in UTC epoch seconds, promotion
    flags and per-channel cumulative weights (with a leading zero)."""

    today: datetime.date
    dates: tuple[datetime.date, ...]
    midnight: np.ndarray
    promotion: np.ndarray
    cumulative: dict[str, np.ndarray]
    compact: tuple[str, ...]

    def day_of(self, when: datetime.date) -> int | None:
        """The day number of a date inside the window, or None."""
        index = (when - self.dates[0]).days
        return index if 0 <= index < len(self.dates) else None

    def days_of(self, month: int, day: int) -> list[int]:
        """Day numbers of a yearly date (say 11.11) inside the window, oldest first."""
        found = []
        for year in range(self.dates[0].year, self.today.year + 1):
            index = self.day_of(datetime.date(year, month, day))
            if index is not None:
                found.append(index)
        return found

    def draw_days(self, rng, kind: str, first: np.ndarray, last: np.ndarray) -> np.ndarray:
        """One day per row in [first, last] (inclusive), drawn by the channel's weights."""
        cum = self.cumulative[kind]
        low = cum[first]
        high = cum[last + 1]
        target = low + rng.random(len(first)) * (high - low)
        days = np.searchsorted(cum, target, side="right") - 1
        return np.clip(days, first, last)

    def draw_seconds(self, rng, kind: str, size: int) -> np.ndarray:
        """Local seconds after midnight inside the channel's opening hours."""
        opening, weights = HOURS[kind]
        p = np.asarray(weights, dtype=float)
        hours = opening + rng.choice(len(p), size=size, p=p / p.sum())
        return hours * 3600 + rng.integers(0, 3600, size)


def _spring_weight(date: datetime.date) -> float:
    """Gift shopping builds up over the three weeks before the festival, then the shops
    are quiet for its first week."""
    for year in (date.year, date.year + 1):
        festival = SPRING_FESTIVAL.get(year)
        if festival is None:
            continue
        before = (festival - date).days
        if 1 <= before <= 21:
            return 1.3 + 0.9 * (21 - before) / 20
        if -6 <= before <= 0:
            return 0.35
    return 1.0


def _shopping_festival(date: datetime.date, kind: str) -> float:
    """11.11 (with its pre-sale and tail), 6.18 and 12.12: mostly an online affair."""
    month, day = date.month, date.day
    strength = {"online": 1.0, "store": 0.3, "b2b": 0.05}[kind]
    if month == 11 and day == 11:
        return 1 + 9 * strength
    if month == 11 and 1 <= day <= 10:
        return 1 + 0.6 * strength
    if month == 11 and 12 <= day <= 13:
        return 1 + 0.8 * strength
    if month == 6 and day == 18:
        return 1 + 4 * strength
    if month == 6 and 1 <= day <= 17:
        return 1 + 0.3 * strength
    if month == 12 and day == 12:
        return 1 + 2 * strength
    return 1.0


def is_promotion_day(date: datetime.date) -> bool:
    """Days on which discounts are common: around 11.11, 6.18, 12.12 and before Spring
    Festival."""
    if _shopping_festival(date, "online") > 1.5:
        return True
    return _spring_weight(date) > 1.5


def build_calendar(today: datetime.date) -> Calendar:
    """The calendar of the WINDOW_DAYS days ending `today` (local date)."""
    first = today - datetime.timedelta(days=WINDOW_DAYS - 1)
    dates = tuple(first + datetime.timedelta(days=i) for i in range(WINDOW_DAYS))
    # Local midnight of each day in UTC: correct for any zone offset on that date.
    midnight = np.array(
        [int(datetime.datetime.combine(d, datetime.time(), tzinfo=TZ).timestamp()) for d in dates],
        dtype=np.int64,
    )
    growth = 1 + 0.25 * np.arange(WINDOW_DAYS) / WINDOW_DAYS
    spring = np.array([_spring_weight(d) for d in dates])
    cumulative = {}
    for kind, weekly in WEEKLY.items():
        festival = np.array([_shopping_festival(d, kind) for d in dates])
        week = np.array([weekly[d.weekday()] for d in dates])
        # Business customers buy staff gifts before the festival even more than people.
        spring_kind = spring if kind != "b2b" else np.where(spring > 1, spring * 1.3, spring)
        weights = growth * week * festival * spring_kind
        cumulative[kind] = np.concatenate([[0.0], np.cumsum(weights)])
    promotion = np.array([is_promotion_day(d) for d in dates])
    compact = tuple(d.strftime("%y%m%d") for d in dates)
    return Calendar(today, dates, midnight, promotion, cumulative, compact)
