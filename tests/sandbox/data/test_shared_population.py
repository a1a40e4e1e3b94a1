"""One population in two CRMs (the demo's): overlapping ranges of the same seed share their
persons, a `variant` gives them another history and another CRM's spelling of their contact
details, and `shared_contacts` gives a few a company mailbox or switchboard."""

from __future__ import annotations

import pytest

from sandbox.data.generate import generate
from sandbox.data.model import Interaction, Person, SurveyAnswer

SEED = 7


def _people(**options: object) -> dict[str, Person]:
    return {
        r.id: r
        for r in generate(SEED, 40, shared_contacts=True, **options)  # type: ignore[arg-type]
        if isinstance(r, Person)
    }


def _history(**options: object) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in generate(SEED, 40, **options):  # type: ignore[arg-type]
        if isinstance(r, Interaction | SurveyAnswer):
            found.setdefault(r.person_id, []).append(r.occurred_at.isoformat())
    return found


def test_overlapping_ranges_share_their_persons() -> None:
    first, second = _people(), _people(first=16, variant=1)
    assert sorted(first)[0] == "p0000000"
    assert sorted(second)[0] == "p0000016"
    shared = sorted(set(first) & set(second))
    assert len(shared) == 24
    for pid in shared:
        a, b = first[pid], second[pid]
        assert (a.first_name, a.last_name) == (b.first_name, b.last_name)
        assert a.company_id == b.company_id
        assert a.email.lower() == b.email.lower()
    # Another CRM's spelling: capitals in the e-mail; numbers in another form.
    assert any(first[p].email != second[p].email for p in shared)
    assert any(first[p].phone and first[p].phone != second[p].phone for p in shared)


def test_a_variant_is_another_history_of_the_same_persons() -> None:
    plain, variant = _history(), _history(variant=1)
    assert set(plain) & set(variant)
    assert any(plain[p] != variant.get(p) for p in plain)


def test_some_persons_give_a_company_mailbox() -> None:
    people = {r.id: r for r in generate(SEED, 400, shared_contacts=True) if isinstance(r, Person)}
    mailboxes = [p for p in people.values() if p.email.split("@")[0] in {"info", "sales",
                 "contact", "support", "hello"}]  # fmt: skip
    assert 4 <= len(mailboxes) <= 40


def test_first_must_start_a_block() -> None:
    with pytest.raises(ValueError, match="multiple of"):
        list(generate(SEED, 8, first=3))
