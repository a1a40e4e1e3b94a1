"""`cem sandbox …`: serve the CRM emulators, or write a generated dataset to files.

The lead mounts `sandbox_app` into the service CLI as `cem sandbox`; it also runs on its own as
`python -m sandbox.cli`.
"""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from sandbox.core.faults import resolve_profile
from sandbox.serving import SandboxUnavailableError, ServeOptions, describe, start_sandbox

sandbox_app = typer.Typer(
    name="sandbox",
    help="Local emulators of the systems cem-bridge connects to, with generated customers.",
    no_args_is_help=True,
    add_completion=False,
)


def _check_faults(spec: str) -> str:
    try:
        resolve_profile(spec)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return spec


def _human(info: dict[str, Any]) -> str:
    lines = [f"cem sandbox: seed {info['seed']}, faults {info['faults']!r}", *describe(info)]
    lines += ["", "Serving; press Ctrl-C to stop."]
    return "\n".join(lines)


@sandbox_app.command()
def serve(
    crm: Annotated[
        list[str] | None,
        typer.Option(
            help="An emulator to serve, by connector kind (repeat for several), or 'all' "
            "(default: the first registered).",
        ),
    ] = None,
    port: Annotated[
        int,
        typer.Option(
            min=0, max=65535, help="Port (0: any free one); the n-th emulator uses port+n."
        ),
    ] = 0,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    customers: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Customers to generate.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed of the data generator and of the faults.")] = 1,
    faults: Annotated[
        str,
        typer.Option(
            callback=_check_faults,
            help="Fault profile: none, flaky, hostile, or a JSON FaultProfile file.",
        ),
    ] = "none",
    dataset: Annotated[
        Path | None,
        typer.Option(exists=True, file_okay=False, help="Load this generated dataset instead."),
    ] = None,
    tls: Annotated[
        bool, typer.Option(help="Serve Salesforce over TLS (simple-salesforce needs it).")
    ] = True,
    page_size: Annotated[
        int, typer.Option(min=1, max=2000, help="Salesforce query page size.")
    ] = 2000,
    churn_status: Annotated[
        bool,
        typer.Option(
            help="Give contacts a churn status and date from the generator's truth "
            "(Salesforce Churn_Status__c/Churn_Date__c, HubSpot churn_status/churn_date)."
        ),
    ] = False,
    first_customer: Annotated[
        int,
        typer.Option(
            min=0,
            help="Number of the first generated person (a multiple of 8): two emulators with "
            "the same seed and overlapping ranges share the persons of the overlap.",
        ),
    ] = 0,
    variant: Annotated[
        int,
        typer.Option(
            min=0,
            help="Non-zero: the same persons with another history, their e-mail and phone "
            "written as another CRM keeps them.",
        ),
    ] = 0,
    shared_contacts: Annotated[
        bool,
        typer.Option(help="A few persons give a company mailbox (info@ …) or switchboard."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on the first stdout line.")
    ] = False,
) -> None:
    """Serve the emulators with generated data, print URLs and credentials, keep serving."""
    options = ServeOptions(
        kinds=tuple(crm or ()),
        host=host,
        port=port,
        customers=customers,
        seed=seed,
        faults=faults,
        dataset=dataset,
        tls=tls,
        page_size=page_size,
        churn_status=churn_status,
        first_customer=first_customer,
        variant=variant,
        shared_contacts=shared_contacts,
    )
    try:
        running = start_sandbox(options)
    except (OSError, SandboxUnavailableError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    typer.echo(json.dumps(running.info, separators=(",", ":")) if as_json else _human(running.info))
    try:
        while not stop.wait(0.5):
            pass
    finally:
        running.stop()


@sandbox_app.command("generate")
def generate_dataset(
    out: Annotated[Path, typer.Argument(file_okay=False, help="Folder to write (created).")],
    customers: Annotated[int, typer.Option(min=1, max=1_000_000)] = 1000,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """Write a generated dataset (JSON lines per record type, manifest, ground truth)."""
    from sandbox.data.files import write_dataset

    if out.exists() and any(out.iterdir()):
        typer.echo(f"error: {out} exists and is not empty", err=True)
        raise typer.Exit(code=1)
    try:
        manifest = write_dataset(out, seed, customers)
    except OSError as exc:
        typer.echo(f"error: cannot write {out}: {exc.strerror or exc}", err=True)
        raise typer.Exit(code=1) from None
    counts = ", ".join(f"{name} {n}" for name, n in sorted(manifest["counts"].items()))
    typer.echo(f"wrote {out}: {counts}")


if __name__ == "__main__":
    sandbox_app()
