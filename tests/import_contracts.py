"""The import-linter contract type `connectors`, read from the connector registry.

import-linter's own contracts name their modules in `pyproject.toml`, so every new connector
would have to be added there by hand. This one asks `adapters.registry` instead: registering a
connector is all it takes for these rules to cover it.

- the connector packages (`adapters.<kind>`) are independent of each other, also indirectly;
- no module of the service imports a connector package directly (it reads the registry);
- a connector's SDK (`Connector.sdk`) is imported directly by its `adapters.<kind>.client` and
  by no other module of `adapters` or `service`.

`lint-imports` loads it from the repository root (`contract_types` in `pyproject.toml`).
"""

from __future__ import annotations

from typing import Any

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain.contract import Contract, ContractCheck

from adapters import registry


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def _modules(graph: ImportGraph, package: str) -> set[str]:
    return {package, *graph.find_descendants(package)}


class ConnectorsContract(Contract):
    """Independent connector packages, reached only through the registry, each SDK only in its
    connector's client (module docstring)."""

    type_name = "connectors"

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        packages = {f"adapters.{kind}": registry.connector(kind) for kind in registry.kinds()}
        problems: list[str] = []
        for chain in graph.find_illegal_dependencies_for_layers(layers=(set(packages),)):
            problems.append(f"{chain.importer} depends on {chain.imported} (connectors must not)")
        application = _modules(graph, "service") | _modules(graph, "adapters")
        for module in sorted(application):
            imported = graph.find_modules_directly_imported_by(module)
            if _within(module, "service"):
                problems += [
                    f"{module} imports {target}: the service reads connectors through "
                    "adapters.registry"
                    for target in sorted(imported)
                    if any(_within(target, package) for package in packages)
                ]
            for package, connector in packages.items():
                if connector.sdk is None or module == f"{package}.client":
                    continue
                problems += [
                    f"{module} imports {target}: only {package}.client imports {connector.sdk}"
                    for target in sorted(imported)
                    if _within(target, connector.sdk)
                ]
        output.verbose_print(verbose, f"Checked the connectors {sorted(packages)}.")
        return ContractCheck(kept=not problems, warnings=[], metadata={"problems": problems})

    def render_broken_contract(self, check: ContractCheck) -> None:
        problems: list[Any] = check.metadata["problems"]
        for problem in problems:
            output.print_error(f"- {problem}")
            output.new_line()
