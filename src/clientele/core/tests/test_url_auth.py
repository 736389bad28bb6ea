"""Every URL the project routes requires a signed-in user, so a view added tomorrow cannot
forget it: pages send the anonymous visitor to the sign-in page, the API answers 401.

The URL list is read from Django's resolver, not written here; only the sign-in endpoints
themselves are exempt."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse

# Endpoints whose job is to sign in or out, and the two that outsiders must reach and
# that carry their own proof instead: the unsubscribe link (a signed token, tested in
# channels/tests/test_views.py) and the SMS provider's delivery receipts (HMAC-signed).
PUBLIC = {"login", "logout", "api-token", "unsubscribe", "receipts"}

_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")
_CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _example(pattern) -> str:
    """A concrete path for one route or regex fragment, with 1 for every parameter."""
    text = str(pattern)
    text = _GROUP.sub(lambda m: "json" if m.group(1) == "format" else "1", text)
    text = _CONVERTER.sub(lambda m: ".json" if m.group(1) == "drf_format_suffix" else "1", text)
    text = text.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
    return text


def _walk(patterns, prefix=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, prefix + _example(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield entry.name, "/" + prefix + _example(entry.pattern)


def all_urls() -> list[tuple[str, str]]:
    seen, result = set(), []
    for name, path in _walk(get_resolver().url_patterns):
        if name in PUBLIC or path in seen:
            continue
        seen.add(path)
        result.append((name, path))
    return result


def test_the_url_list_covers_every_app():
    paths = [path for _, path in all_urls()]
    for expected in (
        "/",
        "/customers/customers/",
        "/customers/customers/1/edit/",
        "/catalog/products/1/delete/",
        "/sales/orders/add/",
        "/admin/users/",
        "/admin/audit/1/",
        "/language/",
        "/api/interactions/bulk/",
        "/api/orders/1/",
        "/api/schema/",
        "/api/docs/",
    ):
        assert expected in paths, expected
    assert len(paths) > 60


@pytest.mark.parametrize(("name", "path"), all_urls(), ids=[p for _, p in all_urls()])
def test_every_url_requires_sign_in(db, client, name, path):
    match = resolve(path)
    assert match.url_name == name, f"{path} resolves to {match.url_name}, not {name}"
    for method in ("get", "post"):
        if path.startswith("/api/"):
            response = getattr(client, method)(path)
            assert response.status_code == 401, (method, path, response.status_code)
            continue
        # A page may first redirect elsewhere (an index to its list), but the visitor must
        # end up on the sign-in page, never on content.
        response = getattr(client, method)(path, follow=True)
        assert response.redirect_chain, (method, path, response.status_code)
        last = response.redirect_chain[-1][0]
        assert last.startswith(reverse("login") + "?next="), (method, path, last)
        assert response.status_code == 200 and response.wsgi_request.path == reverse("login")


def test_sign_in_page_itself_is_public(db, client):
    assert client.get(reverse("login")).status_code == 200
