"""The sandbox brand's three surveys (NPS, CSAT, CES), as Qualtrics defines questions.

Each has the metric question `QID1` and the free-text reason `QID2`, and declares the embedded
data fields the distribution fills (`email`, `crm_contact_id`, `touchpoint`). The definitions
follow the survey-definition shape: `QuestionType` / `Selector` (an NPS question is `MC` with
selector `NPS` and 11 choices 0-10), `Choices`, `ChoiceOrder`, `RecodeValues` (choice id -> the
code an export carries), `DataExportTag` (README.md, sources there).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Embedded data the distribution sets on every response: the respondent's e-mail (as the CRM
# holds it), their CRM contact id when the survey was sent from the CRM, and the touchpoint.
EMBEDDED_FIELDS = ("email", "crm_contact_id", "touchpoint")

# Qualtrics `userLanguage` codes of the generator's languages (Qualtrics writes Simplified
# Chinese as ZH-S).
USER_LANGUAGE = {"en": "EN", "vi": "VI", "zh": "ZH-S", "et": "ET"}

_LABELS = {
    "csat": (
        "Very dissatisfied",
        "Dissatisfied",
        "Neither satisfied nor dissatisfied",
        "Satisfied",
        "Very satisfied",
    ),
    "ces": (
        "Very difficult",
        "Difficult",
        "Somewhat difficult",
        "Neither easy nor difficult",
        "Somewhat easy",
        "Easy",
        "Very easy",
    ),
}


@dataclass(frozen=True)
class Survey:
    """One survey: its id, name, metric kind and answer scale."""

    id: str
    name: str
    kind: str  # nps | csat | ces
    low: int
    high: int
    question: str

    def choice_text(self, score: int) -> str:
        """The label a respondent clicked for `score` (what `useLabels` exports)."""
        if self.kind == "nps":
            return str(score)
        return _LABELS[self.kind][score - self.low]

    def definition(self) -> dict[str, Any]:
        """`GET /survey-definitions/{id}`'s result."""
        scores = list(range(self.low, self.high + 1))
        # Choice ids are 1..n; the recode is the score (NPS: choice 1 -> 0, ... 11 -> 10).
        choices = {str(i + 1): {"Display": self.choice_text(s)} for i, s in enumerate(scores)}
        metric: dict[str, Any] = {
            "QuestionID": "QID1",
            "QuestionText": self.question,
            "DataExportTag": "Q1",
            "QuestionType": "MC",
            "Selector": "NPS" if self.kind == "nps" else "SAVR",
            "SubSelector": "TX",
            "Choices": choices,
            "ChoiceOrder": [int(c) for c in choices],
            "RecodeValues": {str(i + 1): str(s) for i, s in enumerate(scores)},
        }
        reason = {
            "QuestionID": "QID2",
            "QuestionText": "What is the main reason for your answer?",
            "DataExportTag": "Q2",
            "QuestionType": "TE",
            "Selector": "ESTB",
        }
        return {
            "SurveyID": self.id,
            "SurveyName": self.name,
            "SurveyStatus": "Active",
            "Questions": {"QID1": metric, "QID2": reason},
            "EmbeddedData": [{"Field": name, "Type": "Recipient"} for name in EMBEDDED_FIELDS],
        }


SURVEYS: tuple[Survey, ...] = (
    Survey(
        "SV_cemNpsRelation1",
        "Relationship NPS",
        "nps",
        0,
        10,
        "How likely are you to recommend us to a friend or colleague?",
    ),
    Survey(
        "SV_cemCsatSupport1",
        "Support CSAT",
        "csat",
        1,
        5,
        "How satisfied are you with the help you received?",
    ),
    Survey(
        "SV_cemCesServices1",
        "Customer effort",
        "ces",
        1,
        7,
        "How easy was it to get what you needed?",
    ),
)
BY_ID = {s.id: s for s in SURVEYS}
BY_KIND = {s.kind: s for s in SURVEYS}


def nps_group(score: int) -> int:
    """`QIDn_NPS_GROUP`: 1 Detractor (0-6), 2 Passive (7-8), 3 Promoter (9-10)."""
    return 1 if score <= 6 else 2 if score <= 8 else 3


NPS_GROUP_LABELS = {1: "Detractor", 2: "Passive", 3: "Promoter"}
