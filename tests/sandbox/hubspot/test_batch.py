"""Batch endpoints through the real client: limits, 201/200/207 and all-or-nothing creates."""

from __future__ import annotations

import json

import pytest
from hubspot import HubSpot
from hubspot.crm.contacts import (
    ApiException,
    BatchInputSimplePublicObjectBatchInput,
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    BatchInputSimplePublicObjectId,
    BatchReadInputSimplePublicObjectId,
)
from hubspot.crm.properties import PropertyCreate

from tests.sandbox.hubspot.conftest import Served


def _creates(n: int, trace: bool = False) -> BatchInputSimplePublicObjectBatchInputForCreate:
    return BatchInputSimplePublicObjectBatchInputForCreate(
        inputs=[
            {
                "properties": {"email": f"p{i}@example.com", "firstname": f"P{i}"},
                **({"objectWriteTraceId": f"t{i}"} if trace else {}),
            }
            for i in range(n)
        ]
    )


def test_101_inputs_is_the_batch_limit_error_and_writes_nothing(
    hs: Served, client: HubSpot
) -> None:
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.batch_api.create(_creates(101))
    assert raised.value.status == 400
    body = json.loads(raised.value.body)
    assert body["category"] == "VALIDATION_ERROR"
    assert "100" in body["message"]
    assert body["correlationId"]
    assert hs.emu.store.table("contacts").objects == {}

    done = client.crm.contacts.batch_api.create(_creates(100))
    assert done is not None
    assert done.status == "COMPLETE"
    assert len(done.results) == 100


def test_batch_read_missing_ids_is_207_with_their_ids(client: HubSpot) -> None:
    made = client.crm.contacts.batch_api.create(_creates(3))
    ids = [r.id for r in made.results]
    read = client.crm.contacts.batch_api.read(
        BatchReadInputSimplePublicObjectId(
            inputs=[{"id": i} for i in [*ids, "424242"]], properties=["email"]
        )
    )
    assert type(read).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert sorted(r.id for r in read.results) == sorted(ids)
    assert read.num_errors == 1
    assert read.errors[0].context == {"ids": ["424242"]}
    assert read.errors[0].category == "OBJECT_NOT_FOUND"


def test_create_is_all_or_nothing_without_trace_ids(hs: Served, client: HubSpot) -> None:
    client.crm.contacts.basic_api.create({"properties": {"email": "p1@example.com"}})
    with pytest.raises(ApiException) as raised:
        client.crm.contacts.batch_api.create(_creates(3))
    assert raised.value.status == 409
    assert len(hs.emu.store.table("contacts").objects) == 1


def test_create_with_trace_ids_is_207_partial(hs: Served, client: HubSpot) -> None:
    client.crm.contacts.basic_api.create({"properties": {"email": "p1@example.com"}})
    partial = client.crm.contacts.batch_api.create(_creates(3, trace=True))
    assert type(partial).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert sorted(r.object_write_trace_id for r in partial.results) == ["t0", "t2"]
    assert partial.errors[0].category == "CONFLICT"
    assert partial.errors[0].context["objectWriteTraceId"] == ["t1"]
    assert len(hs.emu.store.table("contacts").objects) == 3


def test_batch_update_and_archive(client: HubSpot) -> None:
    made = client.crm.contacts.batch_api.create(_creates(2))
    ids = [r.id for r in made.results]
    updated = client.crm.contacts.batch_api.update(
        BatchInputSimplePublicObjectBatchInput(
            inputs=[{"id": i, "properties": {"lastname": "Tran"}} for i in [*ids, "999999"]]
        )
    )
    assert type(updated).__name__ == "BatchResponseSimplePublicObjectWithErrors"
    assert {r.properties["lastname"] for r in updated.results} == {"Tran"}
    assert updated.errors[0].context["ids"] == ["999999"]

    client.crm.contacts.batch_api.archive(BatchInputSimplePublicObjectId(inputs=[{"id": ids[0]}]))
    assert [c.id for c in client.crm.contacts.get_all()] == [ids[1]]


def test_upsert_by_unique_property_creates_then_updates(hs: Served, client: HubSpot) -> None:
    client.crm.properties.core_api.create(
        "contacts",
        PropertyCreate(
            name="cx_id",
            label="CX id",
            type="string",
            field_type="text",
            group_name="contactinformation",
            has_unique_value=True,
        ),
    )

    def upsert(score: str) -> list[tuple[str, bool, str]]:
        result = client.crm.contacts.batch_api.upsert(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    {"id": f"cx-{i}", "idProperty": "cx_id", "properties": {"jobtitle": score}}
                    for i in range(3)
                ]
            )
        )
        assert result is not None
        assert type(result).__name__ == "BatchResponseSimplePublicUpsertObject"
        return sorted((r.properties["cx_id"], r.new, r.id) for r in result.results)

    first = upsert("a")
    second = upsert("b")

    assert [new for _, new, _ in first] == [True, True, True]
    assert [new for _, new, _ in second] == [False, False, False]
    assert [i for *_, i in first] == [i for *_, i in second]  # same records, updated in place
    assert len(hs.emu.store.table("contacts").objects) == 3
    one = client.crm.contacts.basic_api.get_by_id(
        "cx-1", id_property="cx_id", properties=["jobtitle"]
    )
    assert one.properties["jobtitle"] == "b"


def test_upsert_by_email_and_a_non_unique_id_property_is_rejected(client: HubSpot) -> None:
    existing = client.crm.contacts.basic_api.create({"properties": {"email": "lan@example.vn"}})
    result = client.crm.contacts.batch_api.upsert(
        BatchInputSimplePublicObjectBatchInputUpsert(
            inputs=[
                {"id": "LAN@example.vn", "idProperty": "email", "properties": {"firstname": "Lan"}},
                {
                    "id": "minh@example.vn",
                    "idProperty": "email",
                    "properties": {"firstname": "Minh"},
                },
            ]
        )
    )
    by_email = {r.properties["email"]: r for r in result.results}
    assert by_email["lan@example.vn"].id == existing.id
    assert by_email["lan@example.vn"].new is False
    assert by_email["minh@example.vn"].new is True

    with pytest.raises(ApiException) as raised:
        client.crm.contacts.batch_api.upsert(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[{"id": "Lan", "idProperty": "firstname", "properties": {}}]
            )
        )
    assert raised.value.status == 400


def test_concurrent_creates_of_one_email_make_exactly_one_contact(hs: Served) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def attempt(_: int) -> int:
        api = hs.client().crm.contacts.basic_api
        try:
            api.create({"properties": {"email": "race@example.com"}})
        except ApiException as error:
            return int(error.status)
        return 201

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(attempt, range(16)))

    assert statuses == [201] + [409] * 15
    assert len(hs.emu.store.table("contacts").objects) == 1
