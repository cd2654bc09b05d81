"""The Materials Project source through mp-api's own client classes (the version the `mp`
extra pins), with only the network replaced: requests' transport answers the heartbeat
and the summary endpoint. Query building and argument types are the client's own."""

import json
from importlib.metadata import version
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from pymatgen.core import Composition, Lattice, Structure

from hts_z2.structures.sources.mp import MPQuery, connect, iter_mp


def summary_doc(mid, formula, structure, number):
    return {"material_id": mid, "formula_pretty": formula,
            "elements": sorted({str(s) for s in structure.species}),
            "nsites": len(structure), "structure": structure.as_dict(),
            "symmetry": {"number": number, "crystal_system": "Cubic", "symbol": "Fm-3m",
                         "point_group": "m-3m", "symprec": 0.1, "version": "2.0"},
            "energy_above_hull": 0.0, "band_gap": 0.8, "is_metal": False, "ordering": "NM"}


PBTE = summary_doc("mp-19717", "PbTe", Structure(
    Lattice.cubic(6.46), ["Pb", "Te"], [[0, 0, 0], [0.5, 0.5, 0.5]]), 225)


@pytest.fixture
def network(monkeypatch):
    """requests' transport replaced: the requests the client sent, by path."""
    sent = []

    def send(adapter, request, **kwargs):
        url = urlparse(request.url)
        sent.append((url.path, parse_qs(url.query)))
        if url.path.endswith("/heartbeat"):
            body = {"db_version": "2025.09.25", "version": version("emmet-core"),
                    "access_controlled_batch_ids": []}
        elif url.path.endswith("/materials/summary/"):
            body = {"data": [PBTE], "meta": {"total_doc": 1}}
        else:
            body = {"error": f"unexpected path {url.path}"}
        response = requests.Response()
        response.status_code, response.url, response.request = 200, request.url, request
        response._content = json.dumps(body).encode()
        response.headers["Content-Type"] = "application/json"
        return response

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", send)
    return sent


def test_a_query_through_the_real_client(network):
    assert version("mp-api").startswith("0.46.")
    records = list(iter_mp(MPQuery(heavy_elements=["Pb"], include_gnome=False),
                           summary=connect("k" * 32)))
    [record] = records
    assert (record.material_id, record.spacegroup) == ("mp-19717", 225)
    assert Composition(record.formula) == Composition("PbTe")
    assert record.structure.composition == Composition("PbTe") and record.nsites == 2
    assert record.meta["ordering"] == "NM"
    [(_, params)] = [s for s in network if s[0].endswith("/materials/summary/")]
    assert params["elements"] == ["Pb"] and params["ordering"] == ["NM"]
    assert params["nsites_max"] == ["24"] and params["energy_above_hull_max"] == ["0.1"]
    assert params["batch_id_not_eq"] == ["gnome_r2scan_statics"]  # include_gnome=False
    assert "Fe" in params["exclude_elements"][0]
    assert set(params["_fields"][0].split(",")) >= {"material_id", "structure", "symmetry"}
