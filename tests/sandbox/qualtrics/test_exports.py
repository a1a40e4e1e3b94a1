"""The response export as Qualtrics runs it: start, several inProgress polls with no fileId,
complete with a fileId and continuation token, a zip holding one file; failed and forgotten
exports; filters on recordedDate; case-sensitive parameters; the envelope on every answer."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from typing import Any

import httpx

from sandbox.data.generate import generate
from sandbox.data.model import Person, SurveyAnswer
from sandbox.qualtrics.surveys import BY_KIND, nps_group
from tests.sandbox.qualtrics.conftest import CUSTOMERS, SEED, Brand

NPS = BY_KIND["nps"].id
CSAT = BY_KIND["csat"].id


def _run(
    api: httpx.Client, survey: str, body: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Start an export, poll until it is complete (checking every poll), download the file."""
    started = api.post(f"/surveys/{survey}/export-responses", json=body)
    assert started.status_code == 200, started.text
    result = started.json()["result"]
    assert result["status"] == "inProgress"
    assert result["progressId"].startswith("ES_")
    polls = []
    while True:
        answer = api.get(f"/surveys/{survey}/export-responses/{result['progressId']}").json()
        polls.append(answer["result"])
        if answer["result"]["status"] != "inProgress":
            break
    assert len(polls) >= 3, "several inProgress polls before complete"
    assert all(p["fileId"] is None for p in polls[:-1])
    done = polls[-1]
    assert done["status"] == "complete"
    assert done["fileId"]
    file = api.get(f"/surveys/{survey}/export-responses/{done['fileId']}/file")
    assert file.status_code == 200
    return _parse(file.content, body), done


def _parse(content: bytes, body: dict[str, Any]) -> list[dict[str, Any]]:
    if body.get("compress", True):
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            assert len(archive.namelist()) == 1
            content = archive.read(archive.namelist()[0])
    if body["format"] == "json":
        parsed: list[dict[str, Any]] = json.loads(content)["responses"]
        return parsed
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert json.loads(rows[2][0]) == {"ImportId": "responseId"}  # the third header row
    return [
        {"responseId": r[0], "values": dict(zip(rows[0][1:], r[1:], strict=True))} for r in rows[3:]
    ]


def _answers() -> tuple[dict[str, Person], list[SurveyAnswer]]:
    persons: dict[str, Person] = {}
    answers: list[SurveyAnswer] = []
    for record in generate(seed=SEED, customers=CUSTOMERS):
        if isinstance(record, Person):
            persons[record.id] = record
        elif isinstance(record, SurveyAnswer):
            answers.append(record)
    return persons, answers


def test_an_export_holds_the_generators_answers_as_flat_qid_records(brand: Brand) -> None:
    persons, answers = _answers()
    with brand.api() as api:
        rows, done = _run(api, NPS, {"format": "json"})
    nps = [a for a in answers if a.kind == "nps"]
    assert len(rows) == len(nps)
    truth = {t["responseId"]: t for t in brand.emulator.truth()}
    for row in rows:
        values = row["values"]
        fact = truth[row["responseId"]]
        assert values["_recordId"] == row["responseId"]
        assert values["finished"] in (0, 1)
        assert values["finished"] == int(fact["finished"])
        assert values["QID1"] == fact["score"]
        assert values["QID1_NPS_GROUP"] == nps_group(fact["score"])
        assert row["labels"]["QID1_NPS_GROUP"] in ("Detractor", "Passive", "Promoter")
        assert values["email"] == persons[fact["personId"]].email
        assert values["recordedDate"].endswith("Z")
        assert values["distributionChannel"] == "email"
        assert values["userLanguage"] in ("EN", "VI", "ZH-S", "ET")
        assert row["displayedValues"]["QID1"] == list(range(11))
    with_text = [r for r in rows if "QID2_TEXT" in r["values"]]
    assert with_text
    assert {r["values"]["userLanguage"] for r in with_text} >= {"EN", "VI"}
    assert "continuationToken" not in done  # not asked for


def test_labels_csv_and_uncompressed_files(brand: Brand) -> None:
    with brand.api() as api:
        labelled, _ = _run(api, CSAT, {"format": "json", "useLabels": True, "compress": False})
        plain, _ = _run(api, CSAT, {"format": "csv"})
    assert {r["values"]["QID1"] for r in labelled} <= {
        "Very dissatisfied", "Dissatisfied", "Neither satisfied nor dissatisfied", "Satisfied",
        "Very satisfied",
    }  # fmt: skip
    assert {r["values"]["QID1"] for r in plain} <= {"1", "2", "3", "4", "5"}
    assert {r["responseId"] for r in labelled} == {r["responseId"] for r in plain}


def test_start_and_end_date_filter_on_recorded_date(brand: Brand) -> None:
    with brand.api() as api:
        everything, _ = _run(api, NPS, {"format": "json"})
        stamps = sorted(r["values"]["recordedDate"] for r in everything)
        middle = stamps[len(stamps) // 2]
        later, _ = _run(api, NPS, {"format": "json", "startDate": middle})
        earlier, _ = _run(api, NPS, {"format": "json", "endDate": middle})
    assert {r["values"]["recordedDate"] for r in later} == {s for s in stamps if s >= middle}
    assert len(later) + len(earlier) == len(everything)


def test_a_continuation_token_exports_only_newer_responses(brand: Brand) -> None:
    with brand.api() as api:
        first, done = _run(api, NPS, {"format": "json", "allowContinuation": True})
        token = done["continuationToken"]
        again, _ = _run(api, NPS, {"format": "json", "continuationToken": token})
        assert again == []
        created = api.post(f"/surveys/{NPS}/responses", json={"values": {"QID1": 3}})
        rid = created.json()["result"]["responseId"]
        newer, _ = _run(api, NPS, {"format": "json", "continuationToken": token})
        assert [r["responseId"] for r in newer] == [rid]
        bad = api.post(
            f"/surveys/{NPS}/export-responses", json={"format": "json", "continuationToken": "nope"}
        )
        assert bad.status_code == 400
        brand.emulator.delete_response(NPS, rid)
    assert first


def test_failed_and_forgotten_exports(brand: Brand) -> None:
    with brand.api() as api, brand.admin() as admin:
        assert admin.post("/exports/fail", json={"count": 1}).status_code == 200
        pid = api.post(f"/surveys/{NPS}/export-responses", json={"format": "json"}).json()[
            "result"
        ]["progressId"]
        statuses = [
            api.get(f"/surveys/{NPS}/export-responses/{pid}").json()["result"]["status"]
            for _ in range(4)
        ]
        assert statuses[-1] == "failed"
        assert statuses[0] == "inProgress"
        missing = api.get(f"/surveys/{NPS}/export-responses/ES_unknownunknown1")
        assert missing.status_code == 404
        meta = missing.json()["meta"]
        assert meta["httpStatus"] == "404 - Not Found"
        assert meta["requestId"]
        assert meta["error"]["errorMessage"]
        assert admin.post("/exports/expire").json()["expired"] >= 1
        assert api.get(f"/surveys/{NPS}/export-responses/{pid}").status_code == 404


def test_parameter_names_are_case_sensitive(brand: Brand) -> None:
    with brand.api() as api:
        wrong = api.post(f"/surveys/{NPS}/export-responses", json={"Format": "json"})
        assert wrong.status_code == 400
        error = wrong.json()["meta"]["error"]
        assert error["errorMessage"].startswith("Missing or invalid parameter")
        assert (
            api.post(f"/surveys/{NPS}/export-responses", json={"format": "xml"}).status_code == 400
        )
        assert api.get(f"/surveys/{NPS}", params={"Offset": "1"}).status_code == 400
        assert api.get("/surveys", params={"offset": "0"}).status_code == 200


def test_every_answer_has_the_envelope_and_auth_is_checked(brand: Brand) -> None:
    with brand.api() as api:
        fine = api.get(f"/survey-definitions/{NPS}").json()
        assert fine["meta"]["httpStatus"] == "200 - OK"
        assert fine["meta"]["requestId"]
        qid1 = fine["result"]["Questions"]["QID1"]
        assert (qid1["QuestionType"], qid1["Selector"]) == ("MC", "NPS")
        assert qid1["RecodeValues"]["1"] == "0"
        assert len(qid1["Choices"]) == 11
    with brand.api(token="wrong") as api:
        refused = api.get("/surveys")
        assert refused.status_code == 401
        assert refused.json()["meta"]["httpStatus"] == "401 - Unauthorized"


def test_a_single_response_reads_as_in_the_export(brand: Brand) -> None:
    with brand.api() as api:
        rows, _ = _run(api, NPS, {"format": "json"})
        one = api.get(f"/surveys/{NPS}/responses/{rows[0]['responseId']}").json()["result"]
        assert one == rows[0]
        assert api.get(f"/surveys/{NPS}/responses/R_notthereatall1").status_code == 404


def test_the_crm_ids_go_into_the_embedded_data(brand: Brand) -> None:
    persons, answers = _answers()
    person = next(a.person_id for a in answers if a.kind == "nps")
    with brand.admin() as admin:
        assert admin.put("/crm-ids", json={"ids": {person: "90001"}}).json()["changed"] >= 1
    with brand.api() as api:
        rows, _ = _run(api, NPS, {"format": "json"})
    carrying = [r for r in rows if r["values"].get("crm_contact_id") == "90001"]
    assert carrying
    assert all(r["values"]["email"] == persons[person].email for r in carrying)
