"""The import pages: upload, mapping step, detail with errors and the rejected-rows
download, the progress fragment, and who may do what (account managers and analysts may
not import; users see their own jobs, administrators and marketing managers all)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from clientele.core.models import Role
from clientele.customers.models import Customer
from clientele.imports.models import ImportJob

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

ADD = reverse("imports:importjob_add")
LIST = reverse("imports:importjob_list")


def upload(client, rows, kind="customers", mode="all", name="members.csv"):
    data = {"kind": kind, "mode": mode, "source": "import"}
    data["file"] = SimpleUploadedFile(name, csv_bytes(rows))
    return client.post(ADD, data)


def test_the_upload_page_offers_only_importable_kinds(client, manager):
    client.force_login(manager)
    page = client.get(ADD)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="import-form"' in html and 'enctype="multipart/form-data"' in html
    assert 'value="orders"' in html and 'value="customers"' in html


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ACCOUNT_MANAGER, Role.SERVICE_AGENT])
def test_roles_without_import_permission_get_403(client, make_user, role):
    user = make_user(role)
    client.force_login(user)
    assert client.get(ADD).status_code == 403
    response = upload(client, [["code", "name"], ["C1", "A"]])
    assert response.status_code == 403
    assert not Customer.objects.exists() and not ImportJob.objects.exists()


def test_a_file_whose_columns_all_match_is_imported_at_once(client, manager):
    client.force_login(manager)
    response = upload(client, [["客户编号", "姓名"], ["C1", "张三"]])
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    assert job.status == "succeeded" and job.created_by == manager
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="import-status"' in page and 'data-status="succeeded"' in page
    assert 'class="progress"' in page
    assert Customer.objects.get(code="C1").name == "张三"


def test_errors_and_the_rejected_rows_are_on_the_detail_page(client, manager):
    client.force_login(manager)
    upload(client, [["code", "name"], ["C1", "A"], ["C2", "x" * 250]])
    job = ImportJob.objects.get()
    assert job.status == "rejected"
    page = client.get(job.get_absolute_url()).content.decode()
    assert 'data-testid="import-errors"' in page and 'data-testid="import-rejects"' in page
    assert "250" in page
    download = client.get(reverse("imports:importjob_rejects", args=[job.pk]))
    assert download.status_code == 200
    assert 'filename="members-rejected.csv"' in download["Content-Disposition"]
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert text.splitlines()[0] == "row,errors,code,name"
    assert text.splitlines()[1].startswith("3,")


def test_the_mapping_step_maps_an_unmatched_column_by_hand(client, manager):
    client.force_login(manager)
    response = upload(client, [["Kunden-Nr", "姓名", "会员等级"], ["K1", "李雷", "金卡"]])
    job = ImportJob.objects.get()
    mapping_url = reverse("imports:importjob_mapping", args=[job.pk])
    assert job.status == "mapping" and response["Location"] == mapping_url
    page = client.get(mapping_url).content.decode()
    assert 'data-testid="mapping-form"' in page and "Kunden-Nr" in page and "K1" in page
    # Leaving the required code unmapped is refused, naming the field.
    refused = client.post(mapping_url, {"column_0": "", "column_1": "name", "column_2": ""})
    assert refused.status_code == 400 and "客户编号" in refused.content.decode()
    done = client.post(mapping_url, {"column_0": "code", "column_1": "name", "column_2": ""})
    assert done.status_code == 302
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.mapping == {"Kunden-Nr": "code", "姓名": "name", "会员等级": None}
    assert Customer.objects.get(code="K1").name == "李雷"


def test_the_progress_fragment_reloads_the_page_when_done(client, manager):
    client.force_login(manager)
    upload(client, [["code", "name"], ["C1", "A"]])
    job = ImportJob.objects.get()
    url = reverse("imports:importjob_progress", args=[job.pk])
    fragment = client.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and fragment["HX-Refresh"] == "true"
    assert 'data-testid="import-progress"' in fragment.content.decode()
    job.status = "running"
    job.total_rows, job.processed_rows, job.written_rows = 10, 5, 0
    job.finished_at = None
    job.save()
    running = client.get(url, headers={"HX-Request": "true"})
    assert "HX-Refresh" not in running
    assert 'hx-trigger="every 1s"' in running.content.decode()
    assert 'aria-valuenow="25"' in running.content.decode()


def test_users_see_their_own_jobs_and_managers_see_all(client, make_user, manager):
    owner = make_user(Role.ACCOUNT_MANAGER, "am1")
    other = make_user(Role.ACCOUNT_MANAGER, "am2")
    mine = ImportJob.objects.create(kind="customers", original_name="mine.csv", created_by=owner)
    theirs = ImportJob.objects.create(
        kind="customers", original_name="theirs.csv", created_by=other
    )
    client.force_login(owner)
    listing = client.get(LIST).content.decode()
    assert "mine.csv" in listing and "theirs.csv" not in listing
    assert 'data-testid="new-import"' not in listing
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.get(reverse("imports:importjob_rejects", args=[theirs.pk])).status_code == 404
    assert client.get(mine.get_absolute_url()).status_code == 200
    client.force_login(manager)
    listing = client.get(LIST).content.decode()
    assert "mine.csv" in listing and "theirs.csv" in listing
    assert 'data-testid="new-import"' in listing


def test_analysts_do_not_see_imports(client, make_user):
    client.force_login(make_user(Role.ANALYST))
    assert client.get(LIST).status_code == 403


def test_an_unreadable_upload_is_reported_on_the_form(client, manager):
    client.force_login(manager)
    response = client.post(
        ADD,
        {
            "kind": "customers",
            "mode": "all",
            "file": SimpleUploadedFile("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64),
        },
    )
    assert response.status_code == 400
    assert ".xlsx" in response.content.decode()
    assert not ImportJob.objects.exists()
