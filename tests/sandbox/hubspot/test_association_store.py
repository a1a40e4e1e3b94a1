"""The association store's compact slots: one target, many targets, removal, hard delete."""

from __future__ import annotations

from sandbox.hubspot.associations import AssociationChange, AssociationStore
from sandbox.hubspot.objecttypes import OBJECT_TYPES

CONTACT, NOTE, COMPANY = OBJECT_TYPES["contacts"], OBJECT_TYPES["notes"], OBJECT_TYPES["companies"]


def test_targets_stay_right_as_slots_grow_and_shrink() -> None:
    store = AssociationStore()
    for note in (11, 12, 13):
        store.add(NOTE, note, CONTACT, 1, 202)
    store.add(CONTACT, 1, COMPANY, 7, 1)
    store.add(CONTACT, 1, COMPANY, 7, 279)

    assert store.targets(CONTACT, 1, NOTE) == {11: (201,), 12: (201,), 13: (201,)}
    assert store.targets(NOTE, 12, CONTACT) == {1: (202,)}
    assert store.targets(COMPANY, 7, CONTACT) == {1: (2, 280)}

    assert store.remove(CONTACT, 1, NOTE, 12) is True
    assert store.remove(CONTACT, 1, NOTE, 12) is False
    assert store.targets(NOTE, 12, CONTACT) == {}
    assert sorted(store.targets(CONTACT, 1, NOTE)) == [11, 13]

    store.forget(CONTACT, 1)
    assert store.targets(NOTE, 11, CONTACT) == {}
    assert store.targets(COMPANY, 7, CONTACT) == {}
    assert store.targets(CONTACT, 1, NOTE) == {}


def test_only_new_associations_notify_and_quiet_adds_never_do() -> None:
    store = AssociationStore()
    seen: list[AssociationChange] = []
    store.listeners.append(seen.append)
    store.add(CONTACT, 1, COMPANY, 7, 1)
    store.add(CONTACT, 1, COMPANY, 7, 1)  # already there
    store.add(CONTACT, 2, COMPANY, 7, 1, notify=False)
    store.remove(CONTACT, 1, COMPANY, 7)
    assert [(c.from_id, c.to_id, c.kind.type_id, c.removed) for c in seen] == [
        (1, 7, 1, False),
        (1, 7, 1, True),
    ]
