"""Matching a file's column headers to import fields by name and aliases (English and Chinese).

Headers and aliases are compared by `header_key`: NFKC-normalised (full-width and half-width
forms alike), case-folded, without whitespace, underscores, hyphens or the "*" that templates
put on required columns, so "Customer Code", "customer_code", "ＣＵＳＴＯＭＥＲ－ＣＯＤＥ" and
"*客户编号" all find their field. The user's explicit mapping always wins.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_IGNORED = re.compile(r"[\s_\-*]+")


def header_key(text: str) -> str:
    """The comparison key of a header or alias ("Customer_Code " -> "customercode")."""
    return _IGNORED.sub("", unicodedata.normalize("NFKC", str(text)).casefold())


@dataclass
class HeaderMatch:
    """The outcome of `match_headers`.

    `mapping` maps 0-based column indexes (positions in a row's cells) to field names.
    `unmatched` lists named headers that found no field, `ignored` those the user mapped to
    None, `missing` the required fields without a column, and `conflicts` each field claimed
    by several columns (field name -> their headers; none of them is mapped).
    """

    mapping: dict[int, str]
    unmatched: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    conflicts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every required field has exactly one column."""
        return not self.missing and not self.conflicts


def _spec(item: Any) -> tuple[str, list[str], bool]:
    """(name, aliases, required) of a field given as a mapping or as an object."""
    get = (
        item.get if isinstance(item, Mapping) else lambda key, default: getattr(item, key, default)
    )
    name = get("name", None)
    if not name:
        raise ValueError(f"field without a name: {item!r}")
    return str(name), list(get("aliases", ()) or ()), bool(get("required", False))


def match_headers(
    file_headers: Sequence[str],
    fields: Iterable[Any],
    user_mapping: Mapping[str, str | None] | None = None,
) -> HeaderMatch:
    """Match `file_headers` to `fields` and report what is left over.

    Each field is a dict or object with ``name``, ``aliases`` (list of str) and optionally
    ``required`` (default False); its name counts as an alias. `user_mapping` maps a header
    as written in the file (surrounding spaces ignored) to a field name, or to None to skip
    the column; mapped headers bypass automatic matching, and a field the user mapped is not
    matched automatically to another column. Headers in `user_mapping` that the file lacks
    are ignored (a mapping saved from an earlier file may name more columns).
    Raises ValueError when two fields share an alias or the user maps to an unknown field;
    both are programming errors, not problems with the file.
    """
    specs = [_spec(item) for item in fields]
    index: dict[str, str] = {}
    for name, aliases, _required in specs:
        for alias in (name, *aliases):
            owner = index.setdefault(header_key(alias), name)
            if owner != name:
                raise ValueError(f"alias {alias!r} belongs to both {owner!r} and {name!r}")
    names = {name for name, _aliases, _required in specs}
    chosen = {str(header).strip(): target for header, target in (user_mapping or {}).items()}
    unknown = {target for target in chosen.values() if target is not None} - names
    if unknown:
        raise ValueError(f"user mapping names unknown fields: {sorted(unknown)}")

    result = HeaderMatch(mapping={})
    claims: dict[str, list[int]] = {}
    automatic = []
    for column, raw in enumerate(file_headers):
        header = str(raw).strip()
        if header in chosen:
            if chosen[header] is None:
                result.ignored.append(header)
            else:
                claims.setdefault(chosen[header], []).append(column)
        elif header:  # an unnamed column has nothing to match or to show
            automatic.append(column)
    by_user = set(claims)
    for column in automatic:
        target = index.get(header_key(file_headers[column]))
        if target is None or target in by_user:
            result.unmatched.append(str(file_headers[column]).strip())
        else:
            claims.setdefault(target, []).append(column)

    for target, columns in claims.items():
        if len(columns) == 1:
            result.mapping[columns[0]] = target
        else:
            result.conflicts[target] = [str(file_headers[c]).strip() for c in columns]
    result.mapping = dict(sorted(result.mapping.items()))
    result.missing = [name for name, _aliases, required in specs if required and name not in claims]
    return result
