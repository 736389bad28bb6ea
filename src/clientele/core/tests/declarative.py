"""Declarative per-model tests, in the manner of NetBox's ViewTestCases.

A model's page tests are a class that names the model, who may do what (`grants`), how to
make a record on team A's or team B's side, and the form data; the mixins below generate
the list / detail / add / edit / delete / CSV / XLSX export / search / sort tests, each for
every role, checking the no-permission (403), the permission (it worked, the record shows,
and for audited models a change record names the user) and the out-of-scope (404, absent
from lists and exports) cases. The expected grants are written out here, not read from
the role matrix, so a change to the matrix that breaks the promise made to users fails.
ModelApiTests does the same for a model's REST endpoint.

    class TestTagViews(ModelViewTests):
        model = Tag
        grants = CUSTOMER_SETTINGS
        def make(self, world, side="a"): return Tag.objects.create(name=f"t-{side}")
        def form_data(self, world): return {"name": "vip"}
        ...
"""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from clientele.core.models import AuditEntry

# The roles a page is tested for. The second account manager (team B) appears as the owner
# of the out-of-scope records instead.
ROLES = ("administrator", "marketing_manager", "account_manager", "service_agent", "analyst")

# letters: v view, a add, c change, d delete, x export
CUSTOMER_DATA = {
    "administrator": "vacdx",
    "marketing_manager": "vacdx",
    "account_manager": "vacx",
    "service_agent": "v",
    "analyst": "vx",
}
# What a service agent records while talking to customers.
SERVICE_RECORDS = CUSTOMER_DATA | {"service_agent": "vac"}
# Definitions shared by everyone (tags, custom fields): only managers change them.
CUSTOMER_SETTINGS = CUSTOMER_DATA | {"account_manager": "v"}
CATALOG = CUSTOMER_DATA | {"account_manager": "vx"}
ORDERS = CUSTOMER_DATA
USERS = {
    "administrator": "vacdx",
    "marketing_manager": "v",
    "account_manager": "",
    "service_agent": "",
    "analyst": "v",
}
TEAMS = USERS | {"account_manager": "v"}
AUDIT = {
    "administrator": "vx",
    "marketing_manager": "",
    "account_manager": "",
    "service_agent": "",
    "analyst": "",
}


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff"), "CSV must start with a BOM so Excel reads UTF-8"
    return list(csv.reader(io.StringIO(body[1:])))


def xlsx_rows(response) -> list[list[str]]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    sheet = workbook.worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def export_rows(response, fmt: str) -> list[list[str]]:
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and disposition.endswith(f'.{fmt}"')
    if fmt == "csv":
        assert response["Content-Type"].startswith("text/csv")
        return csv_rows(response)
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return xlsx_rows(response)


def link(obj) -> str:
    """How a record's link looks in a list page."""
    return f'href="{obj.get_absolute_url()}"'


class ModelViewTests:
    """Generated page tests for one model. Subclasses (named Test...) declare:

    model, grants ({role: letters}), actions (which pages exist), scoped (account managers
    see only their team's records), make(world, side) -> a new record on side "a" (team A)
    or "b" (team B), form_data(world) -> POST data for the add page, edit_data(world, obj)
    -> POST data for the edit page, edited(obj) -> whether that edit is in the database,
    export_text(obj) -> a cell value that identifies the record in an export, and
    search_text(obj) -> a term the list's search box finds it by. A model without add, edit
    or delete pages lists its `actions` and sets the missing tests to None.
    """

    model = None
    grants: dict[str, str] = {}
    actions = ("list", "detail", "add", "edit", "delete")
    scoped = False

    # --- declarations ------------------------------------------------------------
    def make(self, world, side="a"):
        raise NotImplementedError

    def existing(self, world, side="a"):
        """A record from the world fixture (defaults to a new one)."""
        return self.make(world, side)

    def form_data(self, world) -> dict:
        raise NotImplementedError

    def edit_data(self, world, obj) -> dict:
        raise NotImplementedError

    def edited(self, obj) -> bool:
        raise NotImplementedError

    def export_text(self, obj) -> str:
        return str(obj)

    def search_text(self, obj) -> str:
        return str(obj)

    # --- helpers -----------------------------------------------------------------
    def url(self, action, obj=None):
        meta = self.model._meta
        args = [obj.pk] if obj is not None else []
        return reverse(f"{meta.app_label}:{meta.model_name}_{action}", args=args)

    def may(self, role, letter) -> bool:
        return letter in self.grants[role]

    def out_of_scope(self, role) -> bool:
        return self.scoped and role == "account_manager"

    def assert_recorded(self, obj_id, action, user):
        """Audited models (customers, contacts, consents, orders) write a change record."""
        if getattr(self.model, "audited", False):
            label = self.model._meta.label_lower
            entries = AuditEntry.objects.filter(object_type=label, object_id=obj_id)
            assert entries.filter(action=action, user=user).exists(), (action, list(entries))

    # --- generated tests ---------------------------------------------------------
    def test_anonymous_is_sent_to_login(self, client, world):
        obj = self.existing(world)
        for action in self.actions:
            url = self.url(action, obj if action in ("detail", "edit", "delete") else None)
            response = client.get(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("login") + "?next="), url
        if "add" in self.actions:
            count = self.model._default_manager.count()
            response = client.post(self.url("add"), self.form_data(world))
            assert response.status_code == 302
            assert self.model._default_manager.count() == count

    @pytest.mark.parametrize("role", ROLES)
    def test_list(self, role, world, client_for):
        mine = self.existing(world, "a")
        response = client_for(role).get(self.url("list"))
        if not self.may(role, "v"):
            assert response.status_code == 403
            return
        assert response.status_code == 200
        html = response.content.decode()
        assert link(mine) in html
        if self.scoped:
            other = self.existing(world, "b")
            assert (link(other) in html) is not self.out_of_scope(role)

    @pytest.mark.parametrize("role", ROLES)
    def test_detail(self, role, world, client_for):
        mine = self.existing(world, "a")
        client = client_for(role)
        response = client.get(self.url("detail", mine))
        if not self.may(role, "v"):
            assert response.status_code == 403
            return
        assert response.status_code == 200
        assert response.context["object"] == mine
        if self.scoped:
            other = self.existing(world, "b")
            response = client.get(self.url("detail", other))
            assert response.status_code == (404 if self.out_of_scope(role) else 200)

    @pytest.mark.parametrize("role", ROLES)
    def test_add(self, role, world, client_for):
        client = client_for(role)
        count = self.model._default_manager.count()
        page = client.get(self.url("add"))
        response = client.post(self.url("add"), self.form_data(world))
        if not self.may(role, "a"):
            assert page.status_code == 403
            assert response.status_code == 403
            assert self.model._default_manager.count() == count
            return
        assert page.status_code == 200
        errors = response.context["form"].errors if response.context else None
        assert response.status_code == 302, errors
        assert self.model._default_manager.count() == count + 1
        created = self.model._default_manager.order_by("-pk").first()
        assert response["Location"] == created.get_absolute_url()
        self.assert_recorded(created.pk, "create", world.users[role])

    @pytest.mark.parametrize("role", ROLES)
    def test_edit(self, role, world, client_for):
        client = client_for(role)
        mine = self.existing(world, "a")
        page = client.get(self.url("edit", mine))
        response = client.post(self.url("edit", mine), self.edit_data(world, mine))
        mine.refresh_from_db()
        if not self.may(role, "c"):
            assert page.status_code == 403
            assert response.status_code == 403
            assert not self.edited(mine)
            return
        assert page.status_code == 200
        errors = response.context["form"].errors if response.context else None
        assert response.status_code == 302, errors
        assert self.edited(mine)
        self.assert_recorded(mine.pk, "update", world.users[role])
        if self.scoped:
            other = self.existing(world, "b")
            response = client.post(self.url("edit", other), self.edit_data(world, other))
            other.refresh_from_db()
            if self.out_of_scope(role):
                assert response.status_code == 404
                assert not self.edited(other)
            else:
                assert response.status_code == 302

    @pytest.mark.parametrize("role", ROLES)
    def test_delete(self, role, world, client_for):
        client = client_for(role)
        victim = self.make(world, "a")
        page = client.get(self.url("delete", victim))
        response = client.post(self.url("delete", victim))
        exists = self.model._default_manager.filter(pk=victim.pk).exists()
        if not self.may(role, "d"):
            assert page.status_code == 403
            assert response.status_code == 403
            assert exists
            return
        assert page.status_code == 200
        assert response.status_code == 302
        assert response["Location"] == self.url("list")
        assert not exists
        self.assert_recorded(victim.pk, "delete", world.users[role])

    @pytest.mark.parametrize("role", ROLES)
    def test_export(self, role, world, client_for):
        client = client_for(role)
        mine = self.existing(world, "a")
        other = self.existing(world, "b") if self.scoped else None
        for fmt in ("csv", "xlsx"):
            response = client.get(self.url("list"), {"export": fmt})
            if not (self.may(role, "v") and self.may(role, "x")):
                assert response.status_code == 403
                continue
            rows = export_rows(response, fmt)
            header, body = rows[0], rows[1:]
            assert len(header) >= 2 and all(header), header
            cells = {cell for row in body for cell in row}
            assert self.export_text(mine) in cells, (fmt, body)
            assert not any("<a " in cell for cell in cells), "exports hold text, not HTML"
            if other is not None:
                assert (self.export_text(other) in cells) is not self.out_of_scope(role), fmt

    def test_search_finds_the_record_and_not_others(self, world, client_for):
        mine = self.existing(world, "a")
        other = self.existing(world, "b")
        client = client_for("administrator")
        response = client.get(self.url("list"), {"q": self.search_text(mine)})
        assert response.status_code == 200
        html = response.content.decode()
        assert link(mine) in html
        assert link(other) not in html

    def test_every_column_sorts(self, world, client_for):
        self.existing(world, "a")
        self.existing(world, "b")
        client = client_for("administrator")
        response = client.get(self.url("list"))
        table = response.context["table"]
        columns = [c.name for c in table.columns if c.orderable]
        assert columns
        for name in columns:
            for key in (name, f"-{name}"):
                response = client.get(self.url("list"), {"sort": key})
                assert response.status_code == 200, key
                ordered = response.context["table"].order_by
                assert tuple(ordered) == (key,), key


class ModelApiTests:
    """Generated API tests for one model's endpoint. Subclasses declare: endpoint (e.g.
    "/api/customers/"), grants, scoped, make(world, side), existing(world, side),
    payload(world) -> JSON for a create, patch -> JSON for a partial update, and
    patched(obj) -> whether that update is in the database."""

    endpoint = ""
    model = None
    grants: dict[str, str] = {}
    scoped = False
    patch: dict = {}

    def make(self, world, side="a"):
        raise NotImplementedError

    def existing(self, world, side="a"):
        return self.make(world, side)

    def payload(self, world) -> dict:
        raise NotImplementedError

    def patched(self, obj) -> bool:
        raise NotImplementedError

    def may(self, role, letter) -> bool:
        return letter in self.grants[role]

    def out_of_scope(self, role) -> bool:
        return self.scoped and role == "account_manager"

    def detail(self, obj):
        return f"{self.endpoint}{obj.pk}/"

    def test_anonymous_gets_401(self, world):
        from rest_framework.test import APIClient

        client = APIClient()
        obj = self.existing(world)
        count = self.model._default_manager.count()
        assert client.get(self.endpoint).status_code == 401
        assert client.get(self.detail(obj)).status_code == 401
        assert client.post(self.endpoint, self.payload(world), format="json").status_code == 401
        assert client.patch(self.detail(obj), self.patch, format="json").status_code == 401
        assert client.delete(self.detail(obj)).status_code == 401
        assert self.model._default_manager.count() == count

    @pytest.mark.parametrize("role", ROLES)
    def test_list(self, role, world, api_client_for):
        mine = self.existing(world, "a")
        response = api_client_for(role).get(self.endpoint, {"page_size": 1000})
        if not self.may(role, "v"):
            assert response.status_code == 403
            return
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert mine.pk in ids
        if self.scoped:
            other = self.existing(world, "b")
            assert (other.pk in ids) is not self.out_of_scope(role)

    @pytest.mark.parametrize("role", ROLES)
    def test_retrieve(self, role, world, api_client_for):
        client = api_client_for(role)
        mine = self.existing(world, "a")
        response = client.get(self.detail(mine))
        if not self.may(role, "v"):
            assert response.status_code == 403
            return
        assert response.status_code == 200
        assert response.json()["id"] == mine.pk
        if self.scoped:
            other = self.existing(world, "b")
            response = client.get(self.detail(other))
            assert response.status_code == (404 if self.out_of_scope(role) else 200)

    @pytest.mark.parametrize("role", ROLES)
    def test_create(self, role, world, api_client_for):
        count = self.model._default_manager.count()
        response = api_client_for(role).post(self.endpoint, self.payload(world), format="json")
        if not self.may(role, "a"):
            assert response.status_code == 403
            assert self.model._default_manager.count() == count
            return
        assert response.status_code == 201, response.json()
        assert self.model._default_manager.count() == count + 1
        assert self.model._default_manager.filter(pk=response.json()["id"]).exists()

    @pytest.mark.parametrize("role", ROLES)
    def test_update(self, role, world, api_client_for):
        client = api_client_for(role)
        mine = self.existing(world, "a")
        response = client.patch(self.detail(mine), self.patch, format="json")
        mine.refresh_from_db()
        if not self.may(role, "c"):
            assert response.status_code == 403
            assert not self.patched(mine)
            return
        assert response.status_code == 200, response.json()
        assert self.patched(mine)
        if self.out_of_scope(role):
            other = self.existing(world, "b")
            response = client.patch(self.detail(other), self.patch, format="json")
            other.refresh_from_db()
            assert response.status_code == 404
            assert not self.patched(other)

    @pytest.mark.parametrize("role", ROLES)
    def test_delete(self, role, world, api_client_for):
        victim = self.make(world, "a")
        response = api_client_for(role).delete(self.detail(victim))
        exists = self.model._default_manager.filter(pk=victim.pk).exists()
        if not self.may(role, "d"):
            assert response.status_code == 403
            assert exists
            return
        assert response.status_code == 204
        assert not exists
