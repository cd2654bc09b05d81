"""Screening with the shipped model gives the same documents whether the predicted
Hamiltonian stays in atom-pair blocks (default) or becomes dense H(R), S(R) lists, and
whether gap and Z2 run for several structures at once or one after another."""

import numpy as np
import pytest

from hts_z2.flows.screening import screen_records
from hts_z2.hamiltonian.formats import read_deeph
from hts_z2.model.predictor import load_model
from hts_z2.schemas.campaign import ScreeningSettings
from hts_z2.structures.filter import CandidateFilter
from hts_z2.structures.sources import SourceSpec, iter_source

IDS = ["Bi2Se3-R-3m", "PbTe-Fm-3m", "Pb-Fm-3m", "HgTe-F-43m"]  # STI, trivial, metals


def test_sparse_and_dense_forms_give_identical_documents(tmp_path):
    model = load_model()
    docs = {}
    for form, workers in (("sparse", 3), ("dense", 1)):
        records = list(iter_source(SourceSpec(kind="demo", paths=IDS)))
        settings = ScreeningSettings(kspacing=0.3, model_form=form, workers=workers,
                                     hamiltonian_dir=str(tmp_path / form))  # fmt: skip
        stored = []
        docs[form] = screen_records(records, model, CandidateFilter(), settings,
                                    on_doc=stored.append)  # fmt: skip
        assert [d.material_id for d in docs[form]] == IDS  # input order
        assert sorted(d.material_id for d in stored) == sorted(IDS)  # each stored once
    labels = [str(d.label) for d in docs["sparse"]]
    assert labels[0] == "STI (1;000)" and labels[1].startswith("trivial")
    for s, d in zip(docs["sparse"], docs["dense"], strict=True):
        assert (s.material_id, s.status, s.label, s.reason) == (
            d.material_id, d.status, d.label, d.reason)  # fmt: skip
        assert s.gap.indirect == pytest.approx(d.gap.indirect, abs=1e-9)
        assert s.gap.direct == pytest.approx(d.gap.direct, abs=1e-9)
        assert [c.code for c in s.cautions] == [c.code for c in d.cautions]
        if d.z2 is not None:
            assert (s.z2.planes, s.z2.grid) == (d.z2.planes, d.z2.grid)
        # the exported Hamiltonians (DeepH) are the same model
        a, b = read_deeph(s.meta["hamiltonian"]), read_deeph(d.meta["hamiltonian"])
        k = np.array([[0.1, 0.2, 0.3], [0.5, 0.0, 0.25]])
        np.testing.assert_allclose(a.hk(k), b.hk(k), atol=1e-12)
        np.testing.assert_allclose(a.sk(k), b.sk(k), atol=1e-12)


def test_an_unknown_form_is_refused():
    with pytest.raises(ValueError, match="model_form must be sparse or dense"):
        ScreeningSettings(model_form="csr")
    with pytest.raises(ValueError, match="workers must be >= 1"):
        ScreeningSettings(workers=0)


def test_bands_device_is_resolved_and_checked():
    from hts_z2.flows.screening import bands_device

    assert bands_device(ScreeningSettings()) is None
    assert bands_device(ScreeningSettings(bands_device="auto")) in ("cpu", "cuda")
    with pytest.raises(ValueError, match="bands_device must be"):
        ScreeningSettings(bands_device="gpu0")


def test_a_failing_store_stops_the_chunk():
    """An exception from ``on_doc`` (the store) propagates from the first document on
    (queued structures are cancelled); nothing is reported stored that was not."""
    model = load_model()
    records = list(iter_source(SourceSpec(kind="demo", paths=IDS)))
    seen = []

    def broken_store(doc):
        seen.append(doc.material_id)
        raise OSError("disk full")

    settings = ScreeningSettings(kspacing=0.3, workers=2)
    with pytest.raises(OSError, match="disk full"):
        screen_records(records, model, CandidateFilter(), settings, on_doc=broken_store)
    assert len(seen) == 1
