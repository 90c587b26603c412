"""Signals higher apps (sync) subscribe to; the catalog never imports them."""

from django.dispatch import Signal

# Products of a merchant changed in the cache (webhook or refresh). Sent after commit.
# Kwargs: user_id (int), product_ids (list of Evotor product ids; empty = "many, unknown").
catalog_changed = Signal()
