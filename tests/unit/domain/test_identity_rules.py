"""The identity graph's matching rules (service/domain/identity.py): what links and what not."""

from __future__ import annotations

import pytest

from service.domain import Customer
from service.domain.identity import (
    AUTO_LINK_THRESHOLD,
    CONFIDENCE,
    IdentityKeys,
    Rule,
    email_key,
    identity_keys,
    judge,
    own_ref_keys,
    phone_key,
    ref_key,
    region_of,
    value_hash,
)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("  Ann.Lee@Example.COM ", "ann.lee@example.com"),
        ("A.Lee+shop@googlemail.com", "alee@gmail.com"),
        ("a.lee+x@example.com", "a.lee+x@example.com"),  # only Gmail's documented rules apply
        ("info@shop.vn", None),
        ("Support-Team@shop.vn", None),
        ("noreply@shop.vn", None),
        ("sales.de@shop.de", None),
        ("not-an-address", None),
        ("two@at@signs.com", None),
        ("no@tld", None),
        ("", None),
        (None, None),
    ],
)
def test_email_key(raw: str | None, key: str | None) -> None:
    assert email_key(raw) == key


def test_names_that_start_like_a_role_are_people() -> None:
    assert email_key("infante@example.com") == "infante@example.com"
    assert email_key("salesman.joe@example.com") == "salesman.joe@example.com"


@pytest.mark.parametrize(
    ("raw", "region", "key"),
    [
        ("+84 90 123 4567", None, "+84901234567"),
        ("090 123 4567", "VN", "+84901234567"),
        ("0084-90-123-4567", None, None),  # a 00 prefix is national dialling, not E.164
        ("(020) 7946 0000", "GB", "+442079460000"),
        ("020 7946 0000", None, None),  # national, and no region to read it in
        ("+44 20 7946 000", None, None),  # too short: invalid
        ("ext. 123", None, None),
        ("", "VN", None),
    ],
)
def test_phone_key(raw: str, region: str | None, key: str | None) -> None:
    assert phone_key(raw, region) == key


@pytest.mark.parametrize(
    ("locale", "region"),
    [("vi_VN", "VN"), ("en-GB", "GB"), ("zh-Hant-TW", "TW"), ("et_EE.UTF-8", "EE"),
     ("vi", "VN"), ("en", None), (None, None)],
)  # fmt: skip
def test_region_of(locale: str | None, region: str | None) -> None:
    assert region_of(locale) == region


def test_bounced_addresses_are_not_verified() -> None:
    ann = Customer(id="1", email="ann@example.com", phone="+84 90 123 4567")
    assert identity_keys(ann) == IdentityKeys("ann@example.com", "+84901234567")
    bounced = ann.model_copy(update={"attributes": {"email_bounced": True}})
    assert identity_keys(bounced) == IdentityKeys(None, "+84901234567")


def test_the_email_decides_and_a_phone_alone_does_not_link() -> None:
    both = IdentityKeys("ann@example.com", "+84901234567")
    assert judge(both, {"p1"}, {"p1"}) is not None
    person, evidence = judge(both, {"p1"}, {"p1"})  # type: ignore[misc]
    assert (person, evidence.rule, evidence.confidence) == ("p1", Rule.EMAIL_AND_PHONE, 0.99)
    _, evidence = judge(both, {"p1"}, {"p2"})  # type: ignore[misc]
    assert evidence.rule is Rule.EMAIL  # the phone points elsewhere: the e-mail still decides
    assert judge(both, set(), {"p1"}) is None  # phone only: below the threshold
    assert CONFIDENCE[Rule.PHONE] < AUTO_LINK_THRESHOLD <= CONFIDENCE[Rule.EMAIL]
    assert judge(both, {"p1", "p2"}, set()) is None  # ambiguous
    assert judge(IdentityKeys(None, "+84901234567"), set(), {"p1"}) is None


def test_the_log_keeps_a_hash() -> None:
    hashed = value_hash(Rule.EMAIL, "ann@example.com")
    assert len(hashed) == 64
    assert "ann" not in hashed
    assert hashed != value_hash(Rule.EMAIL, "bob@example.com")


def test_a_reference_decides_before_the_email_and_a_disagreement_links_no_one() -> None:
    keys = IdentityKeys("lan@example.vn", None, frozenset({"zalo:42"}))
    person, evidence = judge(keys, {"p1"}, set(), {"p1": "zalo:42"})  # type: ignore[misc]
    assert (person, evidence.rule, evidence.confidence) == ("p1", Rule.REF, 0.98)
    assert judge(keys, {"p2"}, set(), {"p1": "zalo:42"}) is None  # e-mail and ref disagree
    assert judge(keys, set(), set(), {"p1": "zalo:42", "p2": "zalo:42"}) is None
    # No e-mail match at all: the reference alone links.
    assert judge(IdentityKeys(refs=frozenset({"zalo:42"})), set(), set(), {"p3": "zalo:42"})


def test_refs_are_keyed_by_system_lower_cased_and_the_id_as_written() -> None:
    customer = Customer(id="101", refs={"Zalo": " 7403916482001573992 ", "hubspot": "AbC"})
    assert identity_keys(customer).refs == {"zalo:7403916482001573992", "hubspot:AbC"}
    assert own_ref_keys("shop-oa", "zalo", "9") == {"shop-oa:9", "zalo:9"}
    assert ref_key("HubSpot", "AbC") != ref_key("hubspot", "abc")
