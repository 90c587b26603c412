"""The sync pages' words in Russian (the merchants' default): counts agree with their numbers,
runs say how long they took and why they ran, and notices say what to do where they are shown.
"""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.translation import override
from model_bakery import baker

from apps.connections.explain import vk_error
from apps.sync import pages
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.tests.test_views import connect_evotor, connect_vk, vk  # noqa: F401 (fixture)


@pytest.fixture
def page(client, merchant):
    merchant.language = "ru"
    merchant.save(update_fields=["language"])
    client.force_login(merchant)
    return client


def body(response) -> str:
    return html.unescape(response.content.decode())


@pytest.mark.parametrize("count, words", [
    (0, "ошибок"), (1, "ошибка"), (2, "ошибки"), (5, "ошибок"), (11, "ошибок"), (21, "ошибка"),
    (24, "ошибки"),
])
def test_the_failed_count_agrees_with_its_number(count, words):
    with override("ru"):
        assert pages.run_count_label("failed", count) == words


@pytest.mark.parametrize("count, words", [
    (1, "товар создан"), (3, "товара создано"), (5, "товаров создано"), (12, "товаров создано"),
    (0, "товаров создано"),
])
def test_the_created_count_agrees_with_its_number(count, words):
    with override("ru"):
        assert pages.run_count_label("created", count) == words


@pytest.mark.parametrize("action, count, words", [
    ("create", 1, "товар будет создан"), ("create", 3, "товара будет создано"),
    ("delete", 7, "товаров будет удалено"), ("invalid", 2, "товара нельзя опубликовать"),
])
def test_preview_tiles_agree_with_their_numbers(action, count, words):
    with override("ru"):
        assert pages.planned_label(action, count) == words


@pytest.mark.parametrize("seconds, words", [
    (0.4, "меньше секунды"), (1, "1 с"), (59.9, "59 с"), (60, "1 мин"), (75, "1 мин 15 с"),
    (3600, "1 ч"), (3725, "1 ч 2 мин"),
])
def test_durations_are_said_as_a_person_would(seconds, words):
    with override("ru"):
        assert pages.duration_text(timedelta(seconds=seconds)) == words


def test_durations_in_english():
    with override("en"):
        assert pages.duration_text(timedelta(milliseconds=300)) == "less than a second"
        assert pages.duration_text(timedelta(seconds=135)) == "2 min 15 s"


def test_a_run_page_in_russian(page, merchant):
    started = timezone.now()
    job = baker.make(SyncJob, user=merchant, status=SyncJob.Status.SUCCESS,
                     triggered_by=SyncJob.Trigger.ENABLE, started_at=started,
                     finished_at=started + timedelta(milliseconds=300), items_created=2)
    text = body(page.get(f"/sync/jobs/{job.pk}"))
    assert "Включение синхронизации" in text and "Синхронизировать сейчас" not in text
    assert "длился меньше секунды" in text and "0 с" not in text
    assert "товара создано" in text and ">ошибок<" in text and ">ошибка<" not in text


def test_the_history_sums_each_run_up(page, merchant):
    now = timezone.now()
    baker.make(SyncJob, user=merchant, status=SyncJob.Status.SUCCESS, triggered_by="schedule",
               started_at=now, finished_at=now + timedelta(seconds=2), items_created=5)
    baker.make(SyncJob, user=merchant, status=SyncJob.Status.PARTIAL, triggered_by="manual",
               started_at=now, finished_at=now + timedelta(seconds=2), items_updated=1,
               items_failed=3)
    baker.make(SyncJob, user=merchant, status=SyncJob.Status.SUCCESS, triggered_by="webhook",
               started_at=now, finished_at=now + timedelta(seconds=2))
    text = body(page.get("/sync/jobs"))
    assert "5 товаров создано" in text and "без ошибок" in text
    assert "1 товар обновлён" in text and "3 ошибки" in text
    assert "без изменений" in text
    assert "По расписанию" in text and "Вручную" in text and "Изменение в Эвоторе" in text


def test_a_failed_run_is_not_said_to_have_no_errors(merchant):
    job = baker.make(SyncJob, user=merchant, status=SyncJob.Status.FAILED, error_code="vk_auth",
                     finished_at=timezone.now(), triggered_by="schedule")
    assert pages.run_summary(job) == []


def test_the_sync_page_says_to_choose_the_category_here(page, merchant, vk):  # noqa: F811
    SyncConfig.objects.create(user=merchant)
    connect_evotor(merchant)
    connect_vk(merchant)
    text = body(page.get("/sync"))
    notice = text[text.index('id="sync-not-ready"'):]
    notice = notice[:notice.index("</div>")]
    assert "Не выбрана категория" in notice and "ниже" in notice
    assert "на странице «Синхронизация»" not in notice
    assert 'href="#id_vk_category_id"' in notice
    # The card's title labels the select; the field does not repeat it.
    assert text.count("Категория ВКонтакте</label>") == 1


def test_elsewhere_the_advice_names_the_sync_page():
    from apps.sync.explain import run_reason

    with override("ru"):
        assert "«Синхронизация»" in run_reason("no_category").advice
        assert "«Синхронизация»" not in run_reason("no_category", on_sync_page=True).advice


def test_a_pause_by_support_does_not_speak_of_failed_runs(page, merchant):
    SyncConfig.objects.create(user=merchant, is_enabled=True, confirmed_at=timezone.now(),
                              paused_reason="paused by EvoSync support in the admin",
                              paused_at=timezone.now())
    text = body(page.get("/sync"))
    banner = text[text.index('id="banner-sync-paused"'):]
    banner = banner[:banner.index("</div>")]
    assert "приостановила поддержка EvoSync" in banner and "0 неудачн" not in banner
    assert "Возобновить" not in banner  # support lifts its own pause
    assert "неудачн" not in text[text.index('id="sync-paused"'):][:400]


def test_a_pause_after_failures_counts_them(page, merchant):
    SyncConfig.objects.create(user=merchant, is_enabled=True, confirmed_at=timezone.now(),
                              paused_reason="5 failed runs in a row", paused_at=timezone.now(),
                              consecutive_failures=5)
    text = body(page.get("/sync"))
    assert "после 5 неудачных запусков подряд" in text


def test_vk_advice_names_the_real_button_and_1409_means_extended_goods():
    with override("ru"):
        assert "«Подключить через VK ID»" in vk_error(27).advice
        found = vk_error(1409)
    assert "асширенн" in found.title and "Расширенные товары" in found.advice
