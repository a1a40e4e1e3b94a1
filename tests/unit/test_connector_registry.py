"""The registry is the only place that names a connector: walked here, kind by kind.

"Adding a connector touches only its package, its mappings, its sandbox and one registry line"
is checked by reading the source: no module of the service (`service/`) or of the generic
adapter layer (`adapters/*.py`) names a registered kind in an identifier or a string literal.
Docstrings and comments may mention a system (they document its facts); code may not.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters import registry
from adapters.connector import Capabilities, Connector
from adapters.mapping import load_mappings
from adapters.settings import ConnectionSettings

ROOT = Path(__file__).resolve().parents[2]
# Modules allowed to name a kind, each with the reason. Keep this list short.
EXCEPTIONS = {
    # The one list of connectors.
    "adapters/registry.py": "the registry",
}
# Single names a module may use although a connector has the same kind: (module, text).
# Zalo is also a channel an interaction can come from (any source may report a Zalo chat).
ALLOWED_NAMES = {
    ("service/domain/events.py", "ZALO"),
    ("service/domain/events.py", "zalo"),
}


def _modules() -> Iterator[Path]:
    yield from sorted((ROOT / "service").rglob("*.py"))
    yield from sorted((ROOT / "adapters").glob("*.py"))


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the string nodes that are docstrings."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) of every identifier and non-docstring string literal in `tree`."""
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings:
                yield line, node.value
        elif isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            yield line, node.name
        elif isinstance(node, ast.arg):
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, f"{node.name} {node.asname or ''}"
        elif isinstance(node, ast.ImportFrom):
            yield line, node.module or ""
        elif isinstance(node, ast.keyword) and node.arg:
            yield line, node.arg


def named_kinds(path: Path, kinds: tuple[str, ...]) -> list[str]:
    """`file:line: kind in 'text'` for each place the module names a kind."""
    pattern = re.compile("|".join(map(re.escape, kinds)), re.IGNORECASE)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
    return [
        f"{where}:{line}: {match[0]!r} in {text!r}"
        for line, text in _names(tree)
        if (match := pattern.search(text))
    ]


def test_no_application_module_names_a_connector() -> None:
    found = [
        hit
        for path in _modules()
        if str(path.relative_to(ROOT)) not in EXCEPTIONS
        for hit in named_kinds(path, registry.kinds())
        if not any(hit.startswith(f"{m}:") and hit.endswith(f"in {t!r}") for m, t in ALLOWED_NAMES)
    ]
    assert found == [], "only adapters/registry.py may name a connector:\n" + "\n".join(found)


def _schema_values(node: object) -> Iterator[str]:
    """Every string of the mapping schema but its descriptions (prose)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            if key != "description":
                yield from _schema_values(value)
    elif isinstance(node, list):
        for item in node:
            yield from _schema_values(item)
    elif isinstance(node, str):
        yield node


def test_the_mapping_schema_names_no_connector() -> None:
    # Mappings name their connector in `crm`; the registry, not the schema, knows the kinds.
    schema = json.loads((ROOT / "adapters/mapping/shipped/schema.json").read_text("utf-8"))
    kinds = set(registry.kinds())
    assert [v for v in _schema_values(schema) if v.lower() in kinds] == []


def test_the_scan_sees_identifiers_and_strings_but_not_docstrings(tmp_path: Path) -> None:
    # The check above passes only if it can fail: a module naming a kind three ways.
    sample = tmp_path / "sample.py"
    sample.write_text(
        '"""Mentions Salesforce in prose."""\n'
        "from adapters.salesforce.client import X\n"
        "def pick(kind):\n"
        '    """HubSpot, also prose."""\n'
        '    return kind == "hubspot"\n'
    )
    hits = named_kinds(sample, registry.kinds())
    assert [h.split(": ", 1)[1] for h in hits] == [
        "'salesforce' in 'adapters.salesforce.client'",
        "'hubspot' in 'hubspot'",
    ], hits


def test_the_exceptions_still_name_a_connector() -> None:
    # An exception nobody needs any more is dropped from the list.
    for module in EXCEPTIONS:
        assert named_kinds(ROOT / module, registry.kinds()), f"{module} no longer needs it"


@pytest.fixture(params=registry.kinds())
def connector(request: pytest.FixtureRequest) -> Connector[ConnectionSettings]:
    return registry.connector(request.param)


def test_a_connector_is_its_package_mappings_and_sandbox(
    connector: Connector[ConnectionSettings],
) -> None:
    kind = connector.kind
    assert (ROOT / "adapters" / kind / "connector.py").is_file()
    assert connector.settings.__module__ == f"adapters.{kind}.settings"
    assert connector.build.__module__ == f"adapters.{kind}.connector"
    assert (ROOT / "adapters" / "mapping" / "shipped" / kind).is_dir()
    assert (ROOT / "sandbox" / kind).is_dir()
    # The settings model's tag is the kind: `KIND=<kind>` picks this model.
    assert connector.settings.model_fields["kind"].default == kind
    assert type(registry.connection_settings(kind=kind)) is connector.settings


def test_its_mappings_and_own_fields(connector: Connector[ConnectionSettings]) -> None:
    mappings = load_mappings()
    pulled = mappings.for_crm(connector.kind, "pull")
    pushed = mappings.for_crm(connector.kind, "push")
    assert pulled if connector.capabilities.pull else not pulled
    assert pushed if connector.capabilities.push_fields else not pushed
    own = connector.own_fields(mappings)
    assert (connector.task_key_field in own) == connector.capabilities.tasks
    for mapping in pushed:
        assert set(mapping.crm_fields()) <= own
    if connector.capabilities.push_fields:
        # Nothing we only read is taken for our own write (or a customer's change is lost).
        read = {f for m in pulled for f in m.crm_fields()} - own
        assert read


def test_webhook_sources_have_what_the_route_needs(
    connector: Connector[ConnectionSettings],
) -> None:
    source = connector.webhooks
    if source is None:
        return
    assert source.signed_by
    assert source.body
    for _name, path in source.aliases:
        assert path.startswith("/v1/"), path
    # A body that is not the system's shape is a ValueError (the route's 422), not a crash.
    with pytest.raises(ValueError, match="array"):
        source.notices({"not": "an array"}, frozenset())


def test_build_refuses_another_kinds_settings(connector: Connector[ConnectionSettings]) -> None:
    other = next(k for k in registry.kinds() if k != connector.kind)
    with pytest.raises(TypeError, match=f"is a {other}"):
        connector.connect("x", registry.connection_settings(kind=other), load_mappings())


def test_unknown_kind() -> None:
    with pytest.raises(registry.UnknownKindError, match="known: "):
        registry.connector("pipedrive")


def test_a_writer_without_erasure_is_refused() -> None:
    with pytest.raises(ValueError, match="erasure"):
        Capabilities(push_fields=True)


def test_import_contracts_come_from_the_registry(connector: Connector[ConnectionSettings]) -> None:
    """The `connectors` import contract (tests/import_contracts.py) reads the registry, so it
    covers every connector; what it needs is each connector's SDK, named as its client imports
    it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    types = {c["type"] for c in config["tool"]["importlinter"]["contracts"]}
    assert "connectors" in types
    client = ast.parse((ROOT / "adapters" / connector.kind / "client.py").read_text("utf-8"))
    imported = {
        name.split(".")[0]
        for node in ast.walk(client)
        for name in (
            [a.name for a in node.names]
            if isinstance(node, ast.Import)
            else [node.module or ""]
            if isinstance(node, ast.ImportFrom) and node.level == 0
            else []
        )
    }
    assert connector.sdk is None or connector.sdk in imported
