"""The closed loop in a real browser: an account manager's call list shows the task; the
customer walks into a store, the clerk finds them by phone in the offer pop-up and
records the acceptance; the task is done everywhere, so the call list no longer shows it
and the pop-up shows no open task."""

import pytest

from .conftest import PASSWORD, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def campaign(shop):
    from clientele.campaigns.models import Campaign, Offer, Wave
    from clientele.campaigns.tasks import step
    from clientele.core.models import Role, User

    manager = User(username="am", role=Role.ACCOUNT_MANAGER)
    manager.set_password(PASSWORD)
    manager.save()
    wang = shop["wang"]
    wang.owner = manager
    wang.save()
    offer = Offer.objects.create(
        name="Towel club: prepay 100, get 150",
        script="Offer the towel club card.",
        channels=["call_list", "store"],
    )
    campaign = Campaign.objects.create(
        name="Towel buyers",
        segment={"field": "spend", "op": ">=", "value": 50},
        channels=["call_list", "store"],
        holdout_rate=0,
        status="active",
    )
    campaign.offers.add(offer)
    Wave.objects.create(
        campaign=campaign, number=1, day_offset=0, channel="call_list", template="Call {name}"
    )
    step(campaign)
    return campaign


def test_accepting_in_the_store_removes_the_task_from_the_call_list(browser, live_server, campaign):
    manager = browser.new_context(locale="en-US").new_page()
    manager.base_url = live_server.url
    sign_in(manager, "am")
    manager.goto(live_server.url + "/campaigns/call-list/")
    rows = manager.get_by_test_id("task-row")
    assert rows.count() == 1
    assert "王芳" in rows.first.inner_text()
    assert "Offer the towel club card." in rows.first.inner_text()

    clerk = browser.new_context(locale="en-US").new_page()
    clerk.base_url = live_server.url
    sign_in(clerk)
    clerk.goto(live_server.url + "/campaigns/offer-view/")
    clerk.fill("input[name=phone]", "13800000001")
    clerk.click("button:has-text('Find')")
    panel = clerk.get_by_test_id("offer-panel")
    assert "Towel club: prepay 100, get 150" in panel.get_by_test_id("offer").inner_text()
    clerk.click("button:has-text('Customer accepts')")
    clerk.get_by_test_id("no-open-tasks").wait_for()

    manager.reload()
    assert manager.get_by_test_id("task-row").count() == 0

    from clientele.campaigns.models import OfferAcceptance, Task

    task = Task.objects.get(campaign=campaign)
    assert (task.status, task.closed_via) == ("done", "store")
    assert OfferAcceptance.objects.filter(customer=task.customer).count() == 1
