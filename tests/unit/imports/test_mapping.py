"""The survey import mapping: the shipped examples load, and every mistake is one line naming the
file, the line and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.imports.mapping import MappingError, QuestionKind, load_mapping

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples" / "surveys"

GOOD = """\
tool: acme
response_id:
  column: id
submitted_at:
  column: when
respondent:
  email: mail
questions:
  - name: nps
    kind: nps
    column: score
  - name: why
    kind: comment
    column: text
    about: nps
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.yaml")))
def test_every_example_mapping_loads(name: str) -> None:
    mapping = load_mapping(EXAMPLES / f"{name}.yaml")
    assert mapping.label == f"import:{mapping.tool}"
    assert any(q.kind is not QuestionKind.COMMENT for q in mapping.questions)


def test_a_good_mapping_reads_as_written(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, GOOD))
    assert mapping.response_id == ("id",)
    assert not mapping.response_id_hashed
    assert [q.name for q in mapping.questions] == ["nps", "why"]
    assert mapping.questions[1].about == "nps"
    assert mapping.questions[0].bounds == (0, 10)
    assert str(mapping.timezone) == "UTC"
    assert mapping.columns() == ["id", "when", "mail", "score", "text"]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # Schema errors: the line of the offending key.
        (("    kind: nps\n", "    kind: npx\n"), ":10: questions.0.kind: 'npx' is not one of"),
        (("tool: acme\n", "tool: Acme Corp\n"), ":1: tool: 'Acme Corp' does not match"),
        (("  email: mail\n", "  e-mail: mail\n"), ":6: respondent: Additional properties"),
        (("    column: score\n", "    column: score\n    scale: [1]\n"), ":12: questions.0.scale"),
        # What the schema cannot say, with the same form.
        (("    about: nps\n", "    about: csat\n"), ":15: questions.1.about: no score question"),
        (("  - name: why\n", "  - name: nps\n"), ":12: questions.1.name: 'nps' is used twice"),
        (
            ("    column: score\n", "    column: score\n    scale: [1, 5]\n"),
            ":12: questions.0.scale: NPS is defined on 0-10 only",
        ),
        (
            ("  column: when\n", "  column: when\n  timezone: Mars/Olympus\n"),
            ":6: submitted_at.timezone: unknown time zone 'Mars/Olympus'",
        ),
    ],
)
def test_mistakes_are_one_line_with_file_line_and_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    path = _write(tmp_path, GOOD.replace(*change, 1))
    with pytest.raises(MappingError) as raised:
        load_mapping(path)
    message = str(raised.value)
    assert message.startswith(str(path))
    assert expected in message
    assert "\n" not in message


def test_labels_must_be_on_the_scale(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  - name: why\n",
        "  - name: csat\n    kind: csat\n    column: sat\n    labels: {Great: 6}\n  - name: why\n",
    )
    with pytest.raises(MappingError, match=r":15: questions\.1\.labels: label 'Great' is 6"):
        load_mapping(_write(tmp_path, text))


def test_only_comments_is_not_enough(tmp_path: Path) -> None:
    text = GOOD.replace("    kind: nps\n", "    kind: comment\n").replace("    about: nps\n", "")
    with pytest.raises(MappingError, match="at least one NPS, CSAT or CES question"):
        load_mapping(_write(tmp_path, text))


def test_broken_yaml_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(MappingError, match=r":2: invalid YAML"):
        load_mapping(_write(tmp_path, "tool: a\n  bad: [\n"))
    with pytest.raises(MappingError, match=r":1: the file is empty"):
        load_mapping(_write(tmp_path, ""))
