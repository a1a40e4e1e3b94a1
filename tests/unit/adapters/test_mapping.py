"""Mappings: the shipped files load; a mistake names file, line and field; values coerce."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from adapters.mapping import CoercionError, MappingError, coerce, load_mappings
from adapters.mapping.loader import DEFAULT_DIR
from adapters.registry import check_mappings

GOOD = """\
crm: hubspot
object: contacts
canonical: customer
direction: pull
modified_field: lastmodifieddate
fields:
  id: {crm: hs_object_id, required: true}
  email: {crm: email}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_shipped_mapping_loads() -> None:
    mappings = load_mappings()
    for crm in ("salesforce", "hubspot"):
        assert mappings.for_crm(crm, "pull"), crm
        push = mappings.for_crm(crm, "push")
        assert len(push) == 1
        assert push[0].external_id_field
        owned = {f.canonical for f in push[0].fields}
        assert {"experience_score", "churn_flag", "next_best_action", "scored_at"} <= owned
    assert mappings.get("salesforce", "Contact").modified_field == "SystemModstamp"


def test_user_directory_without_schema_uses_the_shipped_one(tmp_path: Path) -> None:
    write(tmp_path, "contacts.yaml", GOOD)
    loaded = load_mappings(tmp_path)
    assert loaded.get("hubspot", "contacts").crm_fields() == [
        "hs_object_id",
        "email",
        "lastmodifieddate",
    ]


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        (
            GOOD.replace("email: {crm: email}", "email: {crm: email, type: strng}"),
            8,
            "fields.email.type",
        ),
        (GOOD.replace("crm: hubspot", "crm: Pipe Drive"), 1, "crm: 'Pipe Drive' does not match"),
        (
            GOOD.replace("modified_field: lastmodifieddate\n", ""),
            1,
            "'modified_field' is a required",
        ),
        (GOOD + "  name: {from: firstname}\n", 9, "fields.name"),
        (GOOD + "  status: {crm: s, type: enum}\n", 9, "'values' is a required property"),
    ],
)
def test_invalid_mapping_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, fragment: str
) -> None:
    path = write(tmp_path, "contacts.yaml", text)
    with pytest.raises(MappingError) as caught:
        load_mappings(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            GOOD.replace("crm: hubspot", "crm: pipedrive"),
            "crm: 'pipedrive' is not a registered connector",
        ),
        # A SOQL filter has no meaning for HubSpot: its connector declares no pull condition.
        (GOOD + 'where: "x = 1"\n', "where: HubSpot pulls take no condition"),
    ],
)
def test_a_mapping_no_connector_can_use_is_refused(
    tmp_path: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, "contacts.yaml", text)
    with pytest.raises(MappingError) as caught:
        check_mappings(load_mappings(tmp_path))
    assert str(caught.value).startswith(f"{path}:1: {fragment}"), str(caught.value)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "bad.yaml", GOOD.replace("  email: {crm: email}", "  email: {crm: email")
    )
    with pytest.raises(MappingError, match=rf"^{path}:\d+: invalid YAML"):
        load_mappings(tmp_path)


def test_the_same_object_mapped_twice_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    write(tmp_path, "b.yaml", GOOD)
    with pytest.raises(MappingError, match="is also mapped in"):
        load_mappings(tmp_path)


def test_missing_directory_points_at_the_setting(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match="CEM_MAPPINGS_DIR"):
        load_mappings(tmp_path / "nope")


def test_schema_ships_next_to_the_mappings() -> None:
    assert (DEFAULT_DIR / "schema.json").is_file()


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("2026-03-01T12:30:00.000+0000", "datetime", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-03-01T12:30:00Z", "datetime", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("1772368200000", "datetime", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        (1772368200000, "epoch_ms", datetime(2026, 3, 1, 12, 30, tzinfo=UTC)),
        ("2026-03-01", "date", date(2026, 3, 1)),
        ("42", "integer", 42),
        ("42.0", "integer", 42),
        ("9.5", "number", 9.5),
        (7, "number", 7.0),
        ("true", "boolean", True),
        ("false", "boolean", False),
        (True, "boolean", True),
        (123, "string", "123"),
        ("", "number", None),
        (None, "datetime", None),
        ("", "string", ""),
    ],
)
def test_coercion(value: object, kind: str, expected: object) -> None:
    assert coerce(value, kind) == expected


def test_value_maps() -> None:
    values = {"Closed Won": "won", "Closed Lost": "lost"}
    assert coerce("Closed Won", "enum", values) == "won"
    with pytest.raises(CoercionError, match="not in the mapping's value map"):
        coerce("Stalled", "enum", values)


@pytest.mark.parametrize(
    ("value", "kind"), [("abc", "number"), ("maybe", "boolean"), ("zzz-secret", "datetime")]
)
def test_bad_values_fail_without_echoing_them(value: str, kind: str) -> None:
    with pytest.raises(CoercionError) as caught:
        coerce(value, kind)
    assert value not in str(caught.value)
