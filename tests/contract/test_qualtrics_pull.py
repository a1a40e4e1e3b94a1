"""What the Qualtrics reader makes of the emulator's three surveys (the generator's answers):
every completed response, and only those, becomes the respondent, their score on the survey's
scale and their comment as a survey interaction; respondents carry e-mail, language and, once
the survey was sent from the CRM, their CRM contact id as `refs.hubspot`. Survey mappings are
checked with file:line errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.mapping import MappingError, load_mappings
from adapters.qualtrics.surveymap import survey_maps
from sandbox.data.generate import generate
from sandbox.data.model import Person
from sandbox.qualtrics.harness import QualtricsHarness
from service.domain import Customer, Interaction, SurveyResponse
from tests.contract.harness import SandboxAdmin

CUSTOMERS = 200
SCALES = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}


@pytest.fixture(scope="module")
def harness() -> Iterator[QualtricsHarness]:
    with QualtricsHarness(CUSTOMERS, 150) as running:
        yield running


def test_every_survey_pulls_its_completed_responses(harness: QualtricsHarness) -> None:
    truth = harness.emulator.truth()
    persons = {r.id: r for r in generate(seed=5, customers=CUSTOMERS) if isinstance(r, Person)}
    reader = harness.reader()
    assert {s.name for s in reader.streams()} == {t["surveyId"] for t in truth}
    for stream in reader.streams():
        batches = list(reader.pull(stream, None))
        records = [r for b in batches for r in b.records]
        assert not [x for b in batches for x in b.rejected]
        facts = {t["responseId"]: t for t in truth if t["surveyId"] == stream.name}
        answers = [r for r in records if isinstance(r, SurveyResponse)]
        assert answers
        done = {rid for rid, t in facts.items() if t["finished"]}
        assert {a.source.crm_id for a in answers if a.source} == done  # unfinished left out
        assert len(done) < len(facts), "the emulator records some unfinished responses"
        for answer in answers:
            fact = facts[answer.source.crm_id if answer.source else ""]
            assert answer.kind.value == fact["kind"]
            assert answer.value == fact["score"]
            assert answer.bounds == SCALES[fact["kind"]]
        comments = [r for r in records if isinstance(r, Interaction)]
        assert {c.source.crm_id for c in comments if c.source} == {
            rid for rid in done if facts[rid]["hasComment"]
        }
        assert all(c.channel.value == "survey" and c.text for c in comments)
        customers = {r.id: r for r in records if isinstance(r, Customer)}
        assert {a.customer_id for a in answers} <= set(customers)
        for rid in done:
            person = persons[facts[rid]["personId"]]
            match = [c for c in customers.values() if c.email == person.email]
            assert len(match) == 1
            assert match[0].language == facts[rid]["language"]
        languages = {c.language for c in customers.values()}
        assert {"vi", "en"} <= languages


def test_the_crm_contact_id_becomes_a_ref(harness: QualtricsHarness) -> None:
    truth = [t for t in harness.emulator.truth() if t["finished"] and t["kind"] == "nps"]
    person = truth[0]["personId"]
    admin = SandboxAdmin(harness.server)
    base = f"{harness.server.base_url}/__sandbox/qualtrics"
    admin._session().put(f"{base}/crm-ids", json={"ids": {person: "70123"}}).raise_for_status()
    records = [r for b in harness.reader().pull(harness.customer_stream(), None) for r in b.records]
    referred = [r for r in records if isinstance(r, Customer) and r.refs]
    assert [r.refs for r in referred] == [{"hubspot": "70123"}]


def test_a_response_is_read_by_id(harness: QualtricsHarness) -> None:
    rid = next(t["responseId"] for t in harness.emulator.truth() if t["finished"])
    survey = next(t["surveyId"] for t in harness.emulator.truth() if t["responseId"] == rid)
    reader = harness.reader()
    stream = next(s for s in reader.streams() if s.name == survey)
    found = reader.get(stream, [rid, "R_notthereatall1"])
    assert {type(r).__name__ for r in found} >= {"Customer", "SurveyResponse"}
    assert all(getattr(r, "source", None) for r in found)


def _copy(tmp_path: Path, name: str, edit: tuple[str, str]) -> Path:
    shipped = Path("adapters/mapping/shipped/qualtrics") / name
    folder = tmp_path / "qualtrics"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(shipped.read_text().replace(*edit))
    return tmp_path


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (('csat_scale: "1-5"', 'csat_scale: "5-1"'), r"csat\.yaml:10: constants\.csat_scale"),
        (
            ("  touchpoint: {crm: touchpoint}", "  mood: {crm: QID9}"),
            r"csat\.yaml:15: fields\.mood",
        ),
        (("csat: {crm: QID1, type: integer", "csat: {crm: QID1, type: string"), "fields.csat.type"),
        (("object: SV_cemCsatSupport1", "object: Support"), r"csat\.yaml:5: object"),
    ],
)
def test_a_bad_survey_mapping_names_file_and_line(
    tmp_path: Path, edit: tuple[str, str], problem: str
) -> None:
    directory = _copy(tmp_path, "csat.yaml", edit)
    mappings = load_mappings(directory)  # the shared schema accepts it ...
    with pytest.raises(MappingError, match=problem):  # ... the survey reading does not
        survey_maps(mappings.for_crm("qualtrics", "pull"))
