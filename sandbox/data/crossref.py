"""The ids a generated person has in the systems beside the CRM, derived, never stored.

A Zalo Official Account knows its followers by a per-app user id (a decimal string of up to 19
digits: above 2^53, so it must stay a string end to end). The Zalo emulator gives a generated
person that id, and the CRM emulators keep the same value in the contact's Zalo field, as a shop
does once a customer has chatted with it: that is how cem-bridge knows the chat and the contact
are one person (`refs.zalo` in the CRM mappings, docs/identity.md). Derived from the seed and the
person's generator id alone, so every emulator agrees without sharing any state.
"""

from __future__ import annotations

from sandbox.data.seeding import rng_for

# Share of Vietnamese customers who follow the shop's Official Account (most Vietnamese
# smartphone users are on Zalo; not every customer follows the shop).
ZALO_FOLLOWER_SHARE = 0.8
# Zalo user ids seen in the wild are 16 to 19 digits; ours start at 10^18 so all are 19 long.
_ZALO_LOW, _ZALO_HIGH = 10**18, 9 * 10**18


def zalo_user_id(seed: int, person_id: str, country: str) -> str | None:
    """The person's user id at the sandbox's Official Account, or None (not a follower)."""
    if country != "VN":
        return None
    rng = rng_for(seed, "zalo", person_id)
    if rng.random() >= ZALO_FOLLOWER_SHARE:
        return None
    return str(rng.randrange(_ZALO_LOW, _ZALO_HIGH))
