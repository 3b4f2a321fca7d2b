"""One concurrency model for every aggregate several hands change at once (shares, visits).

Lambda runs many copies at once: the share and delivery workers, the delivery-events worker, the
clinic's resend, close and delete, and the patient's page may change one record at the same moment.
Each such record carries a ``version``; a repository's ``save`` writes only if the stored version is the
one read (else StaleWrite), and ``update`` redoes the change on a fresh read, so nobody's change is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

from chalicelib.domain.errors import StaleWrite

#: A write that loses a race is redone on a fresh read this often before the caller hears of it (409).
WRITE_ATTEMPTS = 5

T = TypeVar("T")


class VersionedRepository(Protocol[T]):
    """Records read by key and written back conditionally on the version read."""

    def get(self, key: str) -> T:
        """The record as stored; raises NotFound."""
        ...

    def save(self, record: T) -> T:
        """Write ``record`` if the stored version is still the one it was read at; the record as written.

        Raises StaleWrite when another write came between, NotFound when the record is gone.
        """
        ...


def update(repository: VersionedRepository[T], key: str, change: Callable[[T], T]) -> T:
    """Apply ``change`` to the record as stored and write the result; the record as written.

    When another write came between the read and ours, ``change`` runs again on a fresh read. A change
    that changes nothing writes nothing.
    """
    for _ in range(WRITE_ATTEMPTS):
        current = repository.get(key)
        changed = change(current)
        if changed == current:
            return current
        try:
            return repository.save(changed)
        except StaleWrite:
            continue
    raise StaleWrite("The record is being changed by another request; try again")
