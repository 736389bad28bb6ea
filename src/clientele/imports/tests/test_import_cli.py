"""`clientele import`: foreground import with a progress bar, a summary with the errors,
the rejected rows written where asked, and an exit status that scripts can test."""

import io

import pytest
from django.core.management import CommandError, call_command

from clientele import cli
from clientele.customers.models import Customer
from clientele.sales.models import Order

from .conftest import csv_bytes, yesterday

pytestmark = pytest.mark.django_db


def write(tmp_path, rows, name="file.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(rows))
    return str(path)


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("import_file", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_a_good_file_imports_with_a_progress_bar(tmp_path, admin):
    path = write(tmp_path, [["客户编号", "姓名"], ["C1", "甲"], ["C2", "乙"]])
    out, err = run("customers", path, "--user", "admin")
    assert "succeeded: rows 2" in out and "created 2" in out
    assert "\r[" in err and "100%" in err
    assert Customer.objects.count() == 2


def test_rejected_rows_exit_non_zero_and_are_written(tmp_path, customers, products):
    rows = [["订单号", "客户编号", "下单时间", "商品编码", "数量", "单价"]]
    rows += [["SO1", "C001", yesterday(), "SKU1", "1", "10"]]
    rows += [["SO2", "C001", "2025-13-01", "SKU1", "1", "10"]]
    path = write(tmp_path, rows)
    rejects = tmp_path / "bad.csv"
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as caught:
        call_command(
            "import_file",
            "orders",
            path,
            "--mode",
            "valid",
            "--source",
            "shop",
            "--rejects",
            str(rejects),
            "--quiet",
            stdout=out,
            stderr=err,
        )
    assert caught.value.returncode == 1
    assert "row 3: 下单时间:" in out.getvalue()
    assert list(Order.objects.values_list("source", "number")) == [("shop", "SO1")]
    assert "2025-13-01" in rejects.read_text(encoding="utf-8-sig")
    assert err.getvalue() == ""


def test_unknown_columns_are_named_and_can_be_mapped(tmp_path):
    path = write(tmp_path, [["Kunden-Nr", "Name", "Farbe"], ["K1", "Lee", "rot"]])
    with pytest.raises(CommandError) as caught:
        run("customers", path)
    assert caught.value.returncode == 2
    assert "Kunden-Nr" in str(caught.value) and "--map" in str(caught.value)
    out, _err = run("customers", path, "--map", "Kunden-Nr=code", "--map", "Farbe=")
    assert Customer.objects.get(code="K1").name == "Lee"


def test_a_map_to_an_unknown_field_is_refused(tmp_path):
    path = write(tmp_path, [["code", "name"], ["C1", "A"]])
    with pytest.raises(CommandError, match="Unknown fields: colour"):
        run("customers", path, "--map", "name=colour")


def test_an_unreadable_file_exits_with_2(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="empty") as caught:
        run("customers", str(path))
    assert caught.value.returncode == 2


@pytest.mark.django_db(transaction=True)
def test_the_clientele_command_maps_import_and_export(tmp_path, capsys):
    # Real transactions: a command run from the command line closes its connections.
    path = write(tmp_path, [["code", "name"], ["C1", "A"]])
    cli.main(["import", "customers", path, "--quiet"])
    assert "succeeded: rows 1" in capsys.readouterr().out
    out = tmp_path / "out.csv"
    cli.main(["export", "customers", "--format", "csv", "--out", str(out)])
    assert "C1" in out.read_text(encoding="utf-8-sig")
    assert "Exported 1 rows" in capsys.readouterr().out
