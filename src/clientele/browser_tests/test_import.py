"""An import with a bad row, in a real browser: the whole file is refused, every bad row
is shown with its row, column and reason, and the rejected rows download as a file."""

import pytest

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GBK_CUSTOMERS = (
    "客户编号,姓名,手机,城市\n"
    "N001,陈静,13900000001,杭州\n"
    "N002,,13900000002,杭州\n"  # row 3: the name is missing
    "N003,周杰,not-a-phone,宁波\n"  # row 4: the phone is not a phone
).encode("gbk")


def test_import_with_errors_shows_each_row_and_returns_the_rejects(page, admin_user, tmp_path):
    from clientele.customers.models import Customer

    upload = tmp_path / "客户.csv"
    upload.write_bytes(GBK_CUSTOMERS)
    sign_in(page)
    page.goto(page.base_url + "/imports/jobs/add/")
    page.get_by_test_id("import-kind").select_option("customers")
    page.get_by_test_id("import-file").set_input_files(str(upload))
    page.get_by_test_id("import-submit").click()

    status = page.get_by_test_id("import-status")
    status.wait_for()
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=import-progress]')"
        " || document.querySelector('[data-testid=import-errors]')",
        timeout=30000,
    )
    page.reload()
    errors = page.get_by_test_id("import-errors").inner_text()
    assert "3" in errors and "4" in errors
    assert Customer.objects.filter(code__startswith="N").count() == 0  # all or nothing

    with page.expect_download() as download_info:
        page.get_by_test_id("import-rejects").click()
    rejected = download_info.value.path().read_bytes().decode("utf-8-sig")
    assert "N002" in rejected and "N003" in rejected
    assert "N001" not in rejected
