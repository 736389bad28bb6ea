"""The imports API: multipart upload that creates and runs a job, the mapping step, the
rejected rows, and the same permissions as the pages."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from clientele.core.models import Role
from clientele.customers.models import Customer
from clientele.imports.models import ImportJob

from .conftest import csv_bytes, yesterday

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def post(client, rows, kind="customers", **extra):
    data = {"kind": kind, "file": SimpleUploadedFile("upload.csv", csv_bytes(rows)), **extra}
    return client.post("/api/imports/", data, format="multipart")


def test_upload_creates_and_runs_a_job(manager):
    client = api(manager)
    response = post(client, [["客户编号", "姓名"], ["A1", "甲"], ["A2", "乙"]])
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["created_rows"], body["percent"]) == ("succeeded", 2, 100)
    assert body["created_by"] == "manager"
    listed = client.get("/api/imports/").json()
    assert [job["id"] for job in listed["results"]] == [body["id"]]


def test_bad_rows_come_back_as_errors_and_a_file(manager, customers, products):
    client = api(manager)
    rows = [["订单号", "客户编号", "下单时间", "商品编码", "数量", "单价"]]
    rows += [["SO1", "C001", yesterday(), "SKU1", "-1", "10"]]
    body = post(client, rows, kind="orders", mode="valid").json()
    assert body["status"] == "rejected"
    assert body["errors"] == [
        {"row": 2, "column": "数量", "reason": '"-1" must be greater than zero.'}
    ]
    download = client.get(body["rejects_url"])
    assert download.status_code == 200
    assert "SO1" in b"".join(download.streaming_content).decode("utf-8-sig")


def test_a_file_with_unknown_columns_waits_for_the_mapping(manager):
    client = api(manager)
    body = post(client, [["Kunden-Nr", "Name"], ["K1", "Lee"]]).json()
    assert body["status"] == "mapping"
    url = f"/api/imports/{body['id']}/mapping/"
    refused = client.post(url, {"mapping": {"Kunden-Nr": None}}, format="json")
    assert refused.status_code == 400
    assert any("Customer code" in e for e in refused.json()["errors"]["mapping"])
    done = client.post(url, {"mapping": {"Kunden-Nr": "code"}}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "succeeded"
    assert Customer.objects.get(code="K1").name == "Lee"


def test_a_mapping_given_with_the_upload(manager):
    client = api(manager)
    body = post(client, [["Kunden-Nr", "Name"], ["K1", "Lee"]], mapping='{"Kunden-Nr": "code"}')
    assert body.json()["status"] == "succeeded"


def test_an_unreadable_file_is_a_400_naming_the_file(manager):
    client = api(manager)
    response = post(client, [["code", "name"]], kind="customers")
    assert response.status_code == 201 and response.json()["status"] == "rejected"
    empty = client.post(
        "/api/imports/",
        {"kind": "customers", "file": SimpleUploadedFile("x.csv", b"")},
        format="multipart",
    )
    assert empty.status_code == 400 and "file" in empty.json()["errors"]


@pytest.mark.parametrize("role", [Role.ACCOUNT_MANAGER, Role.ANALYST])
def test_roles_that_may_not_import_get_403(make_user, role):
    response = post(api(make_user(role)), [["code", "name"], ["C1", "A"]])
    assert response.status_code == 403
    assert not ImportJob.objects.exists() and not Customer.objects.exists()


def test_users_list_only_their_own_jobs(make_user, manager):
    owner = make_user(Role.ACCOUNT_MANAGER, "am1")
    ImportJob.objects.create(kind="customers", original_name="mine.csv", created_by=owner)
    ImportJob.objects.create(kind="customers", original_name="theirs.csv", created_by=manager)
    names = [j["original_name"] for j in api(owner).get("/api/imports/").json()["results"]]
    assert names == ["mine.csv"]
    names = [j["original_name"] for j in api(manager).get("/api/imports/").json()["results"]]
    assert sorted(names) == ["mine.csv", "theirs.csv"]
