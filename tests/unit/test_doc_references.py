"""Every reference from the repository's text to documentation resolves inside the repository.

A contributor who clones the repository must be able to follow every citation: no path outside
it (`../shared/…`), no research note it does not hold, no `docs/*.md` that does not exist, no
`docs/<file>.md §N` naming a section that is not a heading of that file, no relative markdown
link to a missing file. Mechanical fixes: `python -m tests.unit.doc_references --fix`.
"""

from __future__ import annotations

from pathlib import Path

from tests.unit.doc_references import ROOT, fix_text, problems, text_files


def test_every_reference_resolves_in_the_repository() -> None:
    found = problems()
    assert not found, "references a contributor cannot follow (file:line):\n" + "\n".join(found)


def test_the_scan_covers_code_docs_and_build_files() -> None:
    scanned = {p.relative_to(ROOT).as_posix() for p in text_files()}
    assert {"README.md", "pyproject.toml", "Makefile", "service/ports.py"} <= scanned
    assert "docs/crm-api-facts.md" in scanned
    assert not any(p.startswith((".venv/", ".git/")) for p in scanned)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def test_each_kind_of_broken_reference_is_reported_with_file_and_line(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
        {
            "docs/crm-api-facts.md": "# Facts\n\n## 2. Salesforce\n\n### 2.9 Errors\n",
            "docs/guide.md": "See [facts](crm-api-facts.md) and [gone](missing.md#top).\n"
            "```\n[not a link](nowhere.md)\n```\n",
            "README.md": "Design: [guide](docs/guide.md), [old](../shared/docs/architecture.md).\n",
            "pkg/a.py": "# ok (docs/crm-api-facts.md §2.9)\n"
            "# wrapped (docs/crm-api-facts.md\n# §2.9)\n"
            "# bad section (docs/crm-api-facts.md §2.10)\n"
            "# bare (crm-api-facts §2.9)\n"
            "# note (docs/churn-resources.md section 5B), sentiment-resources\n"
            "# old numbering (architecture §10)\n"
            '"""Wrapped, bad (docs/crm-api-facts.md\n§9.9)."""\n',
            "Makefile": "# see docs/nothing.md\n",
        },
    )
    assert sorted(problems(root)) == [
        "Makefile:1: docs/nothing.md does not exist",
        "README.md:1: ../shared/docs/architecture.md does not exist",
        "README.md:1: link to missing ../shared/docs/architecture.md",
        "README.md:1: refers outside the repository (../shared)",
        "docs/guide.md:1: link to missing missing.md#top",
        "pkg/a.py:4: docs/crm-api-facts.md has no section 2.10",
        "pkg/a.py:5: 'crm-api-facts': cite docs/crm-api-facts.md",
        "pkg/a.py:6: 'sentiment-resources': not in the repository",
        "pkg/a.py:6: docs/churn-resources.md does not exist",
        "pkg/a.py:7: cite docs/architecture.md §N",
        "pkg/a.py:8: docs/crm-api-facts.md has no section 9.9",
    ]


def test_the_fix_rewrites_citations_and_rewraps_to_the_line_length() -> None:
    source = (
        '"""Module docstring whose citation grows past the limit (crm-api-facts §2.9) here.\n'
        "\n"
        "Second paragraph.\n"
        '"""\n'
        "\n"
        "\n"
        "def f() -> None:\n"
        '    """One line that is just long enough to overflow, really (crm-api-facts §3.3)."""\n'
        "    # A comment that will overflow once rewritten, citing (crm-api-facts §3.11) and\n"
        "    # going on.\n"
        "    x = 1  # trailing comments are left alone"
        " (crm-api-facts §1.1), wrap them by hand\n"
        "    see = '../shared/docs/architecture.md'\n"
    )
    fixed, stuck = fix_text(source, python=True, limit=88)
    assert fixed == (
        '"""Module docstring whose citation grows past the limit (docs/crm-api-facts.md §2.9)\n'
        "here.\n"
        "\n"
        "Second paragraph.\n"
        '"""\n'
        "\n"
        "\n"
        "def f() -> None:\n"
        '    """One line that is just long enough to overflow, really\n'
        '    (docs/crm-api-facts.md §3.3)."""\n'
        "    # A comment that will overflow once rewritten, citing (docs/crm-api-facts.md §3.11)\n"
        "    # and going on.\n"
        "    x = 1  # trailing comments are left alone"
        " (docs/crm-api-facts.md §1.1), wrap them by hand\n"
        "    see = 'docs/architecture.md'\n"
    )
    assert stuck == [13]
    again, _ = fix_text(fixed, python=True, limit=88)
    assert again == fixed


def test_the_fix_names_siblings_inside_docs_without_the_folder() -> None:
    text = "See [facts](crm-api-facts.md), crm-api-facts §2.9 and ../shared/docs/churn.md.\n"
    fixed, _ = fix_text(text, python=False, limit=100, in_docs=True)
    assert fixed == "See [facts](crm-api-facts.md), crm-api-facts.md §2.9 and churn.md.\n"
