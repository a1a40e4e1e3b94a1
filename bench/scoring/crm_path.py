"""`python -m bench.scoring.crm_path`: the labelled churn model through the CRM, against the
same model on the table directly -> bench/results/churn_crm_path.json.

For IBM Telco (7,043 customers) and MLC++ (5,000), the same table twice:
1. direct: `train_churn_classifier` on the table, rows in the seeded random order
   `bench.scoring.churn_eval` uses for time (seed 0; the tables have no date);
2. CRM-shaped: an empty Salesforce sandbox org on a free port; each column becomes a Contact
   custom field created through the Tooling API, as `cem setup` creates ours (numbers Number,
   the rest Text); the label becomes `Churn_Status__c` (Active/Churned) with `Churn_Date__c`, a
   date that puts the rows in that same order (position i of n -> day i*730/n of the last two
   years; contacts are inserted in that order, so ties within a day keep it through the Id);
   contacts go in through sObject Collections (200 a call). A mappings folder maps each field
   as `attributes.<column>` (`type: number` for numbers) plus `churned` and `churn_label_at`.
   Then the sync's pull (the real SalesforceReader over HTTP with simple-salesforce) stores the
   records, and the `churn-train` use case trains on them and writes the model card.
The card's out-of-time ROC-AUC, PR-AUC and ECE are compared with the direct ones.
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from adapters.mapping import load_mappings
from adapters.registry import connection_settings
from adapters.retry import RetryPolicy
from adapters.salesforce.client import SalesforceClient
from adapters.salesforce.reader import SalesforceReader
from bench.scoring.datasets import mlc_churn, telco_churn
from sandbox.core.server import SandboxServer
from sandbox.salesforce.app import create_app, emulator_of
from sandbox.salesforce.config import SalesforceConfig
from service.config import Settings
from service.main import sync_stores
from service.scoring.churn.classifier import train_churn_classifier
from service.store.database import make_engine, upgrade
from service.usecases.churn_training import train_churn
from service.usecases.sync import SyncReport, pull

RESULT = Path(__file__).resolve().parents[1] / "results" / "churn_crm_path.json"
SEED = 0
SPAN_DAYS = 730
METRICS = ("roc_auc", "pr_auc", "ece", "brier")
CONNECTION = "crm-path"


def field_name(column: str) -> str:
    """The Contact custom field a column becomes (`total_day_calls` -> `Total_Day_Calls__c`)."""
    return "_".join(part.capitalize() for part in column.split("_")) + "__c"


def _numeric(series: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series))


def mapping_document(features: pd.DataFrame) -> dict[str, Any]:
    """The Contact pull mapping a user would write for this table."""
    fields: dict[str, Any] = {
        "id": {"crm": "Id", "required": True},
        "display_name": {"crm": "Name"},
        "created_at": {"crm": "CreatedDate", "type": "datetime"},
        "churned": {
            "crm": "Churn_Status__c",
            "type": "enum",
            "values": {"Active": False, "Churned": True},
        },
        "churn_label_at": {"crm": "Churn_Date__c", "type": "datetime"},
    }
    for column in features.columns:
        entry: dict[str, Any] = {"crm": field_name(column)}
        if _numeric(features[column]):
            entry["type"] = "number"
        fields[f"attributes.{column}"] = entry
    return {
        "crm": "salesforce",
        "object": "Contact",
        "canonical": "customer",
        "direction": "pull",
        "modified_field": "SystemModstamp",
        "fields": fields,
    }


def _custom_fields(features: pd.DataFrame, stamp: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [
        {
            "FullName": "Contact.Churn_Status__c",
            "Metadata": {
                "label": "Churn Status",
                "type": "Picklist",
                "valueSet": {
                    "valueSetDefinition": {
                        "value": [{"fullName": v, "label": v} for v in ("Active", "Churned")]
                    }
                },
            },
        },
        {
            "FullName": "Contact.Churn_Date__c",
            "Metadata": {"label": "Churn Date", "type": "Date" if stamp == "date" else "DateTime"},
        },
    ]
    for column in features.columns:
        label = column.replace("_", " ").title()
        metadata: dict[str, Any] = (
            {"label": label, "type": "Number", "precision": 18, "scale": 2}
            if _numeric(features[column])
            else {"label": label, "type": "Text", "length": 255}
        )
        out.append({"FullName": f"Contact.{field_name(column)}", "Metadata": metadata})
    return out


def _value(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value)
    return str(value)


def _contacts(
    name: str,
    features: pd.DataFrame,
    y: np.ndarray,
    order: np.ndarray,
    as_of: datetime,
    stamp: str,
) -> list[dict[str, Any]]:
    """One Contact per row, in time order; row i's date is its position in `order`."""
    n = len(y)
    start = as_of - timedelta(days=SPAN_DAYS + 1)
    rows = features.to_dict("records")
    out = []
    for i in np.argsort(order, kind="stable"):
        when = start + timedelta(days=int(order[i]) * SPAN_DAYS / n)
        record = {field_name(k): _value(v) for k, v in rows[i].items()}
        record.update(
            {
                "attributes": {"type": "Contact"},
                "LastName": f"{name}-{i}",
                "Churn_Status__c": "Churned" if y[i] else "Active",
                "Churn_Date__c": (
                    when.date().isoformat()
                    if stamp == "date"
                    else when.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
                ),
            }
        )
        out.append(record)
    return out


def _post(sf: Any, *, path: str, body: Any) -> Any:
    return sf.restful(path, method="POST", json=body)


def crm_shaped(
    name: str, features: pd.DataFrame, y: np.ndarray, order: np.ndarray, stamp: str = "date"
) -> Any:
    """Load the table into a Salesforce sandbox, pull it with the sync, run churn-train;
    `stamp` is the type of `Churn_Date__c` (a date, or a datetime that keeps every row apart)."""
    as_of = datetime.now(UTC)
    config = SalesforceConfig(page_size=2000)
    app = create_app(config)
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(app, tls=True) as server:
        folder = Path(tmp) / "mappings" / "salesforce"
        folder.mkdir(parents=True)
        document = mapping_document(features)
        (folder / "Contact.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
        settings = connection_settings(
            kind="salesforce",
            base_url=server.base_url,
            client_id=config.client_id,
            client_secret=config.client_secret,
            ca_bundle=server.ca_path,
            read_timeout=30.0,
        )
        client = SalesforceClient(CONNECTION, settings, RetryPolicy())
        t0 = time.perf_counter()
        for body in _custom_fields(features, stamp):
            client.call(partial(_post, path="tooling/sobjects/CustomField", body=body))
        contacts = _contacts(name, features, y, order, as_of, stamp)
        for at in range(0, len(contacts), 200):
            chunk = {"allOrNone": True, "records": contacts[at : at + 200]}
            results = client.call(partial(_post, path="composite/sobjects", body=chunk))
            failed = [r for r in results if not r.get("success")]
            if failed:
                raise RuntimeError(f"the sandbox refused contacts: {failed[:2]}")
        timings["load_seconds"] = time.perf_counter() - t0
        engine = make_engine(f"sqlite:///{Path(tmp) / 'cem.db'}")
        upgrade(engine)
        stores = sync_stores(Settings(), engine)
        reader = SalesforceReader(client, load_mappings(folder.parent), timedelta(seconds=60))
        t0 = time.perf_counter()
        report = SyncReport()
        pull(CONNECTION, reader, stores, None, report)
        timings["pull_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        assert stores.churn_models is not None
        trained = train_churn(stores.records, stores.churn_models, CONNECTION, as_of)
        timings["train_seconds"] = time.perf_counter() - t0
        calls = emulator_of(app).limits.usage()[0]
    return trained, report, timings, document, calls


def compare(name: str, load: Any) -> dict[str, Any]:
    features, y = load()
    order = np.random.default_rng(SEED).permutation(len(y))
    t0 = time.perf_counter()
    direct = train_churn_classifier(features, y, order, split_note="seeded random order")
    assert direct.classifier is not None, direct.reason
    direct_seconds = time.perf_counter() - t0
    trained, report, timings, document, calls = crm_shaped(name, features, y, order)
    card = trained.card
    if "metrics" not in card:
        raise RuntimeError(f"{name}: no model through the CRM: {trained.reason}")
    ours = {k: round(float(card["metrics"][k]), 4) for k in METRICS}
    theirs = {k: round(float(direct.classifier.card.metrics[k]), 4) for k in METRICS}
    extra = sorted(set(card["features"]) - {f"crm_{c}" for c in features.columns})
    return {
        "rows": len(y),
        "churn_rate": round(float(y.mean()), 4),
        "order": f"numpy default_rng({SEED}).permutation, as bench.scoring.churn_eval seed {SEED}",
        "direct": {
            "model": direct.classifier.card.model_kind,
            "test_metrics": theirs,
            "n_test": direct.classifier.card.n_test,
            "seconds": round(direct_seconds, 1),
        },
        "crm_shaped": {
            "model": card["model_kind"],
            "test_metrics": ours,
            "n_test": card["n_test"],
            "label_source": card["label_source"],
            "reason": trained.reason,
            "pulled": report.pulled,
            "refused": len(report.refused),
            "numeric_crm_features": sorted(
                f for f in card["features"] if f.startswith("crm_") and f not in card["categorical"]
            ),
            "categorical_crm_features": sorted(
                f for f in card["categorical"] if f.startswith("crm_")
            ),
            "profile_features_added": extra,
            "dropped_features": card.get("dropped_features", []),
            "api_calls": calls,
            **{k: round(v, 1) for k, v in timings.items()},
        },
        "difference": {k: round(ours[k] - theirs[k], 4) for k in METRICS},
        "ties": "a Date field puts 7-10 rows on each day; crm_outcomes orders them by the "
        "CRM's record id (creation order here), so the order is the direct one",
        "max_abs_difference": round(max(abs(ours[k] - theirs[k]) for k in METRICS[:3]), 4),
        "mapping": document,
    }


def main() -> dict[str, Any]:
    started = time.perf_counter()
    result: dict[str, Any] = {
        "command": "python -m bench.scoring.crm_path",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "protocol": "direct vs through a Salesforce sandbox (Tooling API fields, sObject "
        "Collections, the sync's pull with simple-salesforce, the churn-train use case); same "
        "rows, same time order; 60/20/20 out-of-time split inside train_churn_classifier",
        "telco": compare("telco", telco_churn),
        "mlc": compare("mlc", mlc_churn),
    }
    result["seconds"] = round(time.perf_counter() - started, 1)
    RESULT.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


if __name__ == "__main__":
    out = main()
    for key in ("telco", "mlc"):
        d = out[key]
        print(key, "direct", d["direct"]["test_metrics"], "crm", d["crm_shaped"]["test_metrics"])
    print(f"{out['seconds']} s -> {RESULT}")
