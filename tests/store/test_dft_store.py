"""First-principles cache: keyed by (fingerprint, method, settings), never losing a finished
result, seeded with the committed label of record; embedded montydb and real MongoDB."""

import pytest

from hts_z2.reference.planewave.record import load_results
from hts_z2.reference.planewave.settings import METHOD, PlaneWaveSettings
from hts_z2.schemas.dft import DftResult
from hts_z2.store.dft import DFT_INDEXES, DftStore, open_dft_store
from hts_z2.store.results import open_store


def result(status="done", label="STI (1;000)", key=None, fingerprint="f" * 24):
    return DftResult(
        material_id="X", formula="Bi2Se3", fingerprint=fingerprint, method=METHOD,
        settings_key=key or PlaneWaveSettings().key(), status=status,
        label=label if status == "done" else None,
        reason=None if status == "done" else "GPAW SCF did not converge",
    )


def empty_store(location):
    return DftStore(open_store(location, collection="dft_results", indexes=DFT_INDEXES))


@pytest.fixture(params=["monty", "mongo"])
def location(request, tmp_path):
    if request.param == "monty":
        return str(tmp_path / "store")
    return request.getfixturevalue("mongo_uri")


def test_cache_key_and_no_overwrite_by_failure(location):
    with empty_store(location) as store:
        done = result()
        assert store.put(done)
        assert store.cached(done.fingerprint, METHOD, done.settings_key).label == "STI (1;000)"
        assert not store.put(result(status="failed"))  # a failure never replaces a result
        assert store.cached(done.fingerprint, METHOD, done.settings_key).status == "done"
        other = PlaneWaveSettings(ecut=400).key()
        assert store.cached(done.fingerprint, METHOD, other) is None
        assert store.put(result(key=other, label="trivial (0;000)"))
        assert store.count() == 2  # same structure, other settings: a second document
        assert store.put(result(label="trivial (0;000)"))  # a new result replaces the old
        assert store.count() == 2


def test_failed_results_are_kept_until_a_result_arrives(location):
    with empty_store(location) as store:
        failed = result(status="failed", fingerprint="a" * 24)
        assert store.put(failed)
        assert store.cached(failed.fingerprint, METHOD, failed.settings_key) is None
        assert store.get(failed.fingerprint, METHOD, failed.settings_key).status == "failed"
        assert store.put(result(fingerprint="a" * 24))
        assert store.count() == 1


def test_open_seeds_the_committed_label_of_record(location):
    committed = load_results()
    assert len(committed) == 44, "hts_z2/data/label_of_record/results.json.gz must be complete"
    with open_dft_store(location) as store:
        assert store.count() == len(committed)
        bi2se3 = committed["Bi2Se3-R-3m"]
        found = store.cached(bi2se3.fingerprint, bi2se3.method, bi2se3.settings_key)
        assert found is not None and found.label == bi2se3.label
    with open_dft_store(location) as store:  # re-opening adds nothing
        assert store.count() == len(committed)


def test_an_auto_result_answers_every_request_and_is_never_narrowed(location):
    with empty_store(location) as store:
        parity_only = result(fingerprint="b" * 24).model_copy(update={"requested": "parity"})
        assert store.put(parity_only)
        key = parity_only.settings_key
        assert store.cached("b" * 24, METHOD, key, "parity") is not None
        assert store.cached("b" * 24, METHOD, key, "auto") is None  # no Wilson check yet
        full = result(fingerprint="b" * 24)
        assert store.put(full)  # the wider result replaces the narrower one
        assert store.cached("b" * 24, METHOD, key, "parity").requested == "auto"
        assert not store.put(parity_only)  # and is not narrowed again
        assert store.count() == 1
