"""Materials Project source with a fake rester: query building, chunking, errors."""

import pytest

from hts_z2.structures.embedded import get_embedded
from hts_z2.structures.sources.mp import MPError, MPQuery, connect, iter_mp


class FakeSummary:
    def __init__(self, docs_by_element, fail=None):
        self.docs = docs_by_element
        self.calls = []
        self.fail = fail

    def search(self, **kwargs):
        self.calls.append(kwargs)
        if self.fail:
            raise self.fail
        return self.docs.get(kwargs["elements"][0], [])


def doc(mid, entry_id, batch_id=None):
    s = get_embedded(entry_id).structure
    return {
        "material_id": mid,
        "formula_pretty": s.composition.reduced_formula,
        "elements": [el.symbol for el in s.composition.elements],
        "nsites": len(s),
        "symmetry": {"number": 166},
        "structure": s.as_dict(),
        "energy_above_hull": 0.0,
        "ordering": "NM",
        "batch_id": batch_id,
    }


def test_query_kwargs_defaults():
    q = MPQuery()
    elements = q.elements_to_query()
    assert "Bi" in elements and "Pb" in elements and "Yb" not in elements and "Hf" in elements
    kw = q.search_kwargs("Bi")
    assert kw["elements"] == ["Bi"]
    assert kw["num_sites"] == (1, 24)
    assert kw["energy_above_hull"] == (0.0, 0.1)
    assert kw["magnetic_ordering"].value == "NM"  # the type mp-api reads
    assert "Fe" in kw["exclude_elements"]
    assert "is_metal" not in kw and "structure" in kw["fields"]


def test_streams_per_element_and_dedupes():
    fake = FakeSummary({
        "Bi": [doc("mp-1", "Bi2Se3-R-3m"), doc("mp-2", "TlBiSe2-R-3m")],
        "Tl": [doc("mp-2", "TlBiSe2-R-3m"), doc("mp-3", "TlCl-Pm-3m", batch_id="gnome_r2scan")],
    })
    q = MPQuery(heavy_elements=["Bi", "Tl"], include_gnome=False)
    records = list(iter_mp(q, summary=fake))
    assert [r.material_id for r in records] == ["mp-1", "mp-2"]
    assert records[0].spacegroup == 166 and records[0].structure is not None
    assert [c["elements"] for c in fake.calls] == [["Bi"], ["Tl"]]
    assert all(c["include_gnome"] is False for c in fake.calls)


def test_no_key(monkeypatch):
    monkeypatch.delenv("MP_API_KEY", raising=False)
    with pytest.raises(MPError, match="MP_API_KEY"):
        connect()


def test_offline_error_hides_key(monkeypatch):
    monkeypatch.setenv("MP_API_KEY", "abcdefsecret")
    fake = FakeSummary({}, fail=ConnectionError("no route to host with key abcdefsecret"))
    with pytest.raises(MPError, match="offline") as info:
        list(iter_mp(MPQuery(heavy_elements=["Bi"]), summary=fake))
    assert "abcdefsecret" not in str(info.value)
