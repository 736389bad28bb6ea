"""The account manager's call list (script, link to the 360 page, result form; a task
closed in any channel disappears), the task page's result form, and starting a campaign
from its page."""

from decimal import Decimal

import pytest
from django.urls import reverse

from clientele.campaigns import building, services
from clientele.campaigns.models import Campaign, Task, Wave
from clientele.customers.models import Customer

from .conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.urls("clientele.campaigns.tests.urls")]


@pytest.fixture
def calling(campaign, policy, world):
    campaign.holdout_rate = Decimal("0")
    campaign.save()
    campaign.waves.all().delete()
    Wave.objects.create(campaign=campaign, number=1, channel="call_list", template="Call {name}")
    Customer.objects.update(phone="+8613900000001")
    building.build(campaign, at=NOW)
    building.run_due_waves(campaign, now=NOW)
    return campaign


def test_call_list_shows_my_tasks_with_script_and_360_link(calling, offer, world, client_for):
    response = client_for("account_manager").get(reverse("campaigns:call_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert world.customer_a.get_absolute_url() in html
    assert offer.script in html
    assert world.customer_b.name not in html  # team B's account manager calls them
    assert world.customer_team.name not in html  # no owner: not on anyone's list


def test_call_list_result_via_htmx_and_closed_tasks_disappear(calling, world, client_for):
    client = client_for("account_manager")
    task = Task.objects.get(customer=world.customer_a)
    url = reverse("campaigns:task_result", args=[task.pk])
    response = client.post(
        url,
        {"result": "handed_over", "store": "Jing'an store", "channel": "call_list"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "Jing&#x27;an store" in response.content.decode()
    task.refresh_from_db()
    assert task.status == "open" and task.handed_to_store == "Jing'an store"
    # The store closes it: it leaves the account manager's list.
    services.record_result(
        task, services.CallResult(result="accepted"), channel="store", user=world.service_agent
    )
    html = client.get(reverse("campaigns:call_list")).content.decode()
    assert world.customer_a.get_absolute_url() not in html


def test_result_form_needs_permission_and_scope(calling, world, client_for):
    task_b = Task.objects.get(customer=world.customer_b)
    url = reverse("campaigns:task_result", args=[task_b.pk])
    assert client_for("account_manager").post(url, {"result": "declined"}).status_code == 404
    assert client_for("analyst").post(url, {"result": "declined"}).status_code == 403
    assert client_for("analyst").get(reverse("campaigns:call_list")).status_code == 403
    response = client_for("service_agent").post(url, {"result": "declined", "channel": "store"})
    assert response.status_code == 302
    task_b.refresh_from_db()
    assert task_b.status == "done" and task_b.closed_via == "store"


def test_task_page_shows_the_result_form(calling, world, client_for):
    task = Task.objects.get(customer=world.customer_a)
    html = client_for("account_manager").get(task.get_absolute_url()).content.decode()
    assert reverse("campaigns:task_result", args=[task.pk]) in html


def test_start_and_pause_from_the_campaign_page(world, offer, policy, client_for):
    campaign = Campaign.objects.create(name="From the page", holdout_rate=Decimal("0"))
    campaign.offers.add(offer)
    Wave.objects.create(campaign=campaign, number=1, channel="sms", template="{name}")
    page = client_for("marketing_manager").get(campaign.get_absolute_url())
    assert 'data-testid="start-campaign"' in page.content.decode()
    start = reverse("campaigns:campaign_start", args=[campaign.pk])
    assert client_for("analyst").post(start).status_code == 403
    assert client_for("marketing_manager").post(start).status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert Task.objects.filter(campaign=campaign).count() == 3
    page = client_for("marketing_manager").get(campaign.get_absolute_url())
    assert 'data-testid="targets">3<' in page.content.decode()
    client_for("marketing_manager").post(reverse("campaigns:campaign_pause", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == "paused"
