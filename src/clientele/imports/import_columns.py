"""A file's columns against an import schema: matching headers to fields, the problems
that keep a file from being imported (unknown, missing or doubled columns), and the
mapping a job stores."""

from __future__ import annotations

from django.utils.translation import gettext

from . import import_engine as engine
from .headers import HeaderMatch, header_key, match_headers
from .readers import TableError
from .schemas import REJECT_COLUMNS, schema_for

_REJECT_KEYS = {header_key(name) for name in REJECT_COLUMNS}


def file_error(exc: TableError) -> str:
    """A file-level problem in the active language."""
    return engine.translate(exc.template, **exc.params)


def match_columns(kind: str, headers: list[str], mapping: dict | None = None) -> HeaderMatch:
    """Match a file's headers to the kind's fields. The columns a rejected-rows file adds
    ("row", "errors") are ignored, so a corrected file goes back in without mapping."""
    chosen = dict(mapping or {})
    for header in headers:
        name = str(header).strip()
        if name not in chosen and header_key(name) in _REJECT_KEYS:
            chosen[name] = None
    return match_headers(headers, schema_for(kind).fields, chosen)


def column_problems(kind: str, match: HeaderMatch) -> list[str]:
    """What keeps a file's columns from being imported: unknown, missing or doubled."""
    fields = schema_for(kind).by_name
    problems = [
        gettext('Column "%(column)s" is not recognised: map it to a field or ignore it.')
        % {"column": column}
        for column in match.unmatched
    ]
    problems += [
        gettext(
            'The required column "%(field)s" is missing (for example "%(header)s" or "%(zh)s").'
        )
        % {"field": fields[name].label, "header": fields[name].header, "zh": fields[name].header_zh}
        for name in match.missing
    ]
    problems += [
        gettext('Columns %(columns)s all match "%(field)s": map one of them, ignore the others.')
        % {"columns": ", ".join(f'"{c}"' for c in columns), "field": fields[name].label}
        for name, columns in match.conflicts.items()
    ]
    return problems


def check_mapping(kind: str, mapping: dict | None) -> None:
    """Raise ValueError if a mapping names a field the kind does not have."""
    fields = schema_for(kind).by_name
    unknown = sorted({str(v) for v in (mapping or {}).values() if v} - set(fields))
    if unknown:
        raise ValueError(
            gettext("Unknown fields: %(unknown)s. The fields are: %(fields)s.")
            % {"unknown": ", ".join(unknown), "fields": ", ".join(fields)}
        )


def full_mapping(headers: list[str], match: HeaderMatch) -> dict[str, str | None]:
    """The mapping a job stores: each matched header -> its field, each ignored header ->
    None. Unmatched headers stay out, so they still ask for a decision."""
    mapping: dict[str, str | None] = {str(h).strip(): None for h in match.ignored}
    for index, name in match.mapping.items():
        mapping[str(headers[index]).strip()] = name
    return mapping
