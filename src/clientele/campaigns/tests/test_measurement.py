"""Campaign measurement on a hand-built campaign whose every figure is counted by hand:
treated against holdout overall, per wave (with the non-responder holdout), per channel
and per segment; suppressions by reason; the seed's success and participation rates;
incremental revenue and return on cost. Orders outside a target's window, cancelled or
returned orders never count."""

import datetime as dt
import itertools
from decimal import Decimal

import pytest

from clientele.campaigns.measurement import measure
from clientele.campaigns.models import Campaign, CampaignTarget, Offer, OfferAcceptance, Task, Wave
from clientele.channels.models import OutboxMessage, SuppressionRecord
from clientele.customers.models import Customer
from clientele.sales.models import Order

pytestmark = pytest.mark.django_db

# Far enough in the past that "now" (the results page) sees every order of the fixture.
START = dt.datetime.now(dt.UTC).replace(hour=2, minute=0, second=0, microsecond=0) - dt.timedelta(
    days=60
)
AS_OF = START + dt.timedelta(days=40)


NUMBERS = itertools.count(1)


def _order(customer, day, total, status="paid"):
    return Order.objects.create(
        customer=customer,
        number=f"M-{next(NUMBERS)}",
        ordered_at=START + dt.timedelta(days=day),
        status=status,
        total=Decimal(total),
    )


def _sent(campaign, customer, wave, channel="sms"):
    OutboxMessage.objects.create(
        channel=channel,
        customer=customer,
        recipient="+8613800000000",
        dedup_key=f"{campaign.pk}:{customer.pk}:{wave}:{channel}",
        campaign_id=campaign.pk,
        wave=wave,
        status="sent",
    )


@pytest.fixture
def campaign():
    """10 treated targets (T0..T9) and 5 in the holdout (H0..H4).

    Wave 1 (day 0, SMS) reaches T0..T7; wave 2 (day 30, e-mail, non-responders only)
    reaches T4..T7. Orders: T0 120 on day 2, T1 80 on day 5, T2 300 on day 12 (after wave
    1's 10 days), T3 50 cancelled, T4 200 on day 32 (wave 2), T9 40 before the start;
    H0 100 on day 3, H1 60 on day 31."""
    campaign = Campaign.objects.create(
        name="11.11 thank-you", starts_at=START, cost_per_contact=Decimal("0.05")
    )
    Wave.objects.create(
        campaign=campaign, number=1, day_offset=0, channel="sms", template="Hi {name}"
    )
    Wave.objects.create(
        campaign=campaign,
        number=2,
        day_offset=30,
        channel="email",
        template="Hi again {name}",
        only_non_responders=True,
    )
    people = {}
    for name, holdout in [(f"T{i}", False) for i in range(10)] + [
        (f"H{i}", True) for i in range(5)
    ]:
        customer = Customer.objects.create(code=name, name=name)
        people[name] = customer
        target = CampaignTarget.objects.create(
            campaign=campaign,
            customer=customer,
            in_holdout=holdout,
            built_at=START,
        )
        if not holdout:
            contacted = START if name in {f"T{i}" for i in range(8)} else None
            Task.objects.create(
                campaign=campaign, customer=customer, target=target, first_contacted_at=contacted
            )
    for i in range(8):
        _sent(campaign, people[f"T{i}"], 1)
    for i in range(4, 8):
        _sent(campaign, people[f"T{i}"], 2, channel="email")
    _order(people["T0"], 2, "120.00")
    _order(people["T1"], 5, "80.00")
    _order(people["T2"], 12, "300.00")
    _order(people["T3"], 6, "50.00", status="cancelled")
    _order(people["T4"], 32, "200.00")
    _order(people["T9"], -3, "40.00")
    _order(people["H0"], 3, "100.00")
    _order(people["H1"], 31, "60.00")
    campaign.people = people
    return campaign


def test_overall_response_revenue_and_uplift(campaign):
    results = measure(campaign, as_of=AS_OF)
    overall = results.overall
    assert (overall.treated, overall.holdout, overall.contacted) == (10, 5, 8)
    assert (overall.responded, overall.holdout_responded) == (4, 2)  # T0 T1 T2 T4; H0 H1
    assert overall.response_rate == pytest.approx(0.4)
    assert overall.natural_rate == pytest.approx(0.4)
    assert overall.revenue == Decimal("700.00")
    assert overall.holdout_revenue == Decimal("160.00")
    # 70 per treated customer against 32 per holdout customer, over 10 treated.
    assert overall.incremental_revenue == Decimal("380.00")
    assert overall.revenue_per_customer.difference == pytest.approx(38.0)
    assert overall.response.uplift == pytest.approx(0.0)


def test_the_window_closes_at_as_of_and_at_the_campaign_end(campaign):
    early = measure(campaign, as_of=START + dt.timedelta(days=10))
    assert (early.overall.responded, early.overall.holdout_responded) == (2, 1)
    campaign.ends_at = START + dt.timedelta(days=4)
    ended = measure(campaign, as_of=AS_OF)
    assert (ended.overall.responded, ended.overall.holdout_responded) == (1, 1)


def test_waves_compare_recipients_with_the_matching_holdout(campaign):
    first, second = measure(campaign, as_of=AS_OF).waves
    # Wave 1: T0..T7 over days 0-10: T0, T1 ordered; the holdout H0 (day 3).
    assert (first.treated, first.responded, first.holdout, first.holdout_responded) == (8, 2, 5, 1)
    assert first.revenue == Decimal("200.00")
    # Wave 2: T4..T7 over days 30-40: T4. Holdout: the 4 who had not ordered by day 30
    # (H0 had), of whom H1 ordered on day 31.
    assert (second.treated, second.responded, second.holdout, second.holdout_responded) == (
        4,
        1,
        4,
        1,
    )


def test_channels_segments_and_suppressions(campaign):
    SuppressionRecord.objects.create(
        customer=campaign.people["T8"], channel="sms", reason="opted_out", campaign_id=campaign.pk
    )
    SuppressionRecord.objects.create(
        customer=campaign.people["T9"], channel="sms", reason="opted_out", campaign_id=campaign.pk
    )
    SuppressionRecord.objects.create(
        customer=campaign.people["T9"],
        channel="email",
        reason="frequency_cap",
        campaign_id=campaign.pk,
    )
    SuppressionRecord.objects.create(
        customer=campaign.people["T9"], channel="sms", reason="opted_out"
    )  # another campaign's
    results = measure(campaign, as_of=AS_OF)
    by_channel = {row.key: row for row in results.channels}
    assert set(by_channel) == {"email", "sms"}
    assert (by_channel["sms"].treated, by_channel["sms"].responded) == (8, 4)  # T0 T1 T2 T4
    assert (by_channel["email"].treated, by_channel["email"].responded) == (4, 1)
    assert [(reason, count) for reason, _label, count in results.suppressed] == [
        ("opted_out", 2),
        ("frequency_cap", 1),
    ]
    assert results.suppressed_total == 3


def test_success_participation_cost_and_return(campaign):
    people = campaign.people
    offer = Offer.objects.create(name="Coupon 20")
    for name, result in [("T0", "accepted"), ("T1", "declined"), ("T5", "not_reached")]:
        Task.objects.filter(customer=people[name]).update(
            result=result, reached=result != "not_reached"
        )
    task = Task.objects.get(customer=people["T0"])
    OfferAcceptance.objects.create(
        offer=offer, customer=people["T0"], task=task, channel="call_list", cost=Decimal("20.00")
    )
    Campaign.objects.filter(pk=campaign.pk).update(spent=Decimal("0.60"))
    campaign.refresh_from_db()
    results = measure(campaign, as_of=AS_OF)
    assert results.accepted == 1
    assert results.success_rate == pytest.approx(0.1)
    assert results.participated == 2
    assert results.participation_rate == pytest.approx(0.2)
    assert results.cost == Decimal("20.60")
    assert results.return_on_cost == pytest.approx((380 - 20.60) / 20.60)
    low, high = results.revenue_interval
    assert low < 38.0 < high


def test_a_campaign_without_holdout_reports_no_uplift(campaign):
    CampaignTarget.objects.filter(campaign=campaign, in_holdout=True).delete()
    results = measure(campaign, as_of=AS_OF)
    assert results.overall.holdout == 0
    assert results.overall.response.uplift is None
    assert results.overall.incremental_revenue is None
    assert results.return_on_cost is None
    assert results.revenue_interval is None


def test_segments_split_treated_and_holdout_by_current_class(campaign):
    from clientele.segmentation.models import ClassificationDefinition, CurrentClass

    abc = ClassificationDefinition.objects.get(key="abc_spend")
    day = START.date()
    for name in ("T0", "T1", "T2", "H0"):
        CurrentClass.objects.create(
            definition=abc, customer=campaign.people[name], code="A", since=day, reviewed_at=day
        )
    rows = {row.key: row for row in measure(campaign, as_of=AS_OF, segment_definition=abc).segments}
    assert set(rows) == {"A", "-"}
    assert (rows["A"].treated, rows["A"].responded, rows["A"].holdout) == (3, 3, 1)
    assert rows["A"].label == abc.label("A")
    assert (rows["-"].treated, rows["-"].responded, rows["-"].holdout) == (7, 1, 4)


# --- the results page ---------------------------------------------------------------

VIEWERS = ["administrator", "marketing_manager", "account_manager", "service_agent", "analyst"]
EXPORTERS = {"administrator", "marketing_manager", "analyst"}


@pytest.mark.parametrize("role", VIEWERS)
def test_results_page_and_csv_per_role(role, campaign, client_for):
    from django.urls import reverse

    url = reverse("campaigns:campaign_results", args=[campaign.pk])
    page = client_for(role).get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'data-testid="results-table"' in text and "<svg" in text
    assert "Wave 2 (day 30, E-mail)" in text
    csv = client_for(role).get(url, {"export": "csv"})
    if role in EXPORTERS:
        assert csv.status_code == 200
        lines = csv.content.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("Group,Treated,Contacted,Responded")
        assert lines[1].startswith("Whole campaign,10,8,4,40.0%,5,2,40.0%")
    else:
        assert csv.status_code == 403


def test_results_page_needs_sign_in_and_a_known_classification(campaign, client, client_for):
    from django.urls import reverse

    url = reverse("campaigns:campaign_results", args=[campaign.pk])
    assert client.get(url).status_code == 302
    assert client_for("marketing_manager").get(url, {"segments": "nope"}).status_code == 404
    split = client_for("marketing_manager").get(url, {"segments": "abc_spend"})
    assert split.status_code == 200 and "Not classified" in split.content.decode()
