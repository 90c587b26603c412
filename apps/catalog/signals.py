"""Signals higher apps (sync) subscribe to; the catalog never imports them."""

from django.dispatch import Signal

# Products of a merchant changed in the cache (webhook or refresh). Sent after commit.
# Kwargs: user_id (int), product_ids (list of Evotor product ids; empty = "many, unknown").
catalog_changed = Signal()

# A catalog page is about to show these rows. Sent by the catalog views (sender=Product) with
# user, products (the page's Product objects, store selected), stores and groups (the sidebar's
# Store / ProductGroup objects). A receiver (the sync: apps/sync/publishing.py) may annotate the
# objects with ``.publishing`` and return an object the page shows as ``publishing`` (counts,
# button URLs); send() hands the views every receiver's return value.
catalog_page = Signal()
