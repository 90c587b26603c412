"""The ids VK hands out for items, albums and photos, and the way back to table rows.

VK's ids of different kinds look nothing alike (an album 148, an item 11992250, a photo
457239024). If the sandbox answered plain primary keys, item 1, album 1 and photo 1 would be
the same number and a client mixing them up would pass every test. So each kind lives in its
own range, a fixed offset from the row's pk, and an id outside its kind's range is unknown:
a photo id sent as ``item_id`` finds no item and gets the same 1403 VK would give.

This module is the only place that knows the offsets: every reply builder calls
``ITEM.public(pk)`` and every parser of incoming ids calls ``ITEM.pk(public_id)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# A pk no row ever has (auto-increment keys start at 1). Mapping a foreign id to it lets every
# lookup run unchanged and simply find nothing, so callers answer their usual "not found".
NO_ROW = -1


@dataclass(frozen=True)
class IdKind:
    """One kind of VK id: public id = pk + ``offset``, valid while below ``end``."""

    name: str
    offset: int
    end: int | None = None

    def public(self, pk: int) -> int:
        """The id VK would show for the row ``pk``."""
        return pk + self.offset

    def contains(self, public_id: int) -> bool:
        return public_id > self.offset and (self.end is None or public_id < self.end)

    def pk(self, public_id: int | None) -> int:
        """The row's pk for an incoming id; :data:`NO_ROW` for an id of another kind."""
        if public_id is None or not self.contains(public_id):
            return NO_ROW
        return public_id - self.offset

    def pks(self, public_ids: Iterable[int]) -> list[int]:
        """Pks in the same order; foreign ids become :data:`NO_ROW` (and so are not found)."""
        return [self.pk(public_id) for public_id in public_ids]


# The ranges do not overlap, so no id can be valid for two kinds.
ALBUM = IdKind("album", offset=100, end=10_000_000)
ITEM = IdKind("item", offset=10_000_000, end=457_239_000)
PHOTO = IdKind("photo", offset=457_239_000)
