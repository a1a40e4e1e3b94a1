"""Arbitrary JSON bodies, ids and query strings: a HubSpot-shaped 4xx or a success, never a 500."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.sandbox.hubspot.conftest import TOKEN, Served

_SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | st.text(max_size=8)
)
JSON = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
# Bodies shaped like the real ones, with arbitrary values inside, reach deeper than pure noise.
SHAPED = st.fixed_dictionaries(
    {},
    optional={
        "properties": JSON,
        "inputs": st.lists(JSON, max_size=3),
        "filterGroups": st.lists(
            st.fixed_dictionaries({"filters": st.lists(JSON, max_size=3)}), max_size=2
        ),
        "sorts": JSON,
        "limit": JSON,
        "after": JSON,
        "associations": JSON,
        "idProperty": JSON,
        "name": JSON,
        "type": JSON,
        "fieldType": JSON,
        "groupName": JSON,
    },
)
ENDPOINTS = (
    ("POST", "/crm/v3/objects/contacts"),
    ("POST", "/crm/v3/objects/tasks"),
    ("POST", "/crm/v3/objects/contacts/search"),
    ("POST", "/crm/v3/objects/contacts/batch/create"),
    ("POST", "/crm/v3/objects/contacts/batch/read"),
    ("POST", "/crm/v3/objects/contacts/batch/update"),
    ("POST", "/crm/v3/objects/contacts/batch/upsert"),
    ("POST", "/crm/v3/objects/deals/batch/archive"),
    ("POST", "/crm/v3/properties/contacts"),
    ("POST", "/crm/v3/properties/contacts/groups"),
    ("POST", "/crm/v4/associations/contacts/companies/batch/create"),
    ("POST", "/crm/v4/associations/contacts/companies/batch/read"),
    ("PUT", "/crm/v4/objects/contacts/1/associations/companies/2"),
    ("POST", "/crm/v3/objects/contacts/gdpr-delete"),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(endpoint=st.sampled_from(ENDPOINTS), body=JSON | SHAPED)
@example(
    endpoint=("POST", "/crm/v3/objects/contacts/batch/read"),
    body={"idProperty": ["email"], "inputs": [{"id": ["x"]}]},
)
def test_any_json_gets_an_answer_in_hubspot_shape(
    hs: Served, endpoint: tuple[str, str], body: Any
) -> None:
    method, path = endpoint
    answer = requests.request(
        method,
        f"{hs.url}{path}",
        data=json.dumps(body),  # NaN and Infinity included: Python's json module writes them
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        error = answer.json()
        assert error["status"] == "error"
        assert error["category"]
        assert error["message"]
        assert error["correlationId"]


_TEXT = st.text(max_size=12)
GETS = (
    "/crm/v3/objects/contacts",
    "/crm/v3/objects/contacts/{id}",
    "/crm/v3/objects/{id}",
    "/crm/v4/objects/contacts/{id}/associations/companies",
    "/crm/v3/owners/{id}",
    "/crm/v3/properties/contacts/{id}",
    "/crm/v3/pipelines/tickets/{id}/stages",
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    path=st.sampled_from(GETS),
    record_id=_TEXT,
    params=st.dictionaries(
        st.sampled_from(["limit", "after", "archived", "properties", "idProperty", "associations"]),
        _TEXT,
    ),
)
def test_any_query_or_id_gets_an_answer_in_hubspot_shape(
    hs: Served, path: str, record_id: str, params: dict[str, str]
) -> None:
    answer = requests.get(
        f"{hs.url}{path.format(id=quote(record_id, safe='') or '0')}",
        params=params,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        assert answer.json()["category"]
