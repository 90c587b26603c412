"""Signals other apps hook into; accounts never imports them (dependencies point one way)."""

from django.dispatch import Signal

# Sent by services.delete_account() inside its transaction, before the user row is deleted,
# with ``user`` (still intact). Receivers stop what runs on the user's behalf (syncs, schedules)
# and release what lives outside our database (revoke Evotor/VK connections). Raising aborts the
# deletion and rolls it back; work that must happen only once the deletion is final belongs in
# ``transaction.on_commit``. Rows with a foreign key to the user go with it by CASCADE.
account_deleting = Signal()
