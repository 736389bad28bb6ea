"""Tests of the cell parsers: every accepted form, every rejection and its reason."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientele.imports.parsing import (
    MESSAGES,
    Choices,
    ParseError,
    parse_amount,
    parse_bool,
    parse_choice,
    parse_date,
    parse_datetime,
    parse_decimal,
    parse_email,
    parse_phone,
    parse_text,
)

UTC = dt.UTC


def code_of(parser, *args, **kwargs):
    with pytest.raises(ParseError) as info:
        parser(*args, **kwargs)
    error = info.value
    assert str(error) == error.reason == error.template.format(**error.params)
    return error.code


# --- numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234.5", "1234.50"),
        ("1,234.50", "1234.50"),
        ("¥1,234.50", "1234.50"),
        ("￥1,234.50", "1234.50"),
        ("1234.5元", "1234.50"),
        ("RMB 1,234.50", "1234.50"),
        ("rmb1234.5", "1234.50"),
        ("CNY1234.5", "1234.50"),
        ("人民币 88", "88.00"),
        ("１２３", "123.00"),
        ("１，２３４．５０", "1234.50"),
        ("  42  ", "42.00"),
        ("1,234", "1234.00"),
        ("1,234,567.8", "1234567.80"),
        ("-12.5", "-12.50"),
        ("−12.5", "-12.50"),
        ("+12.5", "12.50"),
        ("(12.50)", "-12.50"),
        ("(¥12.50)", "-12.50"),
        ("¥(12.50)", "-12.50"),
        ("-¥12.50", "-12.50"),
        ("¥-12.50", "-12.50"),
        ("-12.50元", "-12.50"),
        ("12.500", "12.50"),
        (".5", "0.50"),
        ("(0.00)", "0.00"),
        (0, "0.00"),
        (1234, "1234.00"),
        (1234.5, "1234.50"),
        (0.1, "0.10"),
        (0.1 + 0.2, "0.30"),  # a cached formula result: Excel shows 0.3
        (Decimal("7.1"), "7.10"),
    ],
)
def test_parse_amount_accepts(text, expected):
    result = parse_amount(text)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("abc", "not_number"),
        ("¥", "not_number"),
        ("12.50-", "not_number"),
        ("-(12)", "not_number"),
        ("(-12)", "not_number"),
        ("1'234.50", "not_number"),
        ("$12", "not_number"),
        (True, "not_number"),
        (dt.date(2026, 1, 1), "not_number"),
        ("12.345", "too_many_decimals"),
        ("1.234,50", "european"),
        ("1.234.567", "european"),
        ("1,23", "decimal_comma"),
        ("12,3456", "decimal_comma"),
        ("1,234,5", "decimal_comma"),
        (" 1 234,50 ", "spaced_number"),
        ("1 234.50", "spaced_number"),
        ("1.2E+05", "scientific"),
        ("NaN", "not_finite"),
        ("Infinity", "not_finite"),
        ("-inf", "not_finite"),
        (float("nan"), "not_finite"),
        (float("inf"), "not_finite"),
        (Decimal("NaN"), "not_finite"),
        ("9" * 40, "not_number"),
    ],
)
def test_parse_amount_rejects(text, code):
    assert code_of(parse_amount, text) == code


def test_rejection_reasons_are_precise():
    with pytest.raises(ParseError) as info:
        parse_amount("12.345")
    assert info.value.reason == '"12.345" has more than 2 decimal places.'
    with pytest.raises(ParseError) as info:
        parse_amount(" 1.234,50 ")
    assert info.value.params == {"value": "1.234,50"}
    assert info.value.template == MESSAGES["european"]


def test_parse_decimal_keeps_quantity_precision():
    assert parse_decimal("1.234") == Decimal("1.234")
    assert parse_decimal("12.345") == Decimal("12.345")
    assert parse_amount("1.234", places=3) == Decimal("1.234")
    assert parse_decimal(1e16) == Decimal("10000000000000000")
    assert parse_decimal(-0.0) == 0


@pytest.mark.parametrize("empty", [None, "", "   ", "\u3000", "\u200b"])
def test_empty_cells_are_none(empty):
    for parser in (parse_decimal, parse_amount, parse_date, parse_bool, parse_text, parse_phone):
        assert parser(empty) is None
    assert parse_datetime(empty, "Asia/Shanghai") is None
    assert parse_email(empty) is None
    assert parse_choice(empty, {"a": []}) is None


amounts = st.decimals(
    min_value=Decimal("-999999999999.99"),
    max_value=Decimal("999999999999.99"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


@given(amounts, st.sampled_from(["", "¥", "￥", "RMB ", "CNY"]), st.sampled_from(["", "元"]))
def test_parse_amount_round_trips_formatted_decimals(amount, prefix, suffix):
    text = f"{prefix}{amount:,.2f}{suffix}"
    assert parse_amount(text) == amount
    assert str(parse_amount(text)) == f"{amount:.2f}"


@given(amounts)
def test_parse_amount_round_trips_xlsx_floats(amount):
    assert parse_amount(float(amount)) == amount


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-11",
        "2026/11/11",
        "2026.11.11",
        "2026/11/11 00:00",
        "2026年11月11日",
        "2026 年 11 月 11 日",
        "2026年11月11号",
        "20261111",
        20261111,
        "２０２６－１１－１１",
        "2026-11-11 00:00:00",
        dt.date(2026, 11, 11),
        dt.datetime(2026, 11, 11),
    ],
)
def test_parse_date_accepts(text):
    assert parse_date(text) == dt.date(2026, 11, 11)


def test_parse_date_single_digit_month_and_day():
    assert parse_date("2026/1/5") == dt.date(2026, 1, 5)
    assert parse_date("2026年1月5日") == dt.date(2026, 1, 5)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("11/12/2026", "ambiguous_date"),
        ("12/11/26", "ambiguous_date"),
        ("25/12/2026", "ambiguous_date"),  # unambiguous alone, but never guessed
        ("26-11-11", "ambiguous_date"),
        ("11.12.2026 10:30", "ambiguous_date"),
        ("2026-02-30", "invalid_date"),
        ("2026-13-01", "invalid_date"),
        ("20260230", "invalid_date"),
        ("45972", "excel_serial"),
        ("45972.5", "excel_serial"),
        (45972, "excel_serial"),
        ("0226-11-11", "year_range"),
        ("3026-11-11", "year_range"),
        (dt.date(1800, 1, 1), "year_range"),
        ("2026-11-11 10:30", "has_time"),
        ("2026-11-11T00:00+08:00", "has_time"),
        (dt.datetime(2026, 11, 11, 10, 30), "has_time"),
        ("2026-11-11 25:00", "invalid_time"),
        ("2026-11", "not_date"),
        ("Nov 11, 2026", "not_date"),
        ("2026-11-11abc", "not_date"),
        ("2026-11/11", "not_date"),
        (True, "not_date"),
    ],
)
def test_parse_date_rejects(text, code):
    assert code_of(parse_date, text) == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-11", dt.datetime(2026, 11, 10, 16, 0, tzinfo=UTC)),
        ("2026-11-11 10:30", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        ("2026/11/11 9:05", dt.datetime(2026, 11, 11, 1, 5, tzinfo=UTC)),
        ("2026-11-11T10:30:00", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        ("2026-11-11T10:30:00+08:00", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        ("2026-11-11 10:30:00.25 -0500", dt.datetime(2026, 11, 11, 15, 30, 0, 250000, tzinfo=UTC)),
        ("2026-11-11T10:30Z", dt.datetime(2026, 11, 11, 10, 30, tzinfo=UTC)),
        ("2026年11月11日 10:30", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        ("2026年11月11日10:30", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        ("２０２６／１１／１１　１０：３０", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        ("20261111 10:30", dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        (dt.datetime(2026, 11, 11, 10, 30), dt.datetime(2026, 11, 11, 2, 30, tzinfo=UTC)),
        (dt.date(2026, 11, 11), dt.datetime(2026, 11, 10, 16, 0, tzinfo=UTC)),
        (
            dt.datetime(2026, 11, 11, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=9))),
            dt.datetime(2026, 11, 11, 1, 30, tzinfo=UTC),
        ),
    ],
)
def test_parse_datetime_in_shanghai(text, expected):
    result = parse_datetime(text, "Asia/Shanghai")
    assert result == expected
    assert result.utcoffset() == dt.timedelta(0)


def test_parse_datetime_takes_a_tzinfo():
    result = parse_datetime("2026-07-01 12:00", ZoneInfo("Europe/London"))
    assert result == dt.datetime(2026, 7, 1, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("2026-03-08 02:30", "nonexistent_time"),
        ("2026-11-01 01:30", "ambiguous_time"),
        ("11/12/2026 10:30", "ambiguous_date"),
        ("2026-11-11 24:00", "invalid_time"),
        ("2026-11-11 10:61", "invalid_time"),
        ("2026-11-11 10:30 +25:00", "invalid_time"),
        ("2026-11-11 10", "not_datetime"),
        ("2026-11-11 10:30 PM", "not_datetime"),
        (45972.5, "excel_serial"),
    ],
)
def test_parse_datetime_rejects(text, code):
    assert code_of(parse_datetime, text, "America/New_York") == code


def test_daylight_saving_reasons_name_the_zone_and_offsets():
    with pytest.raises(ParseError) as info:
        parse_datetime("2026-11-01 01:30", "America/New_York")
    assert info.value.params["zone"] == "America/New_York"
    assert (info.value.params["first"], info.value.params["second"]) == ("-04:00", "-05:00")
    assert parse_datetime("2026-11-01 01:30 -05:00", "America/New_York") == dt.datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2999, 12, 31)))
def test_parse_date_round_trips_every_written_form(day):
    for text in (
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month:02d}.{day.day:02d}",
        f"{day.year}年{day.month}月{day.day}日",
        f"{day:%Y%m%d}",
    ):
        assert parse_date(text) == day


# --- choices, booleans ---------------------------------------------------------------------

GRADES = {"vip": ["VIP", "贵宾", "Very important"], "regular": ["Regular", "普通"]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vip", "vip"),
        (" VIP ", "vip"),
        ("贵宾", "vip"),
        ("very   IMPORTANT", "vip"),
        ("普通", "regular"),
    ],
)
def test_parse_choice(text, expected):
    assert parse_choice(text, GRADES) == expected
    assert parse_choice(text, Choices(GRADES)) == expected


def test_parse_choice_lists_the_accepted_values():
    with pytest.raises(ParseError) as info:
        parse_choice("gold", GRADES)
    assert (
        info.value.reason
        == '"gold" is not accepted; use one of: vip/贵宾/Very important, regular/普通.'
    )


def test_choice_label_used_twice_is_a_programming_error():
    with pytest.raises(ValueError):
        Choices({"a": ["x"], "b": ["X"]})


@pytest.mark.parametrize(
    "text",
    [
        "yes",
        "Y",
        "TRUE",
        "t",
        "1",
        "on",
        "是",
        "对",
        "√",
        "✓",
        "Opted In",
        "opted-in",
        "ＹＥＳ",
        1,
        1.0,
        True,
    ],
)
def test_parse_bool_true(text):
    assert parse_bool(text) is True


@pytest.mark.parametrize(
    "text",
    ["no", "N", "false", "F", "0", "off", "否", "不", "×", "opted out", "Unsubscribed", 0, False],
)
def test_parse_bool_false(text):
    assert parse_bool(text) is False


@pytest.mark.parametrize("text", ["maybe", "2", 2, "yes please"])
def test_parse_bool_rejects(text):
    assert code_of(parse_bool, text) == "not_choice"


# --- text, phone, email --------------------------------------------------------------------


def test_parse_text():
    assert parse_text("  张伟 ") == "张伟"
    assert parse_text("\u200b\ufeffname\u200b") == "name"
    assert parse_text(1001) == "1001"
    assert parse_text(1001.0) == "1001"
    assert parse_text(12.5) == "12.5"
    assert parse_text("x" * 5, 5) == "xxxxx"
    assert parse_text("张" * 5, 5) == "张" * 5  # characters, not bytes
    assert parse_text("a\r\nb\tc", multiline=True) == "a\nb\tc"
    assert parse_text("👨‍👩‍👧 family") == "👨‍👩‍👧 family"  # zero-width joiners inside are kept


def test_parse_text_rejects():
    with pytest.raises(ParseError) as info:
        parse_text("x" * 256, 255)
    assert info.value.reason == "The text has 256 characters; the limit is 255."
    with pytest.raises(ParseError) as info:
        parse_text("ab\x07c")
    assert info.value.params == {"char": "U+0007", "position": 3}
    assert code_of(parse_text, "line\nbreak") == "control_char"
    assert code_of(parse_text, "a\x00b", multiline=True) == "control_char"
    assert code_of(parse_text, "a\x85b", multiline=True) == "control_char"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+86 138-0013-8000", "+8613800138000"),
        ("138 0013 8000", "13800138000"),
        ("(010) 1234-5678", "01012345678"),
        ("１３８００１３８０００", "13800138000"),
        (13800138000, "13800138000"),
        (13800138000.0, "13800138000"),
        ("12345", "12345"),
        ("1" * 20, "1" * 20),
    ],
)
def test_parse_phone(text, expected):
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1234", "phone_digits"),
        ("1" * 21, "phone_digits"),
        ("+", "phone_digits"),
        ("138.0013.8000", "phone_char"),
        ("13800138000.0", "phone_char"),
        ("1.38E+10", "scientific"),
        ("+86+138", "phone_char"),
        ("138 0013 8000 ext 12", "phone_char"),
        ("'13800138000", "phone_char"),
        (1.5, "phone_char"),
        (True, "phone_char"),
    ],
)
def test_parse_phone_rejects(text, code):
    assert code_of(parse_phone, text) == code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Zhang.Wei@QQ.COM", "Zhang.Wei@qq.com"),
        ("  a+tag@example.co.uk ", "a+tag@example.co.uk"),
        ("ａ＠ｂｃ．ｃｏｍ", "a@bc.com"),
        ("张伟@例子.中国", "张伟@例子.中国"),
    ],
)
def test_parse_email(text, expected):
    assert parse_email(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("a b@c.com", "email_space"),
        ("zhangwei.qq.com", "email_at"),
        ("a@@b.com", "email_at"),
        ("a@b@c.com", "email_at"),
        (".a@b.com", "email_local"),
        ("a..b@c.com", "email_local"),
        ("a@b", "email_domain"),
        ("a@b..com", "email_domain"),
        ("a@-b.com", "email_domain"),
        ("a@b.c", "email_domain"),
        ("a@1.2.3.4", "email_domain"),
        ("a@qq。com", "email_domain"),
        ("a@qq,com", "email_domain"),
        ("a" * 250 + "@b.com", "too_long"),
    ],
)
def test_parse_email_rejects(text, code):
    assert code_of(parse_email, text) == code


def test_caller_reasons_pass_through():
    error = ParseError("must not be in the future")
    assert str(error) == "must not be in the future"
    assert error.params == {}
