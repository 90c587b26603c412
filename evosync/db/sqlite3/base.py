"""Django's SQLite backend with the real variable limit of modern SQLite.

Django assumes the pre-3.32 compile-time default of 999 bound variables per statement, which
splits a bulk upsert of 1,000 products (~25 columns each) into 26 statements. Every SQLite since
3.32 (2020) allows 32,766, so catalog refreshes need one statement per 1,000 rows here as they do
on MariaDB.
"""

import sqlite3

from django.db.backends.sqlite3 import base, features


class DatabaseFeatures(features.DatabaseFeatures):
    max_query_params = 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999


class DatabaseWrapper(base.DatabaseWrapper):
    features_class = DatabaseFeatures
