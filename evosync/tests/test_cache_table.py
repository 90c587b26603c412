"""`migrate` alone gives a working site: the database cache's table comes with the migrations."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")
TABLE = "evosync_cache"

SIGN_UP = """
from django.test import Client
response = Client().post("/register", {
    "first_name": "Olga", "last_name": "Ivanova", "email": "olga@example.com",
    "phone": "+7 (903) 555-12-34", "password1": "correct-Horse-battery-9",
    "password2": "correct-Horse-battery-9",
})
print(response.status_code)
"""


def test_a_fresh_database_after_migrate_has_the_cache_table_and_serves_sign_up(tmp_path):
    database = tmp_path / "fresh.sqlite3"
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DATABASE_URL": f"sqlite:///{database}",
        "EVOSYNC_TESTING": "false",
        "EMAIL_URL": "memorymail://",
    }
    run = {"env": environ, "check": True, "timeout": 120, "capture_output": True, "text": True}
    subprocess.run([sys.executable, MANAGE, "migrate", "--noinput", "-v0"], **run)
    with sqlite3.connect(database) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert TABLE in tables
    signed_up = subprocess.run([sys.executable, MANAGE, "shell", "-v0", "-c", SIGN_UP], **run)
    assert signed_up.stdout.split()[-1:] == ["302"], signed_up.stderr


@pytest.mark.django_db(transaction=True)
def test_the_migration_recreates_a_missing_table_and_leaves_an_existing_one():
    """On the database under test (SQLite or MariaDB): drop the table, migrate, it is back."""
    if not isinstance(caches["default"], DatabaseCache):
        pytest.skip("the configured cache is not the database cache (Redis)")
    try:
        with connection.schema_editor() as editor:
            editor.execute(f"DROP TABLE {connection.ops.quote_name(TABLE)}")
        call_command("migrate", "evosync", "zero", verbosity=0)
        call_command("migrate", "evosync", verbosity=0)
        assert TABLE in connection.introspection.table_names()
        caches["default"].set("probe", 1)
        assert caches["default"].get("probe") == 1
        # Once more with the table present: nothing happens, nothing fails.
        call_command("migrate", "evosync", "zero", verbosity=0)
        call_command("migrate", "evosync", verbosity=0)
    finally:
        call_command("createcachetable", verbosity=0)


def test_the_migration_does_nothing_without_a_database_cache(settings, django_db_blocker):
    """With Redis (or any other cache) the migration creates no table and touches nothing."""
    from importlib import import_module

    migration = import_module("evosync.migrations.0001_cache_table")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    class Editor:
        connection = connection

    with django_db_blocker.unblock():
        before = set(connection.introspection.table_names())
        migration.create_cache_tables(None, Editor())
        assert set(connection.introspection.table_names()) == before
