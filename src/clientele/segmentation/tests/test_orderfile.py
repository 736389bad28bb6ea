"""`clientele classify --orders FILE --out DIR` on awkward files: each case has a defined
result (documented in segmentation/README.md), no crash, and no NaN or infinity in any
output. None of these tests may touch the Django database (no django_db mark: pytest-django
refuses database access), because the order-file mode must work without one."""

import csv
import json
import math
import re

import pytest
from django.core.management import CommandError, call_command

from clientele.segmentation.orderfile import classify_order_file

HEADER = "customer_id,ordered_at,amount\n"


def _write(tmp_path, text, name="orders.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def _run(tmp_path, text, **options):
    out = tmp_path / "out"
    result = classify_order_file(_write(tmp_path, text), str(out), zone="Asia/Shanghai", **options)
    with open(out / "customers.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    models = json.loads((out / "models.json").read_text(encoding="utf-8"))
    return result, rows, models, out


def _assert_finite(rows, models):
    for row in rows:
        for key, value in row.items():
            assert value.lower() not in ("nan", "inf", "-inf", "infinity"), (key, value)
            try:
                number = float(value)
            except ValueError:
                continue
            assert math.isfinite(number), (key, value)
    text = json.dumps(models)
    assert "NaN" not in text and "Infinity" not in text


def test_normal_file_writes_every_output(tmp_path):
    lines = [HEADER]
    for c in range(1, 31):
        for k in range(1 + c % 5):
            lines.append(
                f"C{c:03d},2025-{1 + (c + 3 * k) % 12:02d}-{1 + k * 5:02d} 10:00,{c * 10 + k}.50\n"
            )
    result, rows, models, out = _run(tmp_path, "".join(lines), until=None)
    assert result.customers == 30 and len(rows) == 30
    assert set(models) >= {"bgnbd", "gamma_gamma"}
    assert set(models["bgnbd"]) == {"r", "alpha", "a", "b", "loglik"}
    assert set(models["gamma_gamma"]) == {"p", "q", "gamma", "loglik"}
    header = set(rows[0])
    for column in ("clv", "clv_p_alive", "clv_expected_purchases", "clv_expected_order_value",
                   "clv_value", "abc_spend", "abc_spend_cumulative_share_pct", "member_tiers",
                   "rfm", "rfm_r", "rfm_f", "rfm_m", "lifecycle", "value_expectation"):  # fmt: skip
        assert column in header
    _assert_finite(rows, models)
    report = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "<svg" in report
        and "<script" not in report
        and "http://" not in report.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )


def test_customers_csv_quotes_codes_and_keeps_customer_order(tmp_path):
    """Codes with commas, quotes and Chinese come back as they were, one row per customer
    in code order, CRLF line ends, empty cells for missing values."""
    codes = ["Z,1", 'A"2', "客户3", "B 4"]
    text = HEADER + "".join(
        f'"{code.replace(chr(34), chr(34) * 2)}",2025-0{1 + n}-10 10:00,{100 + n}.00\n'
        for n, code in enumerate(codes)
    )
    result, rows, _models, out = _run(tmp_path, text, until=None)
    assert [row["customer_id"] for row in rows] == sorted(codes)
    raw = (out / "customers.csv").read_bytes()
    assert raw.count(b"\r\n") == len(codes) + 1 and raw.count(b"\n") == len(codes) + 1
    assert all(row["clv_repeat_purchases"] == "0" for row in rows)
    assert all(row["abc_spend_potential"] == "0" for row in rows)


def test_customers_csv_writes_money_to_the_cent_and_other_numbers_to_six_places(tmp_path):
    text = HEADER + "C1,2025-01-05 10:00,0.10\nC1,2025-02-05 10:00,0.20\nC2,2025-02-06 10:00,7\n"
    _result, rows, _models, _out = _run(tmp_path, text, until=None)
    by = {row["customer_id"]: row for row in rows}
    assert by["C1"]["member_tiers_spend"] == "0.30" and by["C2"]["member_tiers_spend"] == "7.00"
    assert by["C1"]["abc_spend_measure"] == "0.30" and by["C1"]["rfm_monetary"] == "0.30"
    assert re.fullmatch(r"\d+\.\d{2}", by["C1"]["clv_value"])
    for column in ("clv_p_alive", "clv_expected_purchases", "abc_spend_cumulative_share_pct"):
        assert re.fullmatch(r"\d+\.\d{6}", by["C1"][column]), (column, by["C1"][column])


def test_a_sum_too_large_for_a_decimal_is_written_as_a_float(tmp_path):
    """Twenty orders of 999,999,999,999,999.99 add up to more than 16 digits before the
    point: that column is written as a rounded float rather than failing."""
    text = HEADER + "".join(
        f"C1,2025-01-{day:02d} 10:00,999999999999999.99\n" for day in range(1, 21)
    )
    _result, rows, models, _out = _run(tmp_path, text, until=None)
    assert float(rows[0]["member_tiers_spend"]) == pytest.approx(2e16)
    assert rows[0]["member_tiers"] == "supreme_vip"
    _assert_finite(rows, models)


def test_chinese_headers_gb18030_and_odd_cells(tmp_path):
    text = (
        "客户编号,下单时间,金额\n"
        '甲001,2025年6月1日 10:30,"¥1,200.50"\n'
        '甲001,2025/6/20,"1,000"\n'
        "乙002,2025-06-21T09:00:00+08:00,300元\n"
        "乙002,not a date,5\n"
        "丙003,2025-06-22,12.345\n"
    )
    out = tmp_path / "out"
    result = classify_order_file(
        _write(tmp_path, text, encoding="gb18030"), str(out), zone="Asia/Shanghai"
    )
    assert result.customers == 2 and result.orders == 3 and result.rejected == 2
    rejects = list(csv.DictReader(open(out / "rejected_rows.csv", encoding="utf-8")))
    assert [(r["row"], r["column"]) for r in rejects] == [("5", "ordered_at"), ("6", "amount")]
    rows = list(csv.DictReader(open(out / "customers.csv", encoding="utf-8")))
    spend = {r["customer_id"]: float(r["member_tiers_spend"]) for r in rows}
    assert spend == {"甲001": 2200.5, "乙002": 300.0}


def test_unquoted_thousands_separator_is_a_clear_error(tmp_path):
    path = _write(tmp_path, HEADER + "C1,2025-05-01 10:00,1,200.50\n")
    with pytest.raises(CommandError, match="must be quoted"):
        call_command("classify", orders=path, out=str(tmp_path / "out"))


def test_missing_column_is_a_clear_error(tmp_path):
    path = _write(tmp_path, "customer,when\nC1,2025-01-01\n")
    with pytest.raises(CommandError, match="amount"):
        call_command("classify", orders=path, out=str(tmp_path / "out"))


def test_single_order(tmp_path):
    result, rows, models, _out = _run(tmp_path, HEADER + "C1,2025-06-01 10:00,100\n")
    (row,) = rows
    assert row["clv"] == "high" and row["abc_spend"] == "A" and row["rfm"] == "need_attention"
    assert row["lifecycle"] == "new" and float(row["clv_p_alive"]) == 1.0
    assert models["gamma_gamma"] is None  # no repeat purchase: nothing to fit
    _assert_finite(rows, models)


def test_all_orders_on_one_day(tmp_path):
    text = HEADER + "".join(
        f"C{c},2025-06-01 {8 + k}:00,{10 * c + k}\n" for c in range(1, 6) for k in range(3)
    )
    result, rows, models, _out = _run(tmp_path, text)
    # three orders on one day are one purchase occasion: no repeat purchases at all
    assert {r["clv_repeat_purchases"] for r in rows} == {"0"}
    assert {r["rfm_frequency"] for r in rows} == {"1"}
    assert models["gamma_gamma"] is None
    assert models["bgnbd"] is not None
    _assert_finite(rows, models)


def test_returns_and_zero_amounts(tmp_path):
    text = HEADER + (
        "C1,2025-05-01 10:00,100\n"
        "C1,2025-05-01 15:00,-100\n"  # returned the same day: no occasion
        "C1,2025-06-01 10:00,50\n"
        "C2,2025-06-01 10:00,0\n"  # zero amount only: never bought
        "C3,2025-06-02 10:00,80\n"
        "C3,2025-06-10 10:00,-30\n"  # partial refund later: spend 50, one occasion
    )
    result, rows, models, _out = _run(tmp_path, text)
    by = {r["customer_id"]: r for r in rows}
    assert by["C1"]["rfm_frequency"] == "1" and float(by["C1"]["member_tiers_spend"]) == 50
    assert by["C2"]["clv"] == "none" and by["C2"]["rfm"] == "none"
    assert by["C2"]["lifecycle"] == "prospect" and by["C2"]["clv_p_alive"] == ""
    assert float(by["C3"]["member_tiers_spend"]) == 50 and by["C3"]["rfm_frequency"] == "1"
    _assert_finite(rows, models)


def test_future_dates_are_ignored_and_counted(tmp_path):
    text = HEADER + (
        "C1,2025-05-01 10:00,100\nC1,2025-06-01 10:00,100\n"
        "C2,2099-01-01 10:00,500\n"  # a typo far in the future
    )
    result, rows, models, _out = _run(tmp_path, text)
    assert result.until.isoformat() == "2025-06-01" and result.future_orders == 1
    assert models["ignored_future_orders"] == 1
    by = {r["customer_id"]: r for r in rows}
    assert by["C2"]["clv"] == "none" and float(by["C2"]["member_tiers_spend"]) == 0
    _assert_finite(rows, models)


def test_empty_window(tmp_path):
    text = HEADER + "C1,2025-05-01 10:00,100\nC2,2025-06-01 10:00,100\n"
    result, rows, models, _out = _run(tmp_path, text, until=__import__("datetime").date(2024, 1, 1))
    assert result.future_orders == 2
    assert models["bgnbd"] is None and models["gamma_gamma"] is None
    assert {r["clv"] for r in rows} == {"none"} and {r["lifecycle"] for r in rows} == {"prospect"}
    assert {r["abc_spend"] for r in rows} == {"C"}
    _assert_finite(rows, models)


def test_all_customers_identical(tmp_path):
    text = HEADER + "".join(
        f"C{c},2025-0{m}-10 10:00,100\n" for c in range(1, 11) for m in (2, 4, 6)
    )
    result, rows, models, _out = _run(tmp_path, text)
    # identical behaviour: identical scores and values, ties never split customers
    for column in ("clv", "clv_value", "rfm", "rfm_r", "rfm_f", "rfm_m", "lifecycle",
                   "member_tiers", "value_expectation"):  # fmt: skip
        assert len({r[column] for r in rows}) == 1, column
    assert rows[0]["clv"] == "high" and rows[0]["rfm"] == "need_attention"
    # ABC: the deterministic tie-break (customer id) decides who reaches 80 % first
    assert [r["abc_spend"] for r in rows] == ["A"] * 8 + ["B"] * 2
    _assert_finite(rows, models)


def test_one_customer(tmp_path):
    text = HEADER + "C1,2025-01-01 10:00,100\nC1,2025-03-01 10:00,150\nC1,2025-06-01 10:00,90\n"
    result, rows, models, _out = _run(tmp_path, text)
    (row,) = rows
    assert row["abc_spend"] == "A" and row["clv"] == "high"
    assert (row["rfm_r"], row["rfm_f"], row["rfm_m"]) == ("3", "3", "3")
    _assert_finite(rows, models)


def test_command_prints_a_summary(tmp_path, capsys):
    path = _write(tmp_path, HEADER + "C1,2025-05-01 10:00,100\nC1,2099-01-01 10:00,5\n")
    call_command("classify", orders=path, out=str(tmp_path / "out"), period="day", horizon=30)
    output = capsys.readouterr().out
    assert "1 customers, 1 orders up to 2025-05-01" in output
    assert "Ignored 1 orders after 2025-05-01" in output
    models = json.loads((tmp_path / "out" / "models.json").read_text())
    assert models["period"] == "day" and models["horizon"] == 30


def test_bad_until_is_refused(tmp_path):
    path = _write(tmp_path, HEADER + "C1,2025-05-01 10:00,100\n")
    with pytest.raises(CommandError, match="--until"):
        call_command("classify", orders=path, out=str(tmp_path / "o"), until="31/12/2025")
