"""Streaming readers for uploaded spreadsheets: CSV (any delimiter, UTF-8 or GB18030) and XLSX.

`open_table` gives a `Table`: the stripped header names and a single-pass iterator of
``(row_number, cells)``. Nothing is read whole, so a 1,000,000-row file uses flat memory.

Row numbers are what the user sees when the file is opened in Excel: the header is row 1
(or the first non-blank row), the first data row is 2, blank rows are skipped but still
counted. In a CSV a quoted cell may contain line breaks; Excel shows such a record as one
row, so row numbers count records, not physical lines.

Cells are not stripped (the parsers do that, and rejected rows are echoed back exactly).
CSV cells are str; XLSX cells keep their types: str, int, float, bool, datetime, date,
time, with empty cells as "". Rows shorter than the header are padded with "", and blank
cells past the last header are dropped, so ``len(cells) > len(headers)`` means stray
values beyond the header (often an unquoted comma) that the caller should reject.

Problems that stop the whole import raise `TableError`. Its English text is a template
in `MESSAGES`, marked with ``gettext_noop`` so Django's makemessages extracts it while this
module stays free of Django; the caller translates ``gettext(exc.template).format(**exc.params)``.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

import openpyxl
from openpyxl.utils import get_column_letter


def gettext_noop(message: str) -> str:
    """Return `message` unchanged; the name lets Django's makemessages extract it."""
    return message


MESSAGES = {
    "empty_file": gettext_noop("The file is empty."),
    "no_header": gettext_noop("The file has no header row."),
    "duplicate_header": gettext_noop(
        'The column name "{name}" is used twice (columns {first} and {second}).'
    ),
    "unknown_type": gettext_noop('Files of type "{ext}" cannot be imported: use .csv or .xlsx.'),
    "not_text": gettext_noop("The file is neither a CSV text file nor an .xlsx workbook."),
    "legacy_excel": gettext_noop(
        "This is an old .xls or password-protected workbook: save it as .xlsx"
        " without a password, or as CSV UTF-8."
    ),
    "corrupt_xlsx": gettext_noop("The workbook is damaged or is not a real .xlsx file."),
    "corrupt_xlsx_row": gettext_noop("Row {row}: the workbook is damaged from this row on."),
    "no_worksheet": gettext_noop("The workbook has no worksheet."),
    "sheet_not_found": gettext_noop(
        'The workbook has no sheet "{sheet}"; its sheets: {available}.'
    ),
    "unknown_encoding": gettext_noop(
        "The text encoding of the file was not recognised: save it as CSV UTF-8."
    ),
    "decode_error": gettext_noop(
        "Row {row}: the text is not valid {encoding} like the rest of the file;"
        " save the file as CSV UTF-8."
    ),
    "bad_quotes": gettext_noop(
        'Row {row}: the CSV cannot be read here; look for an unbalanced double quote (").'
    ),
    "line_too_long": gettext_noop(
        "Row {row}: a line is longer than {limit} characters; this is not a usable CSV file."
    ),
}

_BLOCK = 64 * 1024
_MAX_LINE = 4 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .xls, and encrypted .xlsx
# Some Chinese ERP and shop back-ends export tab-separated text named .xls, so a .xls that
# is not an OLE container is read as text.
_TEXT_EXTS = {".csv", ".tsv", ".txt", ".xls"}
_XLSX_EXTS = {".xlsx", ".xlsm"}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
_DELIMITERS = (",", "\t", ";")
_NEWLINE = re.compile(r"\r\n|\r|\n")
_FORMULA_SAFE = re.compile(r"[+-][\d\s().,+-]*")


class TableError(Exception):
    """A problem with the whole file; the import cannot go on.

    `code` keys `MESSAGES`, `template` is the English template, `params` fill it and
    `message` (also ``str(exc)``) is the English text. Row-level errors carry ``params["row"]``.
    """

    def __init__(self, code: str, **params: Any) -> None:
        self.code = code
        self.template = MESSAGES[code]
        self.params = params
        self.message = self.template.format(**params)
        super().__init__(self.message)


class _StreamProblem(Exception):
    """Raised by the line generator as (code, params); turned into a TableError naming the row."""


class Table:
    """An opened spreadsheet: `headers` and a single-pass iterator of ``(row_number, cells)``.

    Use it as a context manager (or call `close`) so the file is released. `kind` is "csv"
    or "xlsx"; `encoding` and `delimiter` tell what was detected for a CSV (None for XLSX);
    `header_row` is the row number of the header.
    """

    def __init__(
        self,
        headers: list[str],
        rows: Iterator[tuple[int, list[Any]]],
        *,
        kind: str,
        header_row: int,
        close: Callable[[], None],
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self.headers = headers
        self.kind = kind
        self.header_row = header_row
        self.encoding = encoding
        self.delimiter = delimiter
        self._rows = rows
        self._close = close

    def __iter__(self) -> Iterator[tuple[int, list[Any]]]:
        return self._rows

    def close(self) -> None:
        """Release the underlying file (and workbook); safe to call twice."""
        close, self._close = self._close, lambda: None
        close()

    def __enter__(self) -> Table:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def open_table(source, filename: str | None = None, *, sheet: str | None = None) -> Table:
    """Open a CSV or XLSX file and read its header row.

    `source` is a path or a binary file object, read from its current position.
    `filename` (else the path or the object's ``name``) gives the extension; the content's
    magic bytes win over it (a renamed workbook is still read as a workbook). `sheet` names an
    XLSX worksheet; by default the first visible one. Raises `TableError`.
    """
    if isinstance(source, str | os.PathLike):
        name = filename or os.fspath(source)
        raw: IO[bytes] = open(source, "rb")  # closed by Table.close
    else:
        name = filename or getattr(source, "name", None) or ""
        raw = source
        if not raw.seekable():
            # Detection reads ahead and rewinds; a spooled copy keeps memory flat.
            spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
            shutil.copyfileobj(raw, spool)
            spool.seek(0)
            raw = spool
    close = raw.close if raw is not source else (lambda: None)
    try:
        return _open(raw, str(name), sheet, close)
    except BaseException:
        close()
        raise


def _open(raw: IO[bytes], name: str, sheet: str | None, close) -> Table:
    ext = os.path.splitext(name)[1].lower()
    start = raw.tell()
    magic = raw.read(8)
    if isinstance(magic, str):
        raise TypeError("open_table needs a binary file object")
    raw.seek(start)
    if not magic:
        raise TableError("empty_file")
    if magic.startswith(_OLE_MAGIC):
        raise TableError("legacy_excel")
    if ext and ext not in _TEXT_EXTS | _XLSX_EXTS:
        raise TableError("unknown_type", ext=ext)
    if magic.startswith(_ZIP_MAGIC):
        return _open_xlsx(raw, sheet, close)
    if ext in _XLSX_EXTS:
        raise TableError("corrupt_xlsx")
    return _open_csv(raw, close)


def _open_csv(raw: IO[bytes], close) -> Table:
    start = raw.tell()
    first = raw.read(_BLOCK)
    label, codec, skip = next(
        ((lab, cod, len(bom)) for bom, lab, cod in _BOMS if first.startswith(bom)), (None, None, 0)
    )
    if codec is None:
        if b"\x00" in first:  # UTF-16 without a BOM, or a binary file
            raise TableError("not_text")
        label = codec = _detect_encoding(raw, first)
    raw.seek(start + skip)
    sample = codecs.decode(first[skip:], codec, "replace")
    delimiter = _sniff_delimiter(sample, complete=len(first) < _BLOCK)
    reader = csv.reader(_text_lines(raw, codec), delimiter=delimiter, strict=True)
    records = _csv_records(reader)
    headers, header_row = _read_header(records)
    return Table(
        headers,
        _data_rows(records, len(headers)),
        kind="csv",
        header_row=header_row,
        encoding=label,
        delimiter=delimiter,
        close=close,
    )


def _detect_encoding(raw: IO[bytes], block: bytes) -> str:
    """UTF-8 if the first non-ASCII block decodes as UTF-8, else GB18030 if it decodes so.

    An ASCII-only start cannot tell the encodings apart, so later blocks are scanned (the
    caller rewinds). Each later block starts on a character boundary because everything
    before it was ASCII; an incremental decoder tolerates a character cut at the block end.
    """
    while block.isascii():
        if len(block) < _BLOCK:
            return "utf-8"  # ASCII to the end: every candidate reads it the same
        block = raw.read(_BLOCK)
    final = len(block) < _BLOCK
    for encoding in ("utf-8", "gb18030"):
        try:
            text = codecs.getincrementaldecoder(encoding)().decode(block, final)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8" or _plausible_gb18030(text):
            return encoding
    raise TableError("unknown_encoding")


def _plausible_gb18030(text: str) -> bool:
    """False for Windows-1252 text that happens to decode as GB18030.

    There an accented letter and the ASCII letter after it ("Renée") pair up as a rare GBK
    character whose second byte is below 0x80; common Chinese characters (GB2312) have both
    bytes at 0xA1 or above. Reading such a file as Chinese would garble every name silently.
    """
    wide = [char.encode("gb18030") for char in text if not char.isascii()]
    ascii_trailed = sum(len(code) == 2 and code[1] < 0x80 for code in wide)
    return ascii_trailed * 2 <= len(wide)


def _sniff_delimiter(sample: str, *, complete: bool) -> str:
    """The candidate that splits the header into most columns, then most consistently.

    csv.Sniffer guesses letters and quote characters on real files; counting is sturdier.
    """
    lines = _NEWLINE.split(sample)
    if not complete and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut at the sample boundary
    best, best_score = ",", (0, 0.0)
    for delimiter in _DELIMITERS:
        try:
            records = [r for r in csv.reader(lines[:50], delimiter=delimiter) if any(r)]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        same = sum(len(r) == width for r in records) / len(records)
        if (same, width) > best_score:
            best, best_score = delimiter, (same, width)
    return best


def _text_lines(raw: IO[bytes], encoding: str) -> Iterator[str]:
    """Decode block by block and yield lines with their endings (\\r\\n, \\n or a lone \\r).

    On a decoding error the text before the bad bytes is still yielded, so the csv reader
    finishes the rows before it and the error names the right row.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    pending = ""
    while True:
        block = raw.read(_BLOCK)
        final = not block
        state = decoder.getstate()
        failed = False
        try:
            text = decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            # exc.object is the decoder's buffered bytes followed by this block.
            good = max(0, exc.start - (len(exc.object) - len(block)))
            decoder.setstate(state)
            text, failed = decoder.decode(block[:good], False), True
        pending += text
        start = 0
        for match in _NEWLINE.finditer(pending):
            if match.end() == len(pending) and match.group() == "\r" and not (final or failed):
                break  # a \r at the block end may be half of a \r\n
            yield pending[start : match.end()]
            start = match.end()
        pending = pending[start:]
        if failed:
            raise _StreamProblem("decode_error", {"encoding": encoding})
        if len(pending) > _MAX_LINE:
            raise _StreamProblem("line_too_long", {"limit": _MAX_LINE})
        if final:
            if pending:
                yield pending
            return


def _csv_records(reader) -> Iterator[tuple[int, list[Any]]]:
    """Number the records (header = 1) and turn stream and quoting errors into TableError."""
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except _StreamProblem as exc:
            code, params = exc.args
            raise TableError(code, row=row + 1, **params) from None
        except csv.Error as exc:  # unbalanced quotes, or a cell over csv.field_size_limit()
            raise TableError("bad_quotes", row=row + 1) from exc
        row += 1
        yield row, cells


def _open_xlsx(raw: IO[bytes], sheet: str | None, close) -> Table:
    # openpyxl reports damage as BadZipFile, KeyError, XML or value errors alike.
    try:
        workbook = openpyxl.load_workbook(raw, read_only=True, data_only=True)
    except Exception as exc:
        raise TableError("corrupt_xlsx") from exc

    def close_all() -> None:
        workbook.close()
        close()

    try:
        if sheet is None:
            if not workbook.worksheets:
                raise TableError("no_worksheet")
            # a hidden first sheet is usually a lookup list, not what the user means to import
            visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
            worksheet = (visible or workbook.worksheets)[0]
        else:
            names = [ws.title for ws in workbook.worksheets]
            if sheet not in names:
                raise TableError("sheet_not_found", sheet=sheet, available=", ".join(names))
            worksheet = workbook[sheet]
        # The stored dimension is often wrong (files from other tools); without it
        # openpyxl reads every row present.
        worksheet.reset_dimensions()
        records = _xlsx_records(worksheet)
        headers, header_row = _read_header(records)
    except BaseException:
        workbook.close()
        raise
    return Table(
        headers,
        _data_rows(records, len(headers)),
        kind="xlsx",
        header_row=header_row,
        close=close_all,
    )


def _xlsx_records(worksheet) -> Iterator[tuple[int, list[Any]]]:
    rows = worksheet.iter_rows(values_only=True)  # gaps come back as empty rows
    row = 0
    while True:
        try:
            values = next(rows)
        except StopIteration:
            return
        except Exception as exc:  # a damaged sheet stream fails in many ways
            raise TableError("corrupt_xlsx_row", row=row + 1) from exc
        row += 1
        yield row, ["" if value is None else value for value in values]


def _blank(value: Any) -> bool:
    return value == "" or (isinstance(value, str) and not value.strip())


def _read_header(records: Iterator[tuple[int, list[Any]]]) -> tuple[list[str], int]:
    """The first non-blank record, as stripped names without trailing blanks or duplicates."""
    header_row, cells = next(
        ((row, cells) for row, cells in records if not all(map(_blank, cells))), (0, [])
    )
    names = [str(cell).replace("\ufeff", "").strip() for cell in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise TableError("no_header")
    seen: dict[str, int] = {}
    for index, name in enumerate(names, start=1):
        if not name:
            continue  # an unnamed column is left for the header matcher to ignore
        first = seen.setdefault(name.casefold(), index)
        if first != index:
            raise TableError(
                "duplicate_header",
                name=name,
                first=get_column_letter(first),
                second=get_column_letter(index),
            )
    return names, header_row


def _data_rows(records, width: int) -> Iterator[tuple[int, list[Any]]]:
    for row, cells in records:
        if all(map(_blank, cells)):
            continue
        if len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        while len(cells) > width and _blank(cells[-1]):
            cells.pop()
        yield row, cells


def write_rejects(
    dest,
    headers: list[str],
    rows: Iterable[tuple[int, str | Iterable[str], list[Any]]],
    *,
    row_label: str = "row",
    errors_label: str = "errors",
) -> int:
    """Write rejected rows as CSV with leading "row" and "errors" columns; return the count.

    `rows` yields ``(row_number, errors, cells)``; `errors` is a str or several joined by
    "; ". `dest` is a path (written as UTF-8 with a BOM so Excel shows Chinese) or a text
    file object opened with ``newline=""``, which gets the BOM too. Cells starting like a
    formula get a leading quote so Excel does not execute them.
    """
    if isinstance(dest, str | os.PathLike):
        with open(dest, "w", encoding="utf-8", newline="") as handle:
            return write_rejects(
                handle, headers, rows, row_label=row_label, errors_label=errors_label
            )
    dest.write("\ufeff")
    writer = csv.writer(dest)
    writer.writerow([row_label, errors_label, *headers])
    count = 0
    for row, errors, cells in rows:
        text = errors if isinstance(errors, str) else "; ".join(errors)
        writer.writerow([row, _formula_safe(text), *(_reject_cell(c) for c in cells)])
        count += 1
    return count


def _reject_cell(value: Any) -> str:
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return _formula_safe("" if value is None else str(value))


def _formula_safe(text: str) -> str:
    # Excel runs cells starting = + - @ (and tab/CR) as formulas; signed numbers and phone
    # numbers such as "+86 138 0013 8000" cannot call functions and stay as they are.
    if text[:1] in ("=", "@", "\t", "\r") or (
        text[:1] in ("+", "-") and not _FORMULA_SAFE.fullmatch(text)
    ):
        return "'" + text
    return text
