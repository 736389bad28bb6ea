"""The holdout: random across customers, stable per (campaign, customer) whatever the
order, chunking or number of rebuilds, about the configured share, and never contacted."""

import math

import numpy as np
import pytest

from clientele.campaigns import building, services
from clientele.campaigns.models import CampaignTarget, Task
from clientele.channels.models import OutboxMessage

from .conftest import NOW


def _bounds(n, p, z=4.0):
    """A binomial count's range at about four standard deviations (fails 1 in 15,000)."""
    sd = math.sqrt(n * p * (1 - p))
    return n * p - z * sd, n * p + z * sd


@pytest.mark.parametrize("rate", [0.10, 0.25, 0.02])
def test_share_is_close_to_the_rate(rate):
    ids = np.arange(1, 200_001)
    count = int(services.holdout_mask(7, ids, rate).sum())
    low, high = _bounds(ids.size, rate)
    assert low <= count <= high


def test_stable_for_the_same_campaign_and_order_free():
    ids = np.arange(1, 50_001)
    first = services.holdout_mask(3, ids, 0.1)
    shuffled = np.random.default_rng(1).permutation(ids)
    again = services.holdout_mask(3, shuffled, 0.1)
    assert set(ids[first].tolist()) == set(shuffled[again].tolist())
    assert services.in_holdout(3, int(ids[first][0]), 0.1)


def test_other_campaigns_draw_other_customers():
    ids = np.arange(1, 50_001)
    a = services.holdout_mask(1, ids, 0.1)
    b = services.holdout_mask(2, ids, 0.1)
    overlap = int((a & b).sum())
    low, high = _bounds(ids.size, 0.01)  # independent draws overlap on ~1%
    assert low <= overlap <= high


def test_raising_the_rate_only_adds_customers():
    ids = np.arange(1, 20_001)
    small = services.holdout_mask(9, ids, 0.05)
    large = services.holdout_mask(9, ids, 0.15)
    assert not (small & ~large).any()


def test_no_pattern_in_consecutive_ids():
    """A modulo rule (id % 10 == 0) would give exactly 10% in every run of ten ids; a hash
    gives a binomial spread in blocks of ids."""
    ids = np.arange(1, 100_001)
    blocks = services.holdout_mask(5, ids, 0.1).reshape(-1, 100).sum(axis=1)
    assert blocks.std() > 1.5


@pytest.mark.django_db
def test_built_holdout_is_stable_measured_and_never_contacted(campaign, policy, make_customers):
    make_customers(3000)
    result = building.build(campaign, at=NOW)
    holdout = set(
        CampaignTarget.objects.filter(campaign=campaign, in_holdout=True).values_list(
            "customer_id", flat=True
        )
    )
    assert result.added == 3000 and result.holdout == len(holdout)
    low, high = _bounds(3000, 0.1)
    assert low <= len(holdout) <= high
    # Rebuilding (from scratch) draws the same customers.
    CampaignTarget.objects.filter(campaign=campaign).delete()
    building.build(campaign, at=NOW, rebuild=True)
    again = set(
        CampaignTarget.objects.filter(campaign=campaign, in_holdout=True).values_list(
            "customer_id", flat=True
        )
    )
    assert again == holdout
    # No task and no message for the holdout; every treated target has a task.
    assert not Task.objects.filter(campaign=campaign, customer_id__in=holdout).exists()
    assert Task.objects.filter(campaign=campaign).count() == 3000 - len(holdout)
    building.run_due_waves(campaign, now=NOW)
    assert OutboxMessage.objects.filter(campaign_id=campaign.pk).count() == 3000 - len(holdout)
    assert not OutboxMessage.objects.filter(customer_id__in=holdout).exists()
