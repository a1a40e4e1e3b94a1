"""Signatures against the client library's own implementation, and the CLI's credentials."""

from __future__ import annotations

from hubspot.utils.signature import Signature

from sandbox.hubspot.app import create_app, emulator_of
from sandbox.hubspot.config import HubSpotConfig
from sandbox.hubspot.signature import decode_uri, sign_v1, sign_v2, sign_v3

BODY = '[{"eventId":1,"objectId":42}]'


def test_v3_hashes_the_decoded_uri_like_the_published_algorithm() -> None:
    raw = "https://hooks.example.com/h%3Fx?next=%2Fa%2fb&who=%40me%2C%20you"
    decoded = "https://hooks.example.com/h?x?next=/a/b&who=@me,%20you"
    assert decode_uri(raw) == decoded  # %20 is not in HubSpot's list and stays
    expected = Signature.get_signature("s3cret", BODY, "v3", decoded, "POST", "1700000000000")
    assert sign_v3("s3cret", "POST", raw, BODY, 1_700_000_000_000) == expected
    assert sign_v3("other", "POST", raw, BODY, 1_700_000_000_000) != expected


def test_v1_and_v2_match_the_published_algorithm() -> None:
    uri = "https://hooks.example.com/h?x=1"
    assert sign_v1("s3cret", BODY) == Signature.get_signature("s3cret", BODY, "v1")
    assert sign_v2("s3cret", "POST", uri, BODY) == Signature.get_signature(
        "s3cret", BODY, "v2", uri, "POST"
    )


def test_credentials_for_the_cli_and_no_secret_in_reprs() -> None:
    config = HubSpotConfig(access_token="pat-na1-secret-value")
    app = create_app(config)
    emulator = emulator_of(app)
    creds = emulator.credentials("http://127.0.0.1:9999")
    assert creds["access_token"] == "pat-na1-secret-value"
    assert creds["oauth"]["token_url"] == "http://127.0.0.1:9999/oauth/2026-03/token"
    assert "pat-na1-secret-value" not in repr(config)
    assert "pat-na1-secret-value" not in repr(emulator.tokens)
