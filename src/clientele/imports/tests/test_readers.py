"""Tests of the streaming CSV/XLSX readers on real files: encodings, delimiters, broken files."""

import csv
import datetime as dt
import io
import tracemalloc
import zipfile

import openpyxl
import pytest

from clientele.imports.readers import _BLOCK, MESSAGES, TableError, open_table, write_rejects


def read(path, **kwargs):
    """Headers and all rows of a file, closing it."""
    with open_table(path, **kwargs) as table:
        return table.headers, list(table)


def write(tmp_path, name, data):
    """Write `data` bytes to a file `name` under tmp_path."""
    path = tmp_path / name
    path.write_bytes(data)
    return path


def error_of(path, **kwargs):
    """The TableError that reading the file raises."""
    with pytest.raises(TableError) as info:
        read(path, **kwargs)
    return info.value


# --- CSV encodings -------------------------------------------------------------------------


def test_utf8_csv_rows_are_numbered_as_in_the_spreadsheet(tmp_path):
    path = write(tmp_path, "c.csv", b" code , name \n1, Zhang \n2,Li\n")
    with open_table(path) as table:
        assert table.headers == ["code", "name"]
        assert (table.kind, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
        assert table.header_row == 1
        assert list(table) == [(2, ["1", " Zhang "]), (3, ["2", "Li"])]


def test_utf8_with_bom_is_detected_and_the_bom_dropped(tmp_path):
    path = write(tmp_path, "c.csv", "客户编号,姓名\r\nC1,张伟\r\n".encode("utf-8-sig"))
    with open_table(path) as table:
        assert table.encoding == "utf-8-sig"
        assert table.headers == ["客户编号", "姓名"]
        assert list(table) == [(2, ["C1", "张伟"])]


def test_gbk_file_is_read_as_gb18030(tmp_path):
    path = write(tmp_path, "c.csv", "客户,商品\n张伟,棉花\n李娜,大米\n".encode("gbk"))
    with open_table(path) as table:
        assert table.encoding == "gb18030"
        assert list(table) == [(2, ["张伟", "棉花"]), (3, ["李娜", "大米"])]


def test_gb18030_four_byte_characters(tmp_path):
    text = "name,note\n王䶮,😀 棉花\n"  # 䶮 and the emoji are outside GBK
    path = write(tmp_path, "c.csv", text.encode("gb18030"))
    assert read(path)[1] == [(2, ["王䶮", "😀 棉花"])]


def test_utf16_with_bom_from_excel_unicode_text(tmp_path):
    path = write(tmp_path, "c.txt", "姓名\t金额\r\n张伟\t1,234.50\r\n".encode("utf-16"))
    with open_table(path) as table:
        assert table.encoding.startswith("utf-16")
        assert table.delimiter == "\t"
        assert list(table) == [(2, ["张伟", "1,234.50"])]


@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_character_cut_by_the_detection_sample_boundary(tmp_path, encoding):
    head = "名字,备注\n".encode(encoding)
    width = len("张".encode(encoding))
    padding = b"x" * (_BLOCK - len(head) - 3 - 1)  # the next char starts one byte before the cut
    data = head + b"a," + padding + b"\n" + ("张伟,棉花\n" * 3).encode(encoding)
    assert data[:_BLOCK].endswith("张".encode(encoding)[:1]) and width > 1
    with open_table(write(tmp_path, "c.csv", data)) as table:
        assert table.encoding == ("utf-8" if encoding == "utf-8" else "gb18030")
        rows = list(table)
    assert rows[0] == (2, ["a", "x" * len(padding)])
    assert rows[1:] == [(3, ["张伟", "棉花"]), (4, ["张伟", "棉花"]), (5, ["张伟", "棉花"])]


def test_ascii_start_then_gbk_later_is_still_detected(tmp_path):
    ascii_rows = b"".join(b"C%06d,Smith\n" % i for i in range(10_000))
    assert len(ascii_rows) > 2 * _BLOCK
    data = b"code,name\n" + ascii_rows + "C999999,张伟\n".encode("gbk")
    with open_table(write(tmp_path, "c.csv", data)) as table:
        assert table.encoding == "gb18030"
        assert list(table)[-1] == (10_002, ["C999999", "张伟"])


def test_decode_error_late_in_the_file_names_the_row(tmp_path):
    rows = "".join(f"C{i},张伟\n" for i in range(8_000)).encode("utf-8")
    multiline = b'"A","line one\nline two"\n'
    data = b"code,name\n" + rows + multiline + "C-bad,李娜\n".encode("gbk") + b"C-ok,x\n"
    assert len(rows) > _BLOCK
    with open_table(write(tmp_path, "c.csv", data)) as table:
        assert table.encoding == "utf-8"
        seen = []
        with pytest.raises(TableError) as info:
            seen.extend(table)
    # header 1, 8,000 rows 2..8001, the two-line record is row 8002, the GBK row 8003
    assert seen[-1] == (8002, ["A", "line one\nline two"])
    assert info.value.code == "decode_error"
    assert info.value.params == {"row": 8003, "encoding": "utf-8"}
    assert str(info.value).startswith("Row 8003: ")


def test_undecodable_file(tmp_path):
    error = error_of(write(tmp_path, "c.csv", b"name\n\x80\xff\xfe\x80\n"))
    assert error.code == "unknown_encoding"


def test_windows_1252_file_is_not_mistaken_for_chinese(tmp_path):
    data = "name,city\nRenée Müller,Genève\n".encode("cp1252")
    data.decode("gb18030")  # it does decode, as nonsense Chinese
    assert error_of(write(tmp_path, "c.csv", data)).code == "unknown_encoding"


def test_chinese_with_rare_characters_is_still_gb18030(tmp_path):
    text = "姓名,地址\n张伟,北京市朝阳区建国路88号\n王䶮,上海市浦东新区\n李娜,广州市天河区\n"
    with open_table(write(tmp_path, "c.csv", text.encode("gb18030"))) as table:
        assert table.encoding == "gb18030"
        assert len(list(table)) == 3


def test_binary_file_named_csv(tmp_path):
    assert error_of(write(tmp_path, "c.csv", b"%PDF\x00\x01\x02")).code == "not_text"


# --- CSV structure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "delimiter", "rows"),
    [
        (b"a\tb\n1,5\t2,5\n", "\t", [(2, ["1,5", "2,5"])]),
        (b"a;b\n1,5;2\n", ";", [(2, ["1,5", "2"])]),
        (b'a,b\n"Zhang","1,234.50"\n', ",", [(2, ["Zhang", "1,234.50"])]),
        (b"a,b\n1;2,3\n4;5,6\n", ",", [(2, ["1;2", "3"]), (3, ["4;5", "6"])]),
        (b"a,b\n", ",", []),
    ],
)
def test_delimiter_detection(tmp_path, data, delimiter, rows):
    with open_table(write(tmp_path, "c.csv", data)) as table:
        assert table.delimiter == delimiter
        assert (table.headers, list(table)) == (["a", "b"], rows)


def test_single_column_file(tmp_path):
    assert read(write(tmp_path, "c.csv", b"email\na@b.com\n")) == (["email"], [(2, ["a@b.com"])])


@pytest.mark.parametrize("newline", [b"\r\n", b"\r", b"\n"])
def test_line_endings(tmp_path, newline):
    data = newline.join([b"a,b", b"1,2", b"3,4", b""])
    assert read(write(tmp_path, "c.csv", data))[1] == [(2, ["1", "2"]), (3, ["3", "4"])]


def test_quoted_newlines_count_as_one_row(tmp_path):
    data = b'code,address\r\n1,"Line 1\r\nLine 2"\r\n2,"a ""quoted"" word"\r\n3,x\r\n'
    rows = read(write(tmp_path, "c.csv", data))[1]
    assert rows == [(2, ["1", "Line 1\r\nLine 2"]), (3, ["2", 'a "quoted" word']), (4, ["3", "x"])]


def test_blank_rows_are_skipped_but_counted(tmp_path):
    data = b"\n ,\na,b\n1,2\n\n,,,\n3,4\n\n\n  \n"
    with open_table(write(tmp_path, "c.csv", data)) as table:
        assert table.header_row == 3
        assert list(table) == [(4, ["1", "2"]), (7, ["3", "4"])]


def test_short_rows_are_padded_and_stray_cells_kept(tmp_path):
    data = b"a,b,c\n1\n1,2,3,,\n1,2,3,4\n"
    rows = read(write(tmp_path, "c.csv", data))[1]
    assert rows == [(2, ["1", "", ""]), (3, ["1", "2", "3"]), (4, ["1", "2", "3", "4"])]


def test_header_only_file_has_no_rows(tmp_path):
    assert read(write(tmp_path, "c.csv", b"a,b\r\n\r\n")) == (["a", "b"], [])


def test_trailing_unnamed_header_cells_are_dropped(tmp_path):
    assert read(write(tmp_path, "c.csv", b"a,,b,,\n1,,2\n")) == (
        ["a", "", "b"],
        [(2, ["1", "", "2"])],
    )


@pytest.mark.parametrize(
    ("data", "code"),
    [(b"", "empty_file"), (b"\r\n \r\n,,\r\n", "no_header"), (b"\xef\xbb\xbf", "no_header")],
)
def test_empty_and_headerless_files(tmp_path, data, code):
    assert error_of(write(tmp_path, "c.csv", data)).code == code


def test_duplicate_headers_name_the_columns(tmp_path):
    error = error_of(write(tmp_path, "c.csv", b"code,name,Code\n1,2,3\n"))
    assert error.code == "duplicate_header"
    assert error.params == {"name": "Code", "first": "A", "second": "C"}
    assert str(error) == 'The column name "Code" is used twice (columns A and C).'


def test_unbalanced_quote_names_the_row(tmp_path):
    error = error_of(write(tmp_path, "c.csv", b'a,b\n1,2\n3,"4\n5,6\n'))
    assert (error.code, error.params) == ("bad_quotes", {"row": 3})


def test_giant_cell_from_a_runaway_quote_is_refused(tmp_path):
    data = b'a,b\n1,"' + b"x,y\n" * 40_000
    error = error_of(write(tmp_path, "c.csv", data))
    assert (error.code, error.params) == ("bad_quotes", {"row": 2})


def test_line_without_end_is_refused(tmp_path):
    error = error_of(write(tmp_path, "c.csv", b"a,b\n" + b"x" * (5 * 1024 * 1024)))
    assert error.code == "line_too_long"
    assert error.params["row"] == 2


# --- file types ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("c.pdf", b"%PDF-1.7", "unknown_type"),
        ("c.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "legacy_excel"),
        ("c.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "legacy_excel"),
        ("c.xlsx", b"a,b\n1,2\n", "corrupt_xlsx"),
        ("c.xlsx", b"PK\x03\x04 truncated", "corrupt_xlsx"),
    ],
)
def test_unusable_file_types(tmp_path, name, data, code):
    error = error_of(write(tmp_path, name, data))
    assert error.code == code
    assert error.template == MESSAGES[code]


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "c.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert error_of(path).code == "corrupt_xlsx"


def test_xls_named_text_export_is_read_as_text(tmp_path):
    path = write(tmp_path, "orders.xls", "订单号\t金额\n1\t9.9\n".encode("gbk"))
    assert read(path) == (["订单号", "金额"], [(2, ["1", "9.9"])])


def test_file_object_and_non_seekable_stream(tmp_path):
    data = "客户,金额\n张伟,1\n".encode("gbk")
    upload = io.BytesIO(data)
    upload.name = "upload.csv"
    assert read(upload)[1] == [(2, ["张伟", "1"])]
    assert not upload.closed  # the caller's object stays open

    class Pipe(io.RawIOBase):
        """A readable stream that cannot seek, like a socket or a pipe."""

        def __init__(self):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    assert read(Pipe(), filename="x.csv")[1] == [(2, ["张伟", "1"])]


def test_text_mode_file_object_is_a_programming_error(tmp_path):
    with pytest.raises(TypeError):
        open_table(io.StringIO("a,b\n"), filename="c.csv")


def test_close_releases_the_file(tmp_path):
    table = open_table(write(tmp_path, "c.csv", b"a\n1\n"))
    table.close()
    table.close()
    with pytest.raises(ValueError):
        list(table)


# --- XLSX ----------------------------------------------------------------------------------


def make_xlsx(path, rows_by_sheet):
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for title, rows in rows_by_sheet.items():
        sheet = workbook.create_sheet(title)
        for row_index, row in enumerate(rows, start=1):
            for column_index, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row_index, column_index, value)
    workbook.save(path)
    return path


def test_xlsx_keeps_cell_types(tmp_path):
    when = dt.datetime(2026, 11, 11, 10, 30)
    path = make_xlsx(
        tmp_path / "c.xlsx",
        {
            "客户": [
                [" 客户编号 ", "姓名", "金额", "下单时间", "会员", 2026],
                ["C1", "张伟", 1234.5, when, True, None],
                [1001, None, 7, dt.date(2026, 1, 5), False, "x"],
            ],
            "Other": [["ignored"]],
        },
    )
    with open_table(path) as table:
        assert (table.kind, table.encoding, table.delimiter) == ("xlsx", None, None)
        assert table.headers == ["客户编号", "姓名", "金额", "下单时间", "会员", "2026"]
        rows = list(table)
    assert rows == [
        (2, ["C1", "张伟", 1234.5, when, True, ""]),
        (3, [1001, "", 7, dt.datetime(2026, 1, 5), False, "x"]),
    ]


def test_xlsx_named_sheet_and_missing_sheet(tmp_path):
    path = make_xlsx(tmp_path / "c.xlsx", {"A": [["a"], [1]], "订单": [["order"], ["O1"]]})
    assert read(path, sheet="订单") == (["order"], [(2, ["O1"])])
    error = error_of(path, sheet="Nope")
    assert error.code == "sheet_not_found"
    assert error.params == {"sheet": "Nope", "available": "A, 订单"}


def test_xlsx_skips_a_hidden_first_sheet(tmp_path):
    path = make_xlsx(
        tmp_path / "c.xlsx", {"lists": [["grade"], ["vip"]], "data": [["code"], ["C1"]]}
    )
    workbook = openpyxl.load_workbook(path)
    workbook["lists"].sheet_state = "hidden"
    workbook.save(path)
    assert read(path) == (["code"], [(2, ["C1"])])
    assert read(path, sheet="lists") == (["grade"], [(2, ["vip"])])


def test_xlsx_gaps_blank_rows_and_styled_empty_cells(tmp_path):
    path = tmp_path / "c.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["B3"], sheet["C3"] = "code", "name"
    sheet["B4"], sheet["C4"] = "C1", "Zhang"
    sheet["B7"] = "C2"
    sheet["F3"].font = openpyxl.styles.Font(bold=True)  # styled but empty
    sheet["F9"].font = openpyxl.styles.Font(bold=True)
    workbook.save(path)
    with open_table(path) as table:
        assert table.headers == ["", "code", "name"]
        assert table.header_row == 3
        assert list(table) == [(4, ["", "C1", "Zhang"]), (7, ["", "C2", ""])]


def test_workbook_renamed_to_csv_is_read_as_workbook(tmp_path):
    make_xlsx(tmp_path / "c.xlsx", {"S": [["a"], [1]]})
    renamed = tmp_path / "c.csv"
    renamed.write_bytes((tmp_path / "c.xlsx").read_bytes())
    assert read(renamed) == (["a"], [(2, [1])])


def test_xlsx_damaged_sheet_names_the_row(tmp_path):
    good = make_xlsx(tmp_path / "good.xlsx", {"S": [["a"]] + [[f"value {i}"] for i in range(500)]})
    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]  # the XML stops mid-sheet
            target.writestr(item, data)
    with open_table(damaged) as table:
        with pytest.raises(TableError) as info:
            list(table)
    assert info.value.code == "corrupt_xlsx_row"
    assert 2 < info.value.params["row"] < 502


def test_large_xlsx_streams_in_read_only_mode(tmp_path):
    path = tmp_path / "big.xlsx"
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["code", "name", "amount", "date"])
    for i in range(10_000):
        sheet.append([f"C{i}", "张伟", i * 1.5, dt.datetime(2026, 11, 11)])
    workbook.save(path)
    tracemalloc.start()
    try:
        with open_table(path) as table:
            count = sum(1 for _row in table)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 10_000
    assert peak < 8 * 1024 * 1024  # a fully loaded workbook of this size takes about 20 MB


def test_empty_workbook_has_no_header(tmp_path):
    path = tmp_path / "c.xlsx"
    openpyxl.Workbook().save(path)
    assert error_of(path).code == "no_header"


# --- memory --------------------------------------------------------------------------------


def test_large_csv_streams_in_flat_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="gb18030", newline="") as handle:
        handle.write("客户编号,姓名,金额,日期,备注\r\n")
        for i in range(200_000):
            handle.write(
                f'C{i:07d},张伟{i % 97},"{i % 9999},{i % 1000:03d}.50",2026-11-11,棉花 大米\r\n'
            )
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        count = last_row = 0
        with open_table(path) as table:
            for row, _cells in table:
                count, last_row = count + 1, row
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (count, last_row) == (200_000, 200_001)
    assert peak < 20 * 1024 * 1024


# --- rejects -------------------------------------------------------------------------------


def test_write_rejects_round_trips_through_the_reader(tmp_path):
    path = tmp_path / "rejects.csv"
    rows = [
        (2, ["金额不是数字", "日期不明确"], ["张伟", "abc", dt.datetime(2026, 11, 11, 10, 30)]),
        (5, "bad", ['=HYPERLINK("x")', "-12.5", "+86 138 0013 8000"]),
        (6, "stray", ["@cmd", None, 0.1, "extra"]),
    ]
    assert write_rejects(path, ["姓名", "金额", "日期"], rows, row_label="行号") == 3
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    headers, read_rows = read(path)
    assert headers == ["行号", "errors", "姓名", "金额", "日期"]
    assert read_rows == [
        (2, ["2", "金额不是数字; 日期不明确", "张伟", "abc", "2026-11-11 10:30:00"]),
        (3, ["5", "bad", '\'=HYPERLINK("x")', "-12.5", "+86 138 0013 8000"]),
        (4, ["6", "stray", "'@cmd", "", "0.1", "extra"]),
    ]


def test_write_rejects_to_a_text_stream():
    buffer = io.StringIO(newline="")
    write_rejects(buffer, ["a"], [(3, "bad", ["x"])])
    assert list(csv.reader(io.StringIO(buffer.getvalue().lstrip("\ufeff")))) == [
        ["row", "errors", "a"],
        ["3", "bad", "x"],
    ]
