"""Cell parsers for imports: each returns a clean value (None for an empty cell) or raises
`ParseError` with a reason the user can act on.

Parsers take what the readers give: str from CSV; str, int, float, bool, datetime or date
from XLSX. Numbers, dates, yes/no and choices are NFKC-normalised first, so full-width
digits and punctuation ("１２３", "￥", "：") read as their ASCII forms. Nothing ambiguous
is guessed: "1.234,50", "1,23" and "11/12/2026" are rejected with a reason.

Reasons are English templates in `MESSAGES`, marked with ``gettext_noop`` so Django's
makemessages extracts them while this module stays free of Django; the caller translates
``gettext(exc.template).format(**exc.params)``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo


def gettext_noop(message: str) -> str:
    """Return `message` unchanged; the name lets Django's makemessages extract it."""
    return message


MESSAGES = {
    "not_number": gettext_noop('"{value}" is not a number.'),
    "not_finite": gettext_noop('"{value}" is not a finite number.'),
    "european": gettext_noop(
        '"{value}" looks like the European format (1.234,50); write it as 1234.50.'
    ),
    "decimal_comma": gettext_noop(
        '"{value}" is ambiguous: use "." for decimals and "," only between groups of three'
        " digits (1,234.50)."
    ),
    "spaced_number": gettext_noop('"{value}" has spaces between its digits; remove them.'),
    "scientific": gettext_noop(
        '"{value}" is in scientific notation, which has lost digits; format the column as'
        " a number or text and export the file again."
    ),
    "too_many_decimals": gettext_noop('"{value}" has more than {places} decimal places.'),
    "not_date": gettext_noop('"{value}" is not a date; write it as YYYY-MM-DD (2026-11-11).'),
    "not_datetime": gettext_noop(
        '"{value}" is not a date and time; write it as YYYY-MM-DD HH:MM (2026-11-11 10:30).'
    ),
    "ambiguous_date": gettext_noop(
        '"{value}" is ambiguous: the order of day, month and year is unclear; write it as'
        " YYYY-MM-DD."
    ),
    "invalid_date": gettext_noop('"{value}" is not a real calendar date.'),
    "invalid_time": gettext_noop('"{value}" has an impossible time of day.'),
    "year_range": gettext_noop('"{value}" has a year outside {min_year}–{max_year}.'),
    "excel_serial": gettext_noop(
        '"{value}" is an Excel date serial number; format the column as a date or write YYYY-MM-DD.'
    ),
    "has_time": gettext_noop('"{value}" has a time of day; only a date is expected.'),
    "nonexistent_time": gettext_noop(
        '"{value}" does not exist in the time zone {zone} (the clocks moved forward).'
    ),
    "ambiguous_time": gettext_noop(
        '"{value}" happens twice in the time zone {zone} (the clocks moved back); add its UTC'
        " offset, {first} or {second}."
    ),
    "not_choice": gettext_noop('"{value}" is not accepted; use one of: {accepted}.'),
    "too_long": gettext_noop("The text has {length} characters; the limit is {limit}."),
    "control_char": gettext_noop(
        "The text contains the invisible control character {char} at position {position}."
    ),
    "phone_char": gettext_noop('"{value}" has "{char}", which a phone number cannot contain.'),
    "phone_digits": gettext_noop('"{value}" has {count} digits; a phone number has 5 to 20.'),
    "email_at": gettext_noop('"{value}" must contain exactly one "@".'),
    "email_space": gettext_noop('"{value}" contains spaces.'),
    "email_local": gettext_noop('"{value}" has an invalid part before the "@".'),
    "email_domain": gettext_noop('"{value}" has an invalid domain after the "@".'),
}

MIN_YEAR, MAX_YEAR = 1900, 2999  # wider than any real customer date; catches typos like 0226
_EXCEL_DIGITS = 15  # Excel keeps 15 significant digits; more in a float is binary noise
_SHOW = 60  # longest value quoted in a reason

_CURRENCY_PREFIX = re.compile(r"(?:¥|rmb|cny|人民币)\s*", re.IGNORECASE)
_CURRENCY_SUFFIX = re.compile(r"\s*(?:元|rmb|cny)$", re.IGNORECASE)
_PLAIN = re.compile(r"\d+(?:\.\d+)?|\.\d+")
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_EUROPEAN = re.compile(r"\d{1,3}(?:\.\d{3})+(?:,\d+)?")
_SCIENTIFIC = re.compile(r"\d+(?:\.\d+)?e[+-]?\d+", re.IGNORECASE)
_SPACED = re.compile(r"\d[\d,.]*\s+\d[\d\s,.]*")
_NOT_FINITE = {"nan", "inf", "infinity", "snan"}

_DATES = (
    re.compile(r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"),
    re.compile(r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})(?:\s*[日号])?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)"),
)
_TIME = re.compile(
    r"(?:\s+|T|(?<=[日号]))(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?\s*"
)
# The form most files use ("2026-11-11 10:30", "2026-11-11T10:30:05"): read without
# normalising the text or trying each date form; anything else takes the general path.
_ISO_LOCAL = re.compile(r"(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d)(?::(\d\d))?")
_DAY_MONTH = re.compile(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}(?:\D.*)?")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_EDGES = re.compile(r"^[\s\u200b-\u200d\u2060\ufeff]+|[\s\u200b-\u200d\u2060\ufeff]+$")
_PHONE_SEPARATORS = re.compile(r"[\s()-]")
_EMAIL_LOCAL = re.compile(r"(?!\.)(?!.*\.\.)[^\s@\"(),:;<>\[\]\\]{1,64}(?<!\.)")
_DOMAIN_LABEL = re.compile(r"(?!-)(?:[^\W_]|-){1,63}(?<!-)")

_BOOL_ACCEPTED = "yes/no, true/false, y/n, 1/0, 是/否, opted in/opted out"


class ParseError(ValueError):
    """A cell value that cannot be used.

    Raise it as ``ParseError(code, **params)`` with a `MESSAGES` code, or with a ready reason
    of one's own. `template`, `params` and `reason` (also ``str(exc)``) carry the English text.
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.template = MESSAGES.get(code, code)
        self.params = params
        self.reason = self.template.format(**params)
        super().__init__(self.reason)


def _show(value: Any) -> str:
    text = str(value).strip()
    return text if len(text) <= _SHOW else text[: _SHOW - 1] + "…"


def _normal(value: Any) -> str:
    """NFKC-normalised, stripped text of a cell ("" for None); integral floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", value if isinstance(value, str) else str(value))
    return _EDGES.sub("", text.replace("\u2212", "-"))


def parse_decimal(value: Any) -> Decimal | None:
    """A Decimal from "1234.5", "1,234.50", "¥1,234.50", "RMB 1,234.50", "1234.5元",
    "-12.5", "(12.50)" (negative) and the like, or from an XLSX number; None if empty.

    A float becomes the Decimal of its shortest repr (0.1 -> Decimal("0.1")), cut to Excel's
    15 significant digits so a cached formula result such as 0.1+0.2 reads as 0.3.
    """
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    if isinstance(value, float | Decimal):
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            raise ParseError("not_finite", value=_show(value))
        if isinstance(value, Decimal):
            return value
        number = Decimal(repr(value))
        if len(number.as_tuple().digits) > _EXCEL_DIGITS:
            number = Decimal(format(value, f".{_EXCEL_DIGITS}g"))
        return number if number.as_tuple().exponent <= 0 else number.quantize(Decimal(1))
    if not isinstance(value, str):  # a TRUE/FALSE or date cell in a number column
        raise ParseError("not_number", value=_show(value))
    text = _normal(value)
    if not text:
        return None
    negative, body = _sign_and_body(text)
    if _PLAIN.fullmatch(body) or _GROUPED.fullmatch(body):
        number = Decimal(body.replace(",", ""))
        return -number if negative and number else number
    raise ParseError(_number_problem(body), value=_show(value))


def _sign_and_body(text: str) -> tuple[bool, str]:
    """Peel currency marks, a sign or accounting parentheses off a number."""
    negative = signed = currency = False
    text = _CURRENCY_SUFFIX.sub("", text)
    # "-¥12", "¥-12", "(¥12)" and "¥(12)" all occur: up to one currency mark and one sign.
    for _ in range(3):
        prefix = None if currency else _CURRENCY_PREFIX.match(text)
        if prefix:
            text, currency = text[prefix.end() :], True
        if not signed and text.startswith("(") and text.endswith(")"):
            text, negative, signed = text[1:-1].strip(), True, True
        elif not signed and text[:1] in ("-", "+"):
            text, negative, signed = text[1:].lstrip(), text[0] == "-", True
    return negative, _CURRENCY_SUFFIX.sub("", text)


def _number_problem(body: str) -> str:
    """The message code explaining why `body` is not an accepted number."""
    if body.lower() in _NOT_FINITE:
        return "not_finite"
    if _SCIENTIFIC.fullmatch(body):
        return "scientific"
    if _SPACED.fullmatch(body):
        return "spaced_number"
    if _EUROPEAN.fullmatch(body):
        return "european"
    if re.fullmatch(r"[\d,]+(?:\.\d+)?", body) and "," in body:
        return "decimal_comma"
    return "not_number"


def parse_amount(value: Any, places: int = 2) -> Decimal | None:
    """A money amount as `parse_decimal` reads it, with at most `places` decimals
    (trailing zeros do not count), returned with exactly `places` decimals; None if empty.
    Negative amounts are returned negative; whether they are allowed is the caller's call.
    """
    number = parse_decimal(value)
    if number is None:
        return None
    quantum = Decimal(1).scaleb(-places)
    try:
        rounded = number.quantize(quantum)
    except InvalidOperation:  # more digits than the decimal context holds
        raise ParseError("not_number", value=_show(value)) from None
    if rounded != number:
        raise ParseError("too_many_decimals", value=_show(value), places=places)
    return rounded


def _date_parts(value: Any, code: str) -> tuple[dt.date, re.Match | None] | None:
    """Split a date cell into a checked date and the time match (if any); None if empty."""
    text = _normal(value)
    if not text:
        return None
    shown = _show(value)
    if _SERIAL.fullmatch(text):
        raise ParseError("excel_serial", value=shown)
    if _DAY_MONTH.fullmatch(text):
        raise ParseError("ambiguous_date", value=shown)
    match = next((m for m in (rx.match(text) for rx in _DATES) if m), None)
    rest = text[match.end() :] if match else ""
    # fullmatch from pos (not a slice) so the time's lookbehind can see a preceding 日
    time = _TIME.fullmatch(text, match.end()) if rest else None
    if match is None or (rest and time is None):
        raise ParseError(code, value=shown)
    try:
        date = dt.date(*(int(match[k]) for k in "ymd"))
    except ValueError:
        raise ParseError("invalid_date", value=shown) from None
    return _in_range(date, value), time


def _in_range(date: dt.date, value: Any) -> Any:
    """`date` itself, if its year is plausible (also keeps UTC conversion from overflowing)."""
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        raise ParseError("year_range", value=_show(value), min_year=MIN_YEAR, max_year=MAX_YEAR)
    return date


def parse_date(value: Any) -> dt.date | None:
    """A date from "2026-11-11", "2026/1/5", "2026.11.11", "2026年11月11日", "20261111" or an
    XLSX date cell; None if empty. A time other than midnight is rejected, as are day/month
    orders that could be read two ways ("11/12/2026") and Excel serial numbers.
    """
    if isinstance(value, dt.datetime):
        if value.time() != dt.time() or value.tzinfo is not None:
            raise ParseError("has_time", value=_show(value))
        value = value.date()
    if isinstance(value, dt.date):
        return _in_range(value, value)
    parts = _date_parts(value, "not_date")  # numbers too: 20261111 is a date, 45972 is not
    if parts is None:
        return None
    date, time = parts
    if time is not None and _clock(time, value) != (dt.time(), None):
        raise ParseError("has_time", value=_show(value))
    return date


def parse_datetime(value: Any, tz: str | dt.tzinfo) -> dt.datetime | None:
    """An aware UTC datetime from the date forms of `parse_date` plus a time ("10:30",
    "10:30:05", "T10:30:00+08:00", "Z"); None if empty. A date alone means midnight.

    A time without an offset is wall-clock time in `tz` (an IANA name such as
    "Asia/Shanghai", or a tzinfo); a wall-clock time skipped or repeated by a daylight
    saving change is rejected rather than guessed.
    """
    zone = ZoneInfo(tz) if isinstance(tz, str) else tz
    if type(value) is str and (iso := _ISO_LOCAL.fullmatch(value)):
        try:
            wall = dt.datetime(*(int(part) for part in iso.groups(0)))
        except ValueError:
            pass  # February 30th, hour 25: the general path names the reason
        else:
            return _localise(_in_range(wall, value), zone, value)
    if isinstance(value, dt.datetime):
        _in_range(value, value)
        if value.tzinfo is not None:
            return value.astimezone(dt.UTC)
        return _localise(value, zone, value)
    if isinstance(value, dt.date):
        return _localise(dt.datetime.combine(parse_date(value), dt.time()), zone, value)
    parts = _date_parts(value, "not_datetime")
    if parts is None:
        return None
    date, time = parts
    clock, offset = _clock(time, value) if time else (dt.time(), None)
    wall = dt.datetime.combine(date, clock)
    if offset is None:
        return _localise(wall, zone, value)
    return wall.replace(tzinfo=offset).astimezone(dt.UTC)


def _clock(time: re.Match, value: Any) -> tuple[dt.time, dt.tzinfo | None]:
    """The time of day of a matched time, and its UTC offset (None when not written)."""
    offset = (time["tz"] or "").replace(":", "")
    try:
        clock = dt.time(
            int(time["H"]),
            int(time["M"]),
            int(time["S"] or 0),
            int((time["f"] or "0").ljust(6, "0")),
        )
        if offset in ("", "Z"):
            return clock, dt.UTC if offset else None
        minutes = int(offset[1:3]) * 60 + int(offset[3:5])
        return clock, dt.timezone(dt.timedelta(minutes=-minutes if offset[0] == "-" else minutes))
    except ValueError:  # hour 25, minute 61, an offset beyond ±24h
        raise ParseError("invalid_time", value=_show(value)) from None


def _localise(wall: dt.datetime, zone: dt.tzinfo, shown: Any) -> dt.datetime:
    """`wall` read in `zone`, as UTC; refuses times a DST change skipped or repeated."""
    early, late = wall.replace(tzinfo=zone, fold=0), wall.replace(tzinfo=zone, fold=1)
    if early.utcoffset() != late.utcoffset():
        back = early.astimezone(dt.UTC).astimezone(zone).replace(tzinfo=None)
        if back != wall:
            raise ParseError("nonexistent_time", value=_show(shown), zone=str(zone))
        first, second = (_offset(t.utcoffset()) for t in (early, late))
        raise ParseError(
            "ambiguous_time", value=_show(shown), zone=str(zone), first=first, second=second
        )
    return early.astimezone(dt.UTC)


def _offset(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds()) // 60
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _key(label: Any) -> str:
    return " ".join(_normal(label).casefold().split())


class Choices:
    """Choice labels indexed once, for parsing many cells.

    `choices` maps each canonical value to its accepted labels (English, Chinese...); the
    canonical value is accepted too. Matching ignores case, width and extra spaces.
    """

    def __init__(self, choices: Mapping[str, Iterable[str]]) -> None:
        self._index: dict[str, str] = {}
        groups = []
        for canonical, labels in choices.items():
            shown: dict[str, str] = {}
            for label in (canonical, *labels):
                key = _key(label)
                owner = self._index.setdefault(key, canonical)
                if owner != canonical:
                    raise ValueError(f"label {label!r} belongs to {owner!r} and {canonical!r}")
                shown.setdefault(key, str(label).strip())
            groups.append("/".join(shown.values()))
        self.accepted = ", ".join(groups)

    def parse(self, value: Any) -> str | None:
        """The canonical value for `value`; None if empty; ParseError listing the choices."""
        key = _key(value)
        if not key:
            return None
        if key not in self._index:
            raise ParseError("not_choice", value=_show(value), accepted=self.accepted)
        return self._index[key]


def parse_choice(value: Any, choices: Mapping[str, Iterable[str]] | Choices) -> str | None:
    """The canonical value whose label `value` is (see `Choices`); None if empty.
    Pass a `Choices` when parsing many rows, so the labels are indexed once."""
    return (choices if isinstance(choices, Choices) else Choices(choices)).parse(value)


_BOOLS = Choices(
    {
        "true": "yes y t 1 on 是 对 真 同意 √ ✓ ✔ opted-in opt-in subscribed 已订阅".split()
        + ["opted in", "opt in"],
        "false": "no n f 0 off 否 不 假 不同意 × ✗ ✘ opted-out opt-out unsubscribed 退订".split()
        + ["opted out", "opt out"],
    }
)


def parse_bool(value: Any) -> bool | None:
    """True or False from yes/no, true/false, y/n, 1/0, on/off, 是/否, √/×, opted in/out,
    subscribed/unsubscribed (any case or width) or an XLSX boolean; None if empty."""
    if isinstance(value, bool):
        return value
    try:
        canonical = _BOOLS.parse(value)
    except ParseError:
        raise ParseError("not_choice", value=_show(value), accepted=_BOOL_ACCEPTED) from None
    return None if canonical is None else canonical == "true"


def parse_text(value: Any, max_length: int | None = None, *, multiline: bool = False) -> str | None:
    """Stripped text (surrounding spaces and zero-width characters removed); None if empty.

    Control characters are rejected; with `multiline`, tabs and line breaks are kept (line
    breaks as "\\n"). `max_length` counts characters, as Django's CharField does.
    """
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an XLSX code cell 1001.0 means "1001"
    text = _EDGES.sub("", str(value))
    if multiline:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    bad = (_CONTROL_MULTILINE if multiline else _CONTROL).search(text)
    if bad:
        char = f"U+{ord(bad.group()):04X}"
        raise ParseError("control_char", char=char, position=bad.start() + 1)
    if max_length is not None and len(text) > max_length:
        raise ParseError("too_long", length=len(text), limit=max_length)
    return text or None


def parse_phone(value: Any) -> str | None:
    """Digits with an optional leading "+" ("+86 138-0013-8000" -> "+8613800138000");
    spaces, dashes and parentheses are dropped; 5 to 20 digits; None if empty."""
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ParseError("phone_char", value=_show(value), char=".")
    text = _normal(value)
    if not text:
        return None
    if _SCIENTIFIC.fullmatch(text):
        raise ParseError("scientific", value=_show(value))
    plus = text.startswith("+")
    digits = _PHONE_SEPARATORS.sub("", text[1:] if plus else text)
    stray = re.search(r"[^0-9]", digits)
    if stray:
        raise ParseError("phone_char", value=_show(value), char=stray.group())
    if not 5 <= len(digits) <= 20:
        raise ParseError("phone_digits", value=_show(value), count=len(digits))
    return ("+" if plus else "") + digits


def parse_email(value: Any) -> str | None:
    """A plausible email address with its domain lower-cased; None if empty."""
    text = _normal(value)
    if not text:
        return None
    shown = _show(value)
    if re.search(r"\s", text):
        raise ParseError("email_space", value=shown)
    if text.count("@") != 1:
        raise ParseError("email_at", value=shown)
    if len(text) > 254:
        raise ParseError("too_long", length=len(text), limit=254)
    local, domain = text.split("@")
    if not _EMAIL_LOCAL.fullmatch(local):
        raise ParseError("email_local", value=shown)
    labels = domain.lower().split(".")
    tld = labels[-1]
    if (
        len(labels) < 2
        or not all(map(_DOMAIN_LABEL.fullmatch, labels))
        or len(tld) < 2
        or tld.isdigit()
    ):
        raise ParseError("email_domain", value=shown)
    return f"{local}@{domain.lower()}"
