"""The database cache's table, so that `migrate` alone gives a working site.

Without Redis the cache is Django's database cache (settings: CACHES). Its table is not a model,
so Django leaves it to `createcachetable`; a site migrated without that command answered 500 on
everything that throttles or rate-limits (sign-up, authenticated webhooks). This creates the
table of every configured database cache; it does nothing when the table exists or when no
database cache is configured (Redis, CACHE_URL), and `createcachetable` stays harmless.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_tables(apps, schema_editor):
    # Checks the configured caches and skips existing tables itself; honours database routers.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = []

    operations = [
        migrations.RunPython(create_cache_tables, migrations.RunPython.noop, elidable=False),
    ]
