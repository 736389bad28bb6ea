"""Tests of header matching: aliases in both languages, width and case, the user's mapping."""

from dataclasses import dataclass, field

import pytest

from clientele.imports.headers import HeaderMatch, header_key, match_headers

FIELDS = [
    {
        "name": "code",
        "aliases": ["customer code", "customer_id", "客户编号", "客户代码"],
        "required": True,
    },
    {"name": "name", "aliases": ["customer name", "姓名", "客户名称"], "required": True},
    {"name": "phone", "aliases": ["mobile", "手机", "手机号"]},
    {"name": "email", "aliases": ["e-mail", "邮箱"]},
]


@dataclass
class Field:
    """A field given as an object, as import definitions may do."""

    name: str
    aliases: list[str] = field(default_factory=list)
    required: bool = False


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("Customer Code", "customercode"),
        (" customer_code ", "customercode"),
        ("CUSTOMER-CODE", "customercode"),
        ("ＣＵＳＴＯＭＥＲ－ＣＯＤＥ", "customercode"),
        ("Customer\nCode", "customercode"),
        ("*客户编号", "客户编号"),
        ("客户\u3000编号", "客户编号"),
        ("E-mail", "email"),
    ],
)
def test_header_key(header, key):
    assert header_key(header) == key


def test_matches_english_chinese_and_variants():
    headers = ["客户编号", "Customer Name", "MOBILE", "e_mail", "备注", ""]
    result = match_headers(headers, FIELDS)
    assert result == HeaderMatch(
        mapping={0: "code", 1: "name", 2: "phone", 3: "email"}, unmatched=["备注"]
    )
    assert result.ok


def test_canonical_names_and_full_width_headers_match():
    result = match_headers(["ＣＯＤＥ", "Name", "*手机号"], FIELDS)
    assert result.mapping == {0: "code", 1: "name", 2: "phone"}


def test_missing_required_fields():
    result = match_headers(["姓名", "邮箱"], FIELDS)
    assert result.mapping == {0: "name", 1: "email"}
    assert result.missing == ["code"]
    assert not result.ok


def test_two_columns_for_one_field_conflict_and_neither_is_mapped():
    result = match_headers(["客户编号", "Customer ID", "姓名"], FIELDS)
    assert result.mapping == {2: "name"}
    assert result.conflicts == {"code": ["客户编号", "Customer ID"]}
    assert result.missing == []  # the field has columns; the user must pick one
    assert not result.ok


def test_user_mapping_overrides_and_ignores():
    headers = ["编号", "客户编号", "姓名", "手机", "备注"]
    mapping = {"编号": "code", " 手机 ": None, "Not in this file": "email"}
    result = match_headers(headers, FIELDS, mapping)
    # "客户编号" would match code automatically, but the user chose "编号" for it
    assert result.mapping == {0: "code", 2: "name"}
    assert result.ignored == ["手机"]
    assert result.unmatched == ["客户编号", "备注"]
    assert result.ok


def test_user_mapping_can_create_a_conflict():
    result = match_headers(["a", "b"], FIELDS, {"a": "code", "b": "code"})
    assert result.conflicts == {"code": ["a", "b"]}
    assert result.missing == ["name"]


def test_fields_as_objects():
    fields = [Field("amount", ["金额", "Order Amount"], required=True), Field("note")]
    result = match_headers(["ORDER_AMOUNT", "Note"], fields)
    assert result.mapping == {0: "amount", 1: "note"}


def test_configuration_errors():
    with pytest.raises(ValueError, match="belongs to both"):
        match_headers(
            ["x"], [{"name": "a", "aliases": ["Mobile"]}, {"name": "b", "aliases": ["mobile"]}]
        )
    with pytest.raises(ValueError, match="unknown fields"):
        match_headers(["x"], FIELDS, {"x": "nope"})
    with pytest.raises(ValueError, match="without a name"):
        match_headers(["x"], [{"aliases": ["x"]}])
