"""The training documents (hts_z2.schemas.training): every field described, JSON round
trips, and the records written before them (the shipped model's ``config.json``, older
``split.json`` / ``calibration.json`` / training records) still load."""

import doctest
import json
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from hts_z2.schemas import training as docs
from hts_z2.schemas.training import (
    ArchitectureOptions,
    Calibration,
    CutoffScore,
    DatasetDigest,
    DatasetEntry,
    EvaluationMetrics,
    LabelOfRecord,
    MetricsSummary,
    Recalibration,
    RecalibrationSpec,
    SampleLabels,
    Split,
    SplitRecord,
    StructureMetrics,
    TrainingRecord,
    TrainingSpec,
    TrainSettings,
    WarmStart,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "hts-z2-soc-v5.1" / "config.json"


def documents() -> list[type[BaseModel]]:
    return [
        obj
        for obj in vars(docs).values()
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == docs.__name__
    ]


@pytest.mark.parametrize("doc", documents(), ids=lambda d: d.__name__)
def test_every_field_is_described(doc):
    missing = [name for name, f in doc.model_fields.items() if not (f.description or "").strip()]
    assert not missing, f"{doc.__name__}: fields without a description: {missing}"
    assert (doc.__doc__ or "").strip(), f"{doc.__name__} has no docstring"


def test_the_module_imports_nothing_else_from_hts_z2():
    import ast

    tree = ast.parse(Path(docs.__file__).read_text())
    imported = [
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.Import | ast.ImportFrom)
        for a in (n.names if isinstance(n, ast.Import) else [n])
    ]
    assert not [m for m in imported if m and m.startswith("hts_z2")], imported
    assert doctest.testmod(docs).failed == 0


def structure(sid: str, **kw) -> StructureMetrics:
    values = dict(sample_id=sid, h0_mae_meV=3.0, soc_mae_meV=0.1, s_mae=1e-6,
                  band_mae_meV=120.0, band_mae_ref_s_meV=110.0, lowest_s_eigenvalue=1e-3,
                  h0_mae_large_meV=90.0, label_ref="trivial (0;000)",
                  label_pred="metal")  # fmt: skip
    return StructureMetrics(**{**values, **kw})


def examples() -> list[BaseModel]:
    """One filled instance of each document a run writes or records."""
    settings = TrainSettings(max_epochs_stage1=2, batch_size=2, seed=3)
    split = Split(train=["PbTe-Fm-3m", "Pb-Fm-3m"], val=["SnTe-Fm-3m"], test=["Bi-R-3m"])
    entry = DatasetEntry(dataset="/data/extra", dataset_sha256="ab" * 32, samples=3,
                         rejected={"x": "OSError: broken"})  # fmt: skip
    record = SplitRecord(
        dataset="/data/main", dataset_sha256="cd" * 32, split=split, seed=3,
        config={"basis": {"82": [0, 1, 2]}, "valence": {"82": 14}, "training": {}},
        init_from=WarmStart(model="/models/a", sha256="ef" * 32),
        labels={"PbTe-Fm-3m": "trivial (0;000)"},
        label_of_record={"PbTe-Fm-3m": LabelOfRecord(parent="PbTe-Fm-3m", label="trivial (0;000)",
                                                      lcao_label="trivial (0;000)",
                                                      lcao_disagrees=False)},
        extra_train=[entry],
        recalibrated_from=Recalibration(model="/models/a", sha256="ef" * 32, settings=settings,
                                        date="2026-12-01"),
    )  # fmt: skip
    cal = Calibration(
        overlap_cutoff=0.1, criterion="labels", split="val",
        scores=[CutoffScore(cutoff=0.1, band_mae_meV=150.0, n_solved=1, n_total=1,
                            reference_band_mae_meV=90.0, labels_agree=1)],
        labels={"SnTe-Fm-3m": SampleLabels(reference="metal", predicted={"0.1": "metal"})},
    )  # fmt: skip
    metrics = EvaluationMetrics(
        n_structures=1, h0_mae_meV=3.0, h0_mae_large_meV=90.0, soc_mae_meV=0.1, s_mae=1e-6,
        band_mae_meV=120.0, n_band=1, z2_agree=0, z2_total=1, structures=[structure("Bi-R-3m")],
    )  # fmt: skip
    trained = TrainingRecord(
        dataset_sha256="cd" * 32, n_train=2, n_val=1, n_test=1, test_ids=["Bi-R-3m"],
        settings=settings, metrics=metrics.summary(), overlap_calibration=cal,
        extra_train=[DatasetDigest(dataset_sha256="ab" * 32, samples=3)], code_version="0.1.0",
        date="2026-12-05", state_stage=3,
    )  # fmt: skip
    spec = TrainingSpec(dataset="/data/main", extra_val=["/data/val"], work="w",
                        models_root="m", arch=ArchitectureOptions(channels=4, r_cut=7.0),
                        settings=settings, cutoffs=[0.1, 0.01], z2=False)  # fmt: skip
    recal = RecalibrationSpec(model_dir="/models/a", dataset="/data/main", work="w",
                              models_root="m", calibrate_by="band")  # fmt: skip
    return [settings, split, entry, record, cal, metrics, trained, spec, recal]


@pytest.mark.parametrize("doc", examples(), ids=lambda d: type(d).__name__)
def test_json_round_trip(doc):
    again = type(doc).model_validate_json(doc.model_dump_json())
    assert again == doc
    assert json.loads(again.model_dump_json()) == json.loads(doc.model_dump_json())


def test_the_shipped_models_training_record_loads_typed():
    from hts_z2.model.config import ModelConfig

    raw = json.loads(SHIPPED.read_text())
    cfg = ModelConfig.load(SHIPPED)
    rec = cfg.training
    assert isinstance(rec, TrainingRecord)
    assert rec.n_train == raw["training"]["n_train"] and rec.test_ids == raw["training"]["test_ids"]
    assert rec.settings.batch_size == 2 and rec.seed == 0
    assert rec.overlap_calibration.overlap_cutoff == cfg.overlap_cutoff == 0.2
    assert rec.overlap_calibration.score_at(0.2).band_mae_meV > 0
    assert rec.overlap_calibration.labels["Bi2Te3-R-3m"].reference == "STI (1;000)"
    assert rec.metrics.n_structures == 32 and rec.metrics.z2_total_record == 0  # older metrics
    assert rec.extra_train == [DatasetDigest(dataset_sha256=raw["training"]["extra_train"][0]
                                             ["dataset_sha256"], samples=43)]  # fmt: skip
    # written before the device was a setting: the default fills it in
    assert "device" not in raw["training"]["recalibrated_from"]["settings"]
    assert rec.recalibrated_from.settings.device == "cpu"
    assert cfg.validated_band_error() == pytest.approx(
        rec.overlap_calibration.score_at(0.2).band_mae_meV / 1e3
    )
    # saved again, every value it had is kept
    dumped = cfg.to_dict()["training"]

    def within(old, new):
        if isinstance(old, dict):
            return all(within(v, new[k]) for k, v in old.items())
        if isinstance(old, list):
            return len(old) == len(new) and all(within(a, b) for a, b in zip(old, new, strict=True))
        return old == new

    assert within(raw["training"], dumped)
    assert ModelConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.inference_key() == ModelConfig.from_dict(raw).inference_key()


OLDEST = {  # a training record of the first registered models (git history)
    "code_version": "0.1.0", "dataset_sha256": "ab" * 32, "date": "2026-11-20",
    "metrics": {"band_mae_meV": 700.0, "band_mae_ref_s_meV": 650.0, "h0_mae_meV": 9.0,
                "n_band": 20, "n_structures": 20, "s_mae": 0.01, "soc_mae_meV": 0.5,
                "z2_agree": 9, "z2_total": 20},
    "n_test": 20, "n_train": 150, "n_val": 20,
    "settings": {"band_lambda": 0.01, "batch_size": 2, "grad_clip": 10.0, "lr_stage1": 0.003,
                 "lr_stage2": 0.0005, "max_epochs_stage1": 200, "max_epochs_stage2": 50,
                 "max_minutes_stage1": 28.0, "max_minutes_stage2": 10.0, "min_lr": 1e-05,
                 "patience": 5, "seed": 0, "stop_patience": 30, "weight_decay": 0.0001,
                 "weight_overlap_pd": 10.0, "weight_s": 10.0, "weight_soc": 5.0},
    "state_stage": 3, "test_ids": ["Bi2Se3-R-3m"],
}  # fmt: skip


def test_older_training_records_load():
    rec = TrainingRecord.model_validate(OLDEST)
    assert rec.settings.weight_rms == 1.0  # not yet a setting then: the default
    assert rec.metrics.h0_mae_large_meV is None and rec.overlap_calibration is None
    assert rec.extra_train == [] and rec.init_from is None
    # a calibration from before the criterion and labels were recorded chose by band MAE
    old_cal = {
        "overlap_cutoff": 0.001,
        "split": "val",
        "scores": [{"band_mae_meV": 80.0, "cutoff": 0.001, "n_solved": 4, "n_total": 4}],
    }
    rec = TrainingRecord.model_validate({**OLDEST, "overlap_calibration": old_cal})
    assert rec.overlap_calibration.criterion == "band" and rec.overlap_calibration.labels == {}
    assert rec.overlap_calibration.scores[0].labels_agree is None
    # empty parts some writers stored, and unknown keys (kept)
    rec = TrainingRecord.model_validate({**OLDEST, "init_from": {}, "note": "re-measured"})
    assert rec.init_from is None and rec.model_dump()["note"] == "re-measured"
    assert rec.n_train == 150 and rec.model_extra["note"] == "re-measured"


def test_older_split_and_calibration_files_load():
    old_split = {  # split.json before labels of record, validation-only data and the seed
        "dataset": "/data/main", "dataset_sha256": "ab" * 32, "rejected": {},
        "split": {"train": ["A", "A__strain"], "val": ["B"], "test": ["C/rattle-0", "C"]},
        "config": {"basis": {"82": [0]}, "valence": {"82": 4}, "training": {}},
        "init_from": None, "labels": {"A": "metal"}, "extra_train": [],
    }  # fmt: skip
    record = SplitRecord.model_validate_json(json.dumps(old_split))
    assert record.seed is None and record.label_of_record == {} and record.extra_val == []
    assert record.split.parents("test") == ["C"] and record.split.ids() == old_split["split"]
    assert json.loads(record.model_dump_json())["split"] == old_split["split"]
    cal = Calibration.model_validate_json(
        '{"overlap_cutoff": 0.01, "scores": [{"cutoff": 0.01, "band_mae_meV": null, '
        '"n_solved": 0, "n_total": 2}]}'
    )
    assert (cal.criterion, cal.split, cal.score_at(0.01).n_total) == ("band", "val", 2)
    before = structure("C").model_dump(exclude={"band_mae_truncation_meV", "label_record"})
    metrics = EvaluationMetrics.model_validate({**OLDEST["metrics"], "structures": [before]})
    assert metrics.structures[0].label_record is None and metrics.z2_total_record == 0
    assert isinstance(metrics.summary(), MetricsSummary)
    assert "structures" not in metrics.summary().model_dump()


def test_model_config_takes_the_record_as_a_dict_or_a_document():
    from hts_z2.model.config import ModelConfig

    bare = ModelConfig(basis={82: (0, 1)}, valence={82: 4})
    assert bare.training is None and bare.to_dict()["training"] == {}
    assert replace(bare, training={}).training is None
    cfg = replace(bare, training=OLDEST)
    assert isinstance(cfg.training, TrainingRecord) and cfg.training.n_train == 150
    assert replace(bare, training=cfg.training) == cfg == ModelConfig.from_dict(cfg.to_dict())
    assert cfg.inference_key() == bare.inference_key()  # descriptive only
    with pytest.raises(ValidationError):
        replace(bare, training={"n_train": "many"})


def test_settings_and_specs_refuse_unknown_options():
    with pytest.raises(ValidationError):
        TrainSettings(max_epoch_stage1=3)  # a typo is not silently ignored
    with pytest.raises(ValidationError):
        TrainSettings().batch_size = 2  # frozen: one run, one set of settings
    with pytest.raises(ValidationError):
        TrainingSpec(dataset="d", work="w", models_root="m", calibrate_by="z2")
    assert ArchitectureOptions(channels=4).overrides() == {"channels": 4}
    assert TrainingSpec.model_validate(
        {"dataset": "d", "work": "w", "models_root": "m", "arch": {"r_cut": 7.0}}
    ).arch.overrides() == {"r_cut": 7.0}
