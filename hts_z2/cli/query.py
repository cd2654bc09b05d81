"""``hts-z2 query``: candidates from the result store as a table, JSON or CSV."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import TYPE_CHECKING, Any

import typer

from hts_z2.cli.console import fail, get_console

if TYPE_CHECKING:
    from hts_z2.schemas.result import ResultDoc

console = get_console()
CSV_COLUMNS = (
    "material_id", "source", "campaign", "formula", "elements", "nsites", "spacegroup",
    "status", "reason", "label", "cautions", "caution_text", "gap_indirect", "gap_direct",
    "z2_planes", "z2_converged", "z2_manifold", "domain_distance", "in_domain", "model_name",
    "model_sha256",
    "confirmation_verdict", "confirmation_label", "confirmation_pbe_sensitive",
    "confirmation_gap_indirect", "confirmation_method",
)
VERDICTS = ("confirmed", "rejected", "agrees", "disagrees", "undetermined", "unchecked")


STATUSES = ("done", "skipped", "failed")


def check_label(value: str) -> None:
    """Raise ValueError unless ``value`` is a whole label (``STI (1;000)``, parsed as a
    :class:`~hts_z2.schemas.labels.Z2Label`) or the beginning of a label kind."""
    from hts_z2.schemas.labels import RANK, Z2Label

    kinds = tuple(RANK)  # every label kind, topological first

    if "(" in value:
        try:
            Z2Label.parse(value)
        except ValueError:
            raise ValueError(f"label {value!r} is not of the form 'STI (1;000)'") from None
    elif not any(p.startswith(value) for p in kinds):
        raise ValueError(f"unknown label {value!r}; labels start with "
                         f"{', '.join(kinds)} (e.g. 'STI' or 'STI (1;000)')")


def build_filter(
    label: str | None = None,
    min_gap: float | None = None,
    max_gap: float | None = None,
    elements: list[str] | None = None,
    source: str | None = None,
    campaign: str | None = None,
    status: str | None = None,
    model_sha256: str | None = None,
    no_caution: bool = False,
    manifold_label: str | None = None,
    max_domain_distance: float | None = None,
    in_domain: bool = False,
    confirmed: bool = False,
    verdict: str | None = None,
    material_ids: list[str] | None = None,
) -> dict[str, Any]:
    """MongoDB filter for the query options.

    ``label`` matches a whole label (``"STI (1;000)"``) or a prefix (``STI``, ``trivial``,
    ``metal``); ``elements`` must all be present; ``no_caution`` drops results with any
    caution (``cautions`` not empty); ``manifold_label`` matches the occupied-manifold Z2
    of near-insulating metals (``z2_manifold.label``) like ``label``;
    ``max_domain_distance`` keeps results whose ``domain.distance`` is known and at most
    that (:mod:`hts_z2.model.domain`), ``in_domain`` those within their model's threshold.
    Documents of earlier versions (a prose ``caution``, top-level ``domain_distance`` and
    ``in_domain``) match the same way.
    ``confirmed`` keeps topological insulators confirmed from first principles;
    ``verdict`` one first-principles verdict (``unchecked``: no confirmation yet);
    ``material_ids`` these materials only.
    """
    crit: dict[str, Any] = {}
    if material_ids:
        crit["material_id"] = {"$in": sorted(set(material_ids))}
    for key, value in (("label", label), ("z2_manifold.label", manifold_label)):
        if value:
            check_label(value)
            crit[key] = value if "(" in value else {"$regex": f"^{re.escape(value)}"}
    for name, x in (("--min-gap", min_gap), ("--max-gap", max_gap),
                    ("--max-domain-distance", max_domain_distance)):
        if x is not None and not math.isfinite(x):
            raise ValueError(f"{name} must be a finite number, got {x}")
    if status and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; choose from {', '.join(STATUSES)}")
    gap: dict[str, float] = {}
    if min_gap is not None:
        gap["$gte"] = min_gap
    if max_gap is not None:
        gap["$lte"] = max_gap
    if gap:
        crit["gap.indirect"] = gap
    if elements:
        crit["elements"] = {"$all": sorted(set(elements))}
    for key, value in (("source", source), ("campaign", campaign), ("status", status),
                       ("model.sha256", model_sha256)):
        if value:
            crit[key] = value
    either: list[dict[str, Any]] = []
    if no_caution:
        crit["cautions.0"] = {"$exists": False}
        crit["caution"] = None  # documents of earlier versions
    if max_domain_distance is not None:
        bound = {"$lte": max_domain_distance}
        either.append({"$or": [{"domain.distance": bound}, {"domain_distance": bound}]})
    if in_domain:
        either.append({"$or": [{"domain.in_domain": True}, {"in_domain": True}]})
    if either:
        crit["$and"] = either
    if confirmed:
        verdict = verdict or "confirmed"
        if verdict != "confirmed":
            raise ValueError("--confirmed keeps the verdict 'confirmed'; drop --verdict")
    if verdict:
        if verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {verdict!r}; choose from {', '.join(VERDICTS)}")
        crit["confirmation.verdict"] = None if verdict == "unchecked" else verdict
    return crit


def csv_row(doc: ResultDoc) -> dict[str, Any]:
    """Flat CSV row of a result document (cautions as their codes and texts, ``;``-joined)."""
    check = doc.confirmation
    return {
        "material_id": doc.material_id,
        "source": doc.source,
        "campaign": doc.campaign,
        "formula": doc.formula,
        "elements": " ".join(doc.elements),
        "nsites": doc.nsites,
        "spacegroup": doc.spacegroup,
        "status": doc.status,
        "reason": doc.reason,
        "label": None if doc.label is None else str(doc.label),
        "cautions": ";".join(c.code for c in doc.cautions),
        "caution_text": "; ".join(c.text for c in doc.cautions),
        "gap_indirect": doc.gap.indirect if doc.gap else None,
        "gap_direct": doc.gap.direct if doc.gap else None,
        "z2_planes": "".join(map(str, (doc.z2.planes or []) if doc.z2 else [])),
        "z2_converged": doc.z2.converged if doc.z2 else None,
        "z2_manifold": str(doc.z2_manifold.label) if doc.z2_manifold else None,
        "domain_distance": doc.domain.distance if doc.domain else None,
        "in_domain": doc.domain.in_domain if doc.domain else None,
        "model_name": doc.model.name,
        "model_sha256": doc.model.sha256,
        "confirmation_verdict": check.verdict if check else None,
        "confirmation_label": str(check.label) if check and check.label else None,
        "confirmation_pbe_sensitive": check.pbe_sensitive if check else None,
        "confirmation_gap_indirect": check.gap_indirect if check else None,
        "confirmation_method": check.method if check else None,
    }


def to_csv(docs: list[ResultDoc]) -> str:
    """CSV text of result documents (one row each)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for doc in docs:
        writer.writerow(csv_row(doc))
    return out.getvalue()


def query(
    material_ids: list[str] = typer.Argument(None, help="material ids (default: all)"),
    db: str = typer.Option(None, "--db", help="mongodb:// URI or store directory ($HTS_Z2_DB)"),
    label: str = typer.Option(None, help="label or prefix: STI, WTI, trivial, metal, ..."),
    min_gap: float = typer.Option(None, help="minimum indirect gap (eV)"),
    max_gap: float = typer.Option(None, help="maximum indirect gap (eV)"),
    elements: list[str] = typer.Option(None, help="required element (repeatable)"),
    source: str = typer.Option(None, help="demo | gnome | mp | files"),
    campaign: str = typer.Option(None, help="campaign name"),
    status: str = typer.Option(None, help="done | skipped | failed (default: any)"),
    limit: int = typer.Option(0, help="at most this many documents (0 = all)"),
    fmt: str = typer.Option("table", "--format", help="table | json | csv"),
    with_structure: bool = typer.Option(False, help="include structures in JSON output"),
    no_caution: bool = typer.Option(
        False, "--no-caution",
        help="only results without any caution (gap or overlap above the model's band error, "
        "environments inside its training domain)"
    ),
    manifold_label: str = typer.Option(
        None,
        help="occupied-manifold Z2 label or prefix of near-insulating metals (STI, WTI, ...)",
    ),
    max_domain_distance: float = typer.Option(
        None,
        help="only results whose atomic environments lie at most this far from the "
        "model's training data (domain.distance; results without one are left out)",
    ),
    in_domain: bool = typer.Option(
        False, help="only results within their model's training domain (its threshold)"
    ),
    confirmed: bool = typer.Option(
        False, help="only topological insulators confirmed from first principles"
    ),
    verdict: str = typer.Option(
        None, help="first-principles verdict: confirmed, rejected, agrees, disagrees, "
        "undetermined, unchecked"
    ),
) -> None:
    """Query stored results."""
    from hts_z2.cli.screen import candidates_table, sort_docs, wide_console
    from hts_z2.store import StoreUnavailableError, open_store

    if fmt not in ("table", "json", "csv"):
        fail(f"unknown format {fmt!r} (table, json, csv)")
    try:
        crit = build_filter(
            label,
            min_gap,
            max_gap,
            elements,
            source,
            campaign,
            status,
            no_caution=no_caution,
            manifold_label=manifold_label,
            max_domain_distance=max_domain_distance,
            in_domain=in_domain,
            confirmed=confirmed,
            verdict=verdict,
            material_ids=material_ids,
        )
    except ValueError as err:
        fail(f"{err}")
    if limit < 0:
        fail(f"--limit must be 0 (all) or positive, got {limit}")
    try:
        store = open_store(db, create=False)
    except StoreUnavailableError as err:
        fail(f"{err}")
    projection = None if (fmt == "json" and with_structure) else {"structure": 0}
    from hts_z2.schemas.result import ResultDoc

    with store:
        docs = sort_docs([ResultDoc.from_stored(d)
                          for d in store.find(crit, limit=limit, projection=projection)])
    if fmt == "json":
        leave_out = {"structure"} if projection is not None else None
        rows = [d.model_dump(mode="json", exclude=leave_out) for d in docs]
        typer.echo(json.dumps(rows, indent=1))
    elif fmt == "csv":
        typer.echo(to_csv(docs), nl=False)
    else:
        wide_console().print(candidates_table(docs, title=f"{len(docs)} result(s)"))
