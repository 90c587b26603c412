"""The base layout: Russian by default, English on request, assets self-hosted under CSP."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_home_sends_visitors_to_login_and_merchants_to_connections(client, merchant):
    assert client.get("/")["Location"] == "/login"
    client.force_login(merchant)
    assert client.get("/")["Location"] == "/connections"


def test_the_start_page_is_russian_by_default(client):
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/login", 302)]
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Каталог Эвотор — в Товарах ВКонтакте" in html
    assert "Язык" in html


def test_english_is_available(client):
    response = client.get("/login", HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Your Evotor catalog, live in VK Market" in html


def test_language_switch_sets_the_language_for_later_pages(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login"})
    assert response.status_code == 302
    assert "Your Evotor catalog" in client.get("/login").content.decode()


def test_assets_are_self_hosted_and_csp_forbids_inline_script(client):
    response = client.get("/login")
    html = response.content.decode()
    assert "/static/vendor/bootstrap-5.3.9/css/bootstrap.min.css" in html
    assert "cdn" not in html.lower()
    assert "<script>" not in html and " style=" not in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy


def test_vendored_bootstrap_is_served(client):
    # runserver/whitenoise serve it in development; the Docker build collects it.
    root = Path(settings.BASE_DIR) / "static" / "vendor" / "bootstrap-5.3.9"
    assert (root / "css" / "bootstrap.min.css").stat().st_size > 100_000
    assert (root / "js" / "bootstrap.bundle.min.js").stat().st_size > 50_000


def _catalog(language: str) -> polib.POFile:
    path = Path(settings.BASE_DIR) / "locale" / language / "LC_MESSAGES" / "django.po"
    return polib.pofile(str(path))


def test_russian_catalog_is_complete():
    catalog = _catalog("ru")
    missing = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog.fuzzy_entries()]
    assert missing == [] and fuzzy == []


def test_compiled_russian_catalog_matches_the_po_file():
    """The .mo files are committed (machines without gettext); they must not go stale."""
    catalog = _catalog("ru")
    compiled = polib.mofile(str(Path(catalog.fpath).with_suffix(".mo")))
    # Keyed by context too: one English word can carry two translations ("Service": a product
    # type, «Услуга», and a provider, «Сервис»); plural forms compared with the rest.
    def translations(entries) -> dict:
        return {
            (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in entries
            if e.msgid
        }

    assert translations(compiled) == translations(catalog.translated_entries())


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="needs gettext's xgettext")
def test_every_string_in_the_code_has_a_russian_translation(tmp_path):
    """Re-extract the messages in a scratch copy: a string added without `make messages` and a
    translation would otherwise show in English on a Russian page."""
    root = Path(settings.BASE_DIR)
    copy = tmp_path / "src"
    shutil.copytree(
        root, copy, symlinks=True,
        ignore=shutil.ignore_patterns(".venv", ".git", "staticfiles", "media", "vendor", "*.pyc",
                                      "__pycache__", "*.sqlite3*", ".pytest_cache"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "ru", "--ignore=.venv", "-v0"],
        cwd=copy, check=True, timeout=120, env={**os.environ, "EVOSYNC_TESTING": "false"},
    )
    catalog = polib.pofile(str(copy / "locale" / "ru" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in catalog if not e.obsolete and not e.translated()]
    assert missing == [], "run `make messages` and translate: " + "; ".join(missing[:10])
