"""Survey exports from other tools (SurveyMonkey, Google Forms, Typeform, Medallia …): the
mapping that says what a file's columns mean, the readers of CSV, XLSX and JSON files, and the
row checks. Pure parsing and validation; storing is `service/usecases/survey_import.py`'s.
The mapping reference and the tools' export shapes: docs/survey-import.md."""
