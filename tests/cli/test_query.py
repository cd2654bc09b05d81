"""``hts-z2 query``: filters and table / JSON / CSV output."""

import csv
import io
import json

import pytest
import typer
from screening_double import (
    CalibratedToyModel,
    DomainToyModel,
    NearMetalToyModel,
    ToyScreeningModel,
)
from typer.testing import CliRunner

from hts_z2.cli import query as query_command
from hts_z2.cli.query import build_filter
from hts_z2.flows.screening import run_campaign
from hts_z2.store import open_store
from hts_z2.structures.sources import SourceSpec

app = typer.Typer()
app.command(name="query")(query_command.query)
app.command(name="noop")(lambda: None)
runner = CliRunner()
IDS = ["Bi2Se3-R-3m", "TlBiSe2-R-3m", "PbTe-Fm-3m", "Au-Fm-3m", "CdTe-F-43m"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("q") / "db"
    with open_store(path) as store:
        run_campaign(SourceSpec(kind="demo", paths=IDS), ToyScreeningModel(), store,
                     campaign="q")
    return str(path)


def test_build_filter():
    crit = build_filter(label="STI", min_gap=0.1, max_gap=0.3, elements=["Se", "Bi"],
                        source="gnome", campaign="x")
    assert crit == {
        "label": {"$regex": "^STI"},
        "gap.indirect": {"$gte": 0.1, "$lte": 0.3},
        "elements": {"$all": ["Bi", "Se"]},
        "source": "gnome",
        "campaign": "x",
    }
    assert build_filter(label="STI (1;000)") == {"label": "STI (1;000)"}


def test_json_is_list_of_documents(db):
    result = runner.invoke(app, ["query", "--db", db, "--label", "STI", "--format", "json"])
    assert result.exit_code == 0, result.output
    docs = json.loads(result.output)
    assert sorted(d["material_id"] for d in docs) == ["Bi2Se3-R-3m", "TlBiSe2-R-3m"]
    assert all(d["status"] == "done" and "structure" not in d for d in docs)
    assert docs[0]["z2"]["planes"] == [1, 0, 1, 0, 1, 0]


def test_elements_gap_and_csv(db):
    result = runner.invoke(app, ["query", "--db", db, "--elements", "Tl", "--elements", "Se",
                                 "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [r["material_id"] for r in rows] == ["TlBiSe2-R-3m"]
    result = runner.invoke(app, ["query", "--db", db, "--min-gap", "3", "--format", "json"])
    assert [d["material_id"] for d in json.loads(result.output)] == ["PbTe-Fm-3m"]
    result = runner.invoke(app, ["query", "--db", db, "--label", "metal", "--format", "json"])
    assert [d["material_id"] for d in json.loads(result.output)] == ["Au-Fm-3m"]


def test_table_and_status(db):
    result = runner.invoke(app, ["query", "--db", db, "--status", "skipped", "--campaign", "q"],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "CdTe-F-43m" in result.output
    assert "no element with Z > 70" in result.output
    bad = runner.invoke(app, ["query", "--db", db, "--format", "xml"])
    assert bad.exit_code == 2


@pytest.mark.parametrize("args, says", [
    (["--status", "finished"], "unknown status 'finished'"),
    (["--min-gap", "nan"], "--min-gap must be a finite number"),
    (["--max-gap", "inf"], "--max-gap must be a finite number"),
    (["--label", "topological"], "unknown label 'topological'"),
    (["--label", "STI (1;0000)"], "is not of the form"),
    (["--limit", "-1"], "--limit must be 0 (all) or positive"),
])
def test_options_that_would_match_nothing_are_errors(db, args, says):
    result = runner.invoke(app, ["query", "--db", db, *args], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and says in result.output.replace("\n", " ")


def test_materials_by_id(db):
    result = runner.invoke(app, ["query", "PbTe-Fm-3m", "Au-Fm-3m", "--db", db,
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    assert sorted(d["material_id"] for d in json.loads(result.output)) == [
        "Au-Fm-3m", "PbTe-Fm-3m"]


def test_a_mistyped_store_directory_is_not_created(tmp_path):
    missing = tmp_path / "resluts"
    result = runner.invoke(app, ["query", "--db", str(missing)], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "no result store at" in result.output
    assert not missing.exists()
    ok = runner.invoke(app, ["query", "--db", str(tmp_path / "resluts"), "--label", "ST"])
    assert ok.exit_code == 2  # a prefix of a label is fine, the store is still missing


def test_no_caution_keeps_gaps_above_the_model_band_error(tmp_path):
    """Band error 2.5 eV: the toy STIs (gap ~1-2 eV) carry a caution, PbTe (> 3 eV) and
    the metal do not."""
    path = str(tmp_path / "db")
    with open_store(path) as store:
        run_campaign(SourceSpec(kind="demo", paths=IDS), CalibratedToyModel(2.5), store)
    assert build_filter(no_caution=True) == {"cautions.0": {"$exists": False}, "caution": None}
    out = runner.invoke(app, ["query", "--db", path, "--status", "done", "--format", "json"])
    docs = {d["material_id"]: d for d in json.loads(out.output)}
    [caution] = docs["Bi2Se3-R-3m"]["cautions"]
    assert caution["code"] == "gap_below_band_error" and caution["threshold"] == 2.5
    assert 0 < caution["value"] < 2.5 and "validation band error" in caution["text"]
    assert docs["PbTe-Fm-3m"]["cautions"] == []
    out = runner.invoke(app, ["query", "--db", path, "--status", "done", "--no-caution",
                              "--format", "csv"])  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert sorted(r["material_id"] for r in rows) == ["Au-Fm-3m", "PbTe-Fm-3m"]
    assert all(r["cautions"] == "" and r["caution_text"] == "" for r in rows)
    out = runner.invoke(app, ["query", "--db", path, "--label", "STI"], env={"COLUMNS": "250"})
    assert out.output.count("caution*") == 2  # one note per toy STI
    assert "validation band error" in " ".join(out.output.split())  # the caption explains
    out = runner.invoke(app, ["query", "--db", path, "--label", "trivial"], env={"COLUMNS": "250"})
    assert "caution" not in out.output


def test_near_insulating_metals_by_their_occupied_bands(tmp_path):
    path = str(tmp_path / "db")
    with open_store(path) as store:
        run_campaign(SourceSpec(kind="demo", paths=IDS[:1]), NearMetalToyModel(), store)
    assert build_filter(manifold_label="STI") == {"z2_manifold.label": {"$regex": "^STI"}}
    out = runner.invoke(app, ["query", "--db", path, "--manifold-label", "STI", "--format", "csv"])
    [row] = list(csv.DictReader(io.StringIO(out.output)))
    assert row["label"] == "metal" and row["z2_manifold"] == "STI (1;000)"
    assert row["cautions"] == "overlap_below_band_error" and "overlap" in row["caution_text"]
    out = runner.invoke(app, ["query", "--db", path, "--manifold-label", "trivial"])
    assert "0 result(s)" in out.output
    out = runner.invoke(app, ["query", "--db", path], env={"COLUMNS": "250"})
    assert "occupied bands: STI (1;000)" in out.output and "101010" in out.output


def test_results_by_their_distance_to_the_training_domain(tmp_path):
    """DomainToyModel: Bi2Se3 at 0.5 (inside its threshold 1.0), PbTe at 3.0 (outside,
    caution), the rest without a distance (an element without training environments)."""
    path = str(tmp_path / "db")
    with open_store(path) as store:
        run_campaign(SourceSpec(kind="demo", paths=IDS), DomainToyModel(), store)
    assert build_filter(max_domain_distance=1.0) == {"$and": [{"$or": [
        {"domain.distance": {"$lte": 1.0}}, {"domain_distance": {"$lte": 1.0}}]}]}
    out = runner.invoke(app, ["query", "--db", path, "--max-domain-distance", "1.0",
                              "--format", "csv"])  # fmt: skip
    [row] = list(csv.DictReader(io.StringIO(out.output)))
    assert row["material_id"] == "Bi2Se3-R-3m" and float(row["domain_distance"]) == 0.5
    out = runner.invoke(app, ["query", "--db", path, "--max-domain-distance", "5"])
    assert "2 result(s)" in out.output
    assert build_filter(in_domain=True) == {"$and": [{"$or": [
        {"domain.in_domain": True}, {"in_domain": True}]}]}
    out = runner.invoke(app, ["query", "--db", path, "--in-domain", "--format", "csv"])
    [row] = list(csv.DictReader(io.StringIO(out.output)))
    assert row["material_id"] == "Bi2Se3-R-3m" and row["in_domain"] == "True"
    out = runner.invoke(app, ["query", "--db", path, "--label", "trivial"], env={"COLUMNS": "250"})
    assert "3.00" in out.output and "caution*" in out.output
    assert "training domain" in " ".join(out.output.split())


def test_documents_of_earlier_versions_are_read_typed_and_filtered_alike(tmp_path):
    """A store written before cautions and the domain were typed: a prose ``caution`` and
    top-level ``domain_distance`` / ``in_domain``."""
    path = str(tmp_path / "db")
    text = ("gap 0.012 eV < the model's validation band error 0.050 eV: the label can flip "
            "within the model's accuracy; confirm with DFT")
    old = {"source": "demo", "model": {"name": "m", "sha256": "s"}, "status": "done",
           "label": "STI (1;000)", "gap": {"indirect": 0.012, "direct": 0.02, "is_metal": False}}
    with open_store(path) as store:
        store.replace({"material_id": "a"}, {**old, "material_id": "a", "caution": text,
                                             "domain_distance": 0.4, "in_domain": True})
        store.replace({"material_id": "b"}, {**old, "material_id": "b", "caution": None,
                                             "domain_distance": 3.0, "in_domain": False})
    out = runner.invoke(app, ["query", "--db", path, "--format", "json"])
    docs = {d["material_id"]: d for d in json.loads(out.output)}
    assert docs["a"]["cautions"] == [{"code": "gap_below_band_error", "value": 0.012,
                                      "threshold": 0.05, "note": None, "text": text}]
    assert docs["a"]["domain"]["distance"] == 0.4 and docs["b"]["domain"]["in_domain"] is False
    assert "caution" not in docs["a"] and "domain_distance" not in docs["a"]
    for options, ids in ((["--no-caution"], ["b"]), (["--in-domain"], ["a"]),
                         (["--max-domain-distance", "1"], ["a"])):
        out = runner.invoke(app, ["query", "--db", path, *options, "--format", "csv"])
        assert [r["material_id"] for r in csv.DictReader(io.StringIO(out.output))] == ids
