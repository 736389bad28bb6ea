"""Periods of contact duties (week, month, quarter) in the organization's time zone.

A period is a range of local dates [start, end); its instants are local midnights stored
as aware UTC datetimes, so "a visit in March" means March in Shanghai, whatever the
server's clock says."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from .choices import Period


@dataclass(frozen=True)
class PeriodRange:
    kind: str
    start: dt.date  # first local day
    end: dt.date  # first local day of the next period

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def starts_at(self) -> dt.datetime:
        return local_midnight(self.start)

    @property
    def ends_at(self) -> dt.datetime:
        return local_midnight(self.end)

    def previous(self) -> "PeriodRange":
        return period_of(self.kind, self.start - dt.timedelta(days=1))

    def __str__(self):
        if self.kind == Period.MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == Period.QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def org_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def local_midnight(day: dt.date) -> dt.datetime:
    """The instant a local day begins, in UTC."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=org_zone()).astimezone(dt.UTC)


def local_today(now: dt.datetime | None = None) -> dt.date:
    return (now or timezone.now()).astimezone(org_zone()).date()


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, day: dt.date) -> PeriodRange:
    """The period of the given kind that contains the local day."""
    if kind == Period.WEEK:
        start = day - dt.timedelta(days=day.weekday())
        return PeriodRange(kind, start, start + dt.timedelta(days=7))
    if kind == Period.QUARTER:
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return PeriodRange(kind, start, _add_months(start, 3))
    start = day.replace(day=1)
    return PeriodRange(Period.MONTH, start, _add_months(start, 1))


def year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 February for 29 February)."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)
