"""A first sync works round by round: each round's items join their albums before the next
round starts, and the run lets go of what it held per item of a round once it is saved."""

from __future__ import annotations

import pytest

from apps.sandbox.models import VkAlbum
from apps.sync import executor
from apps.sync.models import SyncConfig, SyncJob

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


class Killed(BaseException):
    """The worker dies (SIGKILL): nothing of the run's own handling runs."""


def _albums(shop) -> dict[str, set[str]]:
    return {a.title: set(a.items.values_list("sku", flat=True))
            for a in VkAlbum.objects.filter(group=shop.group)}


def test_a_run_killed_after_a_round_has_put_that_rounds_items_in_their_albums(
    shop, catalog, monkeypatch
):
    monkeypatch.setattr(executor, "PHOTOS_PER_ROUND", 2)
    original = executor.Executor._end_round

    def end_round_then_die(self, round_ops):
        original(self, round_ops)
        raise Killed

    monkeypatch.setattr(executor.Executor, "_end_round", end_round_then_die)
    with pytest.raises(Killed):
        shop.sync()

    created = set(shop.items().values_list("sku", flat=True))
    assert len(created) == 2
    grouped = {p.evotor_id: p.parent_id for p in catalog.values() if p.parent_id}
    in_albums = set().union(*_albums(shop).values())
    assert in_albums == created & set(grouped)

    monkeypatch.setattr(executor.Executor, "_end_round", original)
    SyncConfig.objects.filter(pk=shop.config.pk).update(lease_owner="", lease_expires_at=None)
    resumed = shop.sync()

    assert resumed.status == SyncJob.Status.SUCCESS, resumed.error_summary
    assert resumed.items_created == 3 and resumed.items_updated == 0  # no album edits left
    assert _albums(shop) == {
        "Напитки": {catalog["coffee"].evotor_id, catalog["tea"].evotor_id},
        "Выпечка": {catalog["croissant"].evotor_id, catalog["bun"].evotor_id},
    }


def test_nothing_is_held_per_item_once_its_round_is_saved(shop, catalog, monkeypatch):
    monkeypatch.setattr(executor, "PHOTOS_PER_ROUND", 2)
    original = executor.Executor._end_round
    held = []

    def end_round(self, round_ops):
        original(self, round_ops)
        held.append({
            "photo keys": len(self._photo_keys), "photo ids": len(self._pending_photos),
            "image urls": len(self._image_urls), "checked": len(self._checked),
            "album adds": len(self._album_adds), "moves": len(self._moves),
            "links": len(self.loaded.links._made),
        })

    monkeypatch.setattr(executor.Executor, "_end_round", end_round)
    job = shop.sync()

    assert job.status == SyncJob.Status.SUCCESS and job.items_created == 5
    assert len(held) == 3
    assert all(not any(sizes.values()) for sizes in held), held
