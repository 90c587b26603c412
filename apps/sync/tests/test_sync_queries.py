"""SQL queries of a run stay constant in the catalog's size when nothing changed.

The counted run talks to replies recorded from the sandbox a moment earlier (``responses``), so
only EvoSync's own queries are counted: the sandbox shares the test database and would
otherwise be counted too.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
import responses

from apps.sandbox.services.world import make_group
from apps.sync.models import SyncJob
from apps.sync.services import run_sync

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _record(sandbox_url: str) -> list[tuple[str, str, bytes, str]]:
    """Replay the requests of a run against the live sandbox and keep their replies."""
    recorded = []
    original = requests.Session.request

    def recording(session, method, url, *args, **kwargs):
        response = original(session, method, url, *args, **kwargs)
        recorded.append((method, url.split("?")[0], response.content,
                         response.headers.get("Content-Type", "application/json")))
        return response

    return recorded, recording


@pytest.mark.parametrize("count", [60, 250])
def test_a_no_change_resync_needs_a_constant_number_of_queries(
    shop, count, monkeypatch, django_assert_max_num_queries
):
    groups = [make_group(shop.store, name=f"Группа {n}") for n in range(6)]
    for n in range(count):
        shop.product(name=f"Товар {n:04d}", price=Decimal(50 + n),
                     parent_id=groups[n % 6].evotor_id)
    assert shop.sync().items_created == count

    recorded, recording = _record(shop.store.account.token)
    monkeypatch.setattr(requests.Session, "request", recording)
    warm = shop.sync()
    monkeypatch.undo()
    assert warm.items_updated == warm.items_created == 0

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method, url, body, content_type in recorded:
            mock.add(method, url, body=body, content_type=content_type)
        with django_assert_max_num_queries(40):
            job = run_sync(shop.user, SyncJob.Trigger.MANUAL)

    assert job.status == SyncJob.Status.SUCCESS, job.error_summary
    # One market.get page plainly, the rest in one execute: no write.
    assert job.vk_requests == (1 if count <= 200 else 2) and job.items_updated == 0
