"""18-character ids: checksum, normalisation, prefixes."""

from __future__ import annotations

import pytest

from sandbox.salesforce.ids import IdFactory, MalformedIdError, checksum, looks_like_id, to_18


def test_checksum_matches_the_documented_example() -> None:
    # The example id from Salesforce's knowledge article on 15/18-character ids.
    assert checksum("0015000000Gv7qJ") == "AAR"
    assert to_18("0015000000Gv7qJ") == "0015000000Gv7qJAAR"


def test_suffix_is_case_insensitive_but_must_match() -> None:
    assert to_18("0015000000Gv7qJaar") == "0015000000Gv7qJAAR"
    with pytest.raises(MalformedIdError):
        to_18("0015000000Gv7qJAAA")
    for bad in ("", "003", "0015000000Gv7q!", "0015000000Gv7qJAARX"):
        assert not looks_like_id(bad)


def test_factory_ids_are_valid_prefixed_and_increasing() -> None:
    factory = IdFactory()
    ids = [factory.new("003") for _ in range(100)] + [factory.new("001")]
    assert all(len(i) == 18 and to_18(i) == i for i in ids)
    assert all(i.startswith("003") for i in ids[:100])
    assert ids[100].startswith("001")
    assert ids[:100] == sorted(ids[:100])
    assert len(set(ids)) == len(ids)
