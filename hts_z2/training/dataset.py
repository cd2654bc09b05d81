"""Reading a reference dataset for training: basis and valence per element, splits."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hts_z2.reference.sample import SampleError, load_sample
from hts_z2.schemas.training import TrainingRecord, parent_compound


@dataclass
class LoadedDataset:
    """Samples of a dataset directory that load and agree on the basis.

    Attributes
    ----------
    samples : loaded ``ReferenceSample`` objects, sorted by id.
    basis : ``Z -> shells`` shared by all samples.
    valence : ``Z -> valence electrons`` solved from the samples' electron counts.
    rejected : sample id -> reason.
    sha256 : digest of the sorted (id, sample sha256) list: the data's identity.
    """

    samples: list
    basis: dict[int, tuple[int, ...]]
    valence: dict[int, int]
    rejected: dict[str, str] = field(default_factory=dict)
    sha256: str = ""


def sample_files(root: str | Path) -> list[Path]:
    root = Path(root)
    folder = root / "samples" if (root / "samples").is_dir() else root
    files = sorted(folder.glob("*.h5"))
    if not files:
        raise FileNotFoundError(f"no samples (*.h5) under {folder}")
    return files


def gpaw_setup_valence(z: int) -> int | None:
    """Valence electrons of GPAW's PBE PAW setup of element ``z`` (None without GPAW)."""
    try:
        from ase.data import chemical_symbols
        from gpaw.setup_data import SetupData
    except ImportError:
        return None
    try:
        return round(SetupData(chemical_symbols[z], "PBE", "paw").Nv)
    except (RuntimeError, OSError, ValueError):
        return None


def solve_valence(samples, setup_valence=gpaw_setup_valence) -> dict[int, int]:
    """Valence per element from ``n_electrons = sum_atoms v_Z`` over the samples.

    Samples with one unknown element fix it (repeat until nothing changes); elements the
    samples cannot pin down (e.g. only in TaAs and NbAs) come from ``setup_valence``
    (GPAW's setups when installed). Every sample must then be reproduced exactly.

    Raises
    ------
    ValueError when an element stays undetermined or the counts are not additive.
    """
    rows = []
    for s in samples:
        counts: dict[int, int] = {}
        for z in s.numbers.tolist():
            counts[int(z)] = counts.get(int(z), 0) + 1
        rows.append((s.sample_id, counts, int(s.n_electrons)))
    valence: dict[int, int] = {}
    changed = True
    while changed:
        changed = False
        for _, counts, n_el in rows:
            unknown = [z for z in counts if z not in valence]
            if len(unknown) != 1:
                continue
            z = unknown[0]
            rest = n_el - sum(c * valence[y] for y, c in counts.items() if y != z)
            if rest % counts[z] == 0 and rest > 0:
                valence[z] = rest // counts[z]
                changed = True
    missing = sorted({z for _, counts, _ in rows for z in counts} - set(valence))
    if missing and setup_valence is not None:
        for z in missing:
            v = setup_valence(z)
            if v is not None:
                valence[z] = v
        missing = [z for z in missing if z not in valence]
    if missing:
        try:
            import gpaw  # noqa: F401

            hint = "add a sample with one such element and otherwise known ones"
        except ImportError:
            hint = ("GPAW's setups give them: pip install 'hts-z2[dft]' (needs libxc and "
                    "OpenBLAS, see README), or add a sample with one such element and "
                    "otherwise known ones")
        raise ValueError(
            f"valence of Z = {missing} cannot be determined from the samples ({hint})"
        )
    for sid, counts, n_el in rows:
        if sum(c * valence[z] for z, c in counts.items()) != n_el:
            raise ValueError(f"electron counts are not additive over elements (e.g. {sid})")
    return valence


def load_dataset(
    root: str | Path, on_progress: Callable[[str], None] | None = None
) -> LoadedDataset:
    """Load every sample; samples that fail to load or disagree on the basis are rejected."""
    samples, rejected = [], {}
    basis: dict[int, tuple[int, ...]] = {}
    for path in sample_files(root):
        try:
            s = load_sample(path)
        except (SampleError, OSError, KeyError, ValueError) as err:
            rejected[path.stem] = f"{type(err).__name__}: {err}"
            continue
        clash = next(
            (
                z
                for z, sh in zip(s.numbers.tolist(), s.shells, strict=True)
                if basis.get(z, tuple(sh)) != tuple(sh)
            ),
            None,
        )
        if clash is not None:
            rejected[s.sample_id] = f"basis of Z={clash} differs from other samples"
            continue
        for z, sh in zip(s.numbers.tolist(), s.shells, strict=True):
            basis[z] = tuple(sh)
        samples.append(s)
        if on_progress is not None:
            on_progress(s.sample_id)
    if not samples:
        raise ValueError(f"no usable samples in {root}")
    digest = hashlib.sha256()
    for s in sorted(samples, key=lambda x: x.sample_id):
        digest.update(f"{s.sample_id}:{s.meta.get('sha256', '')}\n".encode())
    return LoadedDataset(
        sorted(samples, key=lambda x: x.sample_id),
        basis,
        solve_valence(samples),
        rejected,
        digest.hexdigest(),
    )


def group_of(sample_id: str) -> str:
    """Parent compound of a sample (variants share it): text before ``/`` or ``__``."""
    return parent_compound(sample_id)


def split_ids(
    elements: dict[str, set[int]],
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> dict[str, list[str]]:
    """Seeded split by parent compound, so no variant of a held-out compound is trained on.

    A compound is held out only if every element it contains stays covered by the
    training compounds (a model cannot be tested on elements it never saw).

    Parameters
    ----------
    elements : sample id -> atomic numbers in it.
    """
    ids = sorted(elements)
    groups: dict[str, set[int]] = {}
    for i in ids:
        groups.setdefault(group_of(i), set()).update(elements[i])
    names = sorted(groups)
    rng = np.random.default_rng(seed)
    order = [names[k] for k in rng.permutation(len(names))]
    n_test = max(1, round(test_fraction * len(names)))
    n_val = max(1, round(val_fraction * len(names)))
    train = set(names)
    held: list[str] = []
    for g in order:
        if len(held) == n_test + n_val:
            break
        rest = train - {g}
        covered = set().union(*(groups[r] for r in rest)) if rest else set()
        if groups[g] <= covered:
            held.append(g)
            train = rest
    test, val = set(held[:n_test]), set(held[n_test:])
    out: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for i in ids:
        g = group_of(i)
        out["test" if g in test else "val" if g in val else "train"].append(i)
    return out


def model_split(training: TrainingRecord | None, data: LoadedDataset) -> dict[str, list[str]]:
    """The split a registered model was trained with, rebuilt from its training record
    (``ModelConfig.training``: dataset sha256, seed, test ids) on ``data``.

    Raises
    ------
    ValueError
        ``data`` is not the model's training dataset (or the model has no training
        record), or the rebuilt split's test ids differ from the recorded ones.
    """
    recorded = training.dataset_sha256 if training is not None else None
    if training is None or data.sha256 != recorded:
        raise ValueError(
            f"the dataset (sha256 {data.sha256[:12]}) is not the one the model was trained "
            f"on (sha256 {str(recorded)[:12]})"
        )
    seed = training.seed
    split = split_ids({s.sample_id: set(s.numbers.tolist()) for s in data.samples}, seed)
    if sorted(split["test"]) != sorted(training.test_ids):
        raise ValueError(f"the split rebuilt with seed {seed} differs from the model's test ids")
    return split


def embedded_split(
    training: TrainingRecord | None, root: str | Path | None = None
) -> tuple[dict[str, list[str]], dict[str, object]]:
    """The split of a model trained on the dataset at ``root`` (default: the embedded one;
    see :func:`model_split`) and the dataset's samples by id. Raises ``ValueError`` like
    :func:`model_split`."""
    from hts_z2.reference.dataset import embedded_dataset_path

    data = load_dataset(root or embedded_dataset_path())
    return model_split(training, data), {s.sample_id: s for s in data.samples}


def check_new_samples(split: dict[str, list[str]], extra: LoadedDataset, kind: str) -> None:
    """Raise ``ValueError`` when a sample id of ``extra`` (``kind`` data) is in ``split``."""
    ids = {i for part in split.values() for i in part}
    clash = sorted(ids & {s.sample_id for s in extra.samples})
    if clash:
        raise ValueError(f"extra {kind} samples already in the split: {clash[:5]}")


def check_same_elements(
    basis: dict[int, tuple[int, ...]], valence: dict[int, int], extra: LoadedDataset, kind: str
) -> None:
    """Raise ``ValueError`` when an element shared with ``extra`` (``kind`` data) has
    another basis or valence."""
    for name, a, b, norm in (
        ("basis", basis, extra.basis, tuple),
        ("valence", valence, extra.valence, int),
    ):
        differ = sorted(z for z in set(a) & set(b) if norm(a[z]) != norm(b[z]))
        if differ:
            raise ValueError(f"the extra {kind} data's {name} differs for elements Z = {differ}")


def add_training_only(
    split: dict[str, list[str]], main: LoadedDataset, extra: LoadedDataset
) -> tuple[dict[str, list[str]], dict[int, tuple[int, ...]], dict[int, int]]:
    """Put every sample of ``extra`` into the training part of ``main``'s split.

    The validation and test parts stay exactly as ``main`` alone gives them, so models
    trained with and without the extra data are measured on the same held-out compounds.

    Returns
    -------
    (split, basis, valence) : the new split, and ``main``'s basis and valences with
        ``extra``'s elements added.

    Raises
    ------
    ValueError
        A sample id of ``extra`` is already in the split; a parent compound of ``extra`` is
        held out (val/test) in ``main`` (its variants would leak into training); or an
        element's basis or valence differs between the two.
    """
    check_new_samples(split, extra, "training")
    held = {group_of(i) for part in ("val", "test") for i in split[part]}
    leak = sorted({group_of(s.sample_id) for s in extra.samples} & held)
    if leak:
        raise ValueError(
            f"extra training samples of held-out compounds {leak[:5]} would leak into training"
        )
    check_same_elements(main.basis, main.valence, extra, "training")
    train = sorted(split["train"] + [s.sample_id for s in extra.samples])
    return (
        {**split, "train": train},
        {**main.basis, **extra.basis},
        {**main.valence, **extra.valence},
    )


def add_validation_only(
    split: dict[str, list[str]],
    basis: dict[int, tuple[int, ...]],
    valence: dict[int, int],
    extra: LoadedDataset,
) -> dict[str, list[str]]:
    """Put every sample of ``extra`` into the validation part of ``split``.

    A validation part of 18 samples from 3 compounds cannot tell models apart by a couple
    of screening labels; compounds computed for validation alone widen it without
    touching the training data or the test split.

    Parameters
    ----------
    split : train / val / test sample ids (training-only extras already in ``train``).
    basis, valence : per element, those of the data the model is (or was) trained on.

    Raises
    ------
    ValueError
        A sample id of ``extra`` is already in the split; a parent compound of ``extra``
        is in the training or test part; an element of ``extra`` is not in ``basis`` (a
        model is not validated on elements it never saw); or an element's basis or
        valence differs.
    """
    check_new_samples(split, extra, "validation")
    used = {group_of(i) for part in ("train", "test") for i in split[part]}
    overlap = sorted({group_of(s.sample_id) for s in extra.samples} & used)
    if overlap:
        raise ValueError(
            f"extra validation compounds {overlap[:5]} are in the training or test part"
        )
    unseen = sorted({int(z) for s in extra.samples for z in s.numbers} - set(basis))
    if unseen:
        raise ValueError(f"extra validation samples hold elements Z = {unseen} not trained on")
    check_same_elements(basis, valence, extra, "validation")
    return {**split, "val": sorted(split["val"] + [s.sample_id for s in extra.samples])}
