"""Training samples: a structure, its basis, and DFT Hamiltonian blocks on graph edges.

File format (HDF5, one file per sample, gzip+shuffle compressed; documented in
docs/dataset.md):

- ``/structure``: ``lattice`` [3,3] (Å, rows), ``positions`` [n_atoms,3] (fractional),
  ``numbers`` [n_atoms], ``shells`` [n_shell_total] (l of every shell) with
  ``shell_counts`` [n_atoms];
- ``/edges``: ``index`` [n_e, 5] int32 rows ``(i, j, R1, R2, R3)`` — the block of orbitals of
  atom ``i`` in cell 0 with atom ``j`` in cell ``R``; ``offset`` [n_e+1] into the flat blocks;
- ``h0``, ``s`` [n_values] and ``soc`` [3, n_values]: the blocks, stored as int32 multiples
  of the quanta ``QUANTA`` (10 µeV for H0, 1 µeV for SOC, 1e-8 for S; recorded in ``meta``),
  which compresses 3–6x better than float32;
  ``H(R) = H0(R) (x) 1 + i sum_v soc_v(R) (x) sigma_v`` (exact for a TR-symmetric H);
- ``/xi``: ``value`` [n_xi] float32 with ``index`` [n_xi, 3] int32 (edge, shell_i, shell_j):
  least-squares Uni-HamGNN SOC strengths;
- ``/bands``: ``k`` [n_k,3], ``energies`` [n_k, 2n] and ``energies_spinless`` [n_k, n] (eV) of
  the full (unpruned) model;
- attribute ``meta``: JSON (sample id, n_electrons, settings, versions, timings, pruning,
  xi residual, reference gap and Z2, sha256 of the arrays).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import lzma
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hts_z2.hamiltonian.basis import OrbitalTable, orbital_table
from hts_z2.hamiltonian.soc import spinful_blocks
from hts_z2.hamiltonian.tightbinding import TightBinding, TightBindingError
from hts_z2.reference.halfedges import EdgeBlocks, expand, halve

FORMAT_VERSION = 3
"""3: ``s`` and ``soc`` stored as residuals of their prediction from the basis
(:mod:`hts_z2.reference.blockcoding`); 2: only canonical edges stored
(:mod:`hts_z2.reference.halfedges`); 1 and 2 are still read. A sample whose elements or
shells the shipped radial tables lack is written as format 2."""
_CODING_ARRAYS = ("soc_radial", "soc_radial_index")
QUANTA = {"h0": 1e-5, "s": 1e-8, "soc": 1e-6}
"""Storage resolution of the block values (eV for h0 and soc). Overlaps of double-zeta
bases are nearly singular (smallest eigenvalues ~1e-5), hence the fine overlap quantum.
Files record the quanta they were written with."""
_ARRAYS = (
    "lattice",
    "positions",
    "numbers",
    "edge_index",
    "offset",
    "h0",
    "s",
    "soc",
    "xi_value",
    "xi_index",
    "band_k",
    "band_energies",
    "band_energies_spinless",
)


class SampleError(ValueError):
    """A sample file is missing, corrupt or inconsistent."""


def quantize(x: np.ndarray, name: str, quanta: dict | None = None) -> np.ndarray:
    """Integer multiples of ``quanta[name]`` (int32, or int64 when the values need it)."""
    q = np.round(np.asarray(x, dtype=np.float64) / (quanta or QUANTA)[name])
    big = bool(q.size) and float(np.abs(q).max()) >= 2**31
    if big and float(np.abs(q).max()) >= 2**62:
        raise SampleError(f"{name} values too large to store ({np.abs(x).max():.3g})")
    return q.astype(np.int64 if big else np.int32)


def dequantize(q: np.ndarray, name: str, quanta: dict | None = None) -> np.ndarray:
    return q.astype(np.float64) * (quanta or QUANTA)[name]


@dataclass(frozen=True, eq=False)
class ReferenceSample:
    """One DFT reference structure with its Hamiltonian on graph edges (see module doc)."""

    sample_id: str
    lattice: np.ndarray
    positions: np.ndarray
    numbers: np.ndarray
    shells: tuple[tuple[int, ...], ...]
    edge_index: np.ndarray
    offset: np.ndarray
    h0: np.ndarray
    s: np.ndarray
    soc: np.ndarray
    xi_value: np.ndarray
    xi_index: np.ndarray
    band_k: np.ndarray
    band_energies: np.ndarray
    band_energies_spinless: np.ndarray
    n_electrons: int
    meta: dict = field(default_factory=dict)

    # --- sizes -------------------------------------------------------------------------
    @property
    def orbitals(self) -> OrbitalTable:
        return orbital_table(self.shells)

    @property
    def n_orbitals_per_atom(self) -> np.ndarray:
        return np.array([sum(2 * l + 1 for l in sh) for sh in self.shells])

    @property
    def n_edges(self) -> int:
        return len(self.edge_index)

    def block_shape(self, e: int) -> tuple[int, int]:
        n = self.n_orbitals_per_atom
        i, j = self.edge_index[e, :2]
        return int(n[i]), int(n[j])

    # --- dense reconstruction ----------------------------------------------------------
    def dense_blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(R [n_R,3], H0 [n_R,n,n], S [n_R,n,n], soc [n_R,3,n,n]) in float64."""
        R, inverse = np.unique(self.edge_index[:, 2:], axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        nat = self.n_orbitals_per_atom
        start = np.concatenate([[0], np.cumsum(nat)])
        n = int(start[-1])
        H0 = np.zeros((len(R), n, n))
        S = np.zeros((len(R), n, n))
        B = np.zeros((len(R), 3, n, n))
        for e, (i, j) in enumerate(self.edge_index[:, :2]):
            a, b = self.offset[e], self.offset[e + 1]
            shape = (nat[i], nat[j])
            rows = slice(start[i], start[i + 1])
            cols = slice(start[j], start[j + 1])
            H0[inverse[e], rows, cols] = self.h0[a:b].reshape(shape)
            S[inverse[e], rows, cols] = self.s[a:b].reshape(shape)
            B[inverse[e], :, rows, cols] = self.soc[:, a:b].reshape(3, *shape)
        return R, H0, S, B

    def tight_binding(self, spinful: bool = True) -> TightBinding:
        """The spinful (or spinless H0) model with S and ``n_occ`` from the electron count.

        Raises
        ------
        TightBindingError for an odd electron count (metallic by Kramers' theorem).
        """
        R, H0, S, B = self.dense_blocks()
        if R.shape[0] == 0 or not np.any(np.all(R == 0, axis=1)):
            raise SampleError(f"sample {self.sample_id} has no on-site blocks")
        if spinful:
            if self.n_electrons % 2:
                raise TightBindingError(
                    f"{self.sample_id}: odd electron count {self.n_electrons} (a metal)"
                )
            H = spinful_blocks(H0, B)
            S2 = spinful_blocks(S)
            n_occ = self.n_electrons
        else:
            H, S2, n_occ = H0.astype(complex), S.astype(complex), self.n_electrons // 2
        return TightBinding(
            self.lattice,
            R,
            H,
            S2,
            n_occ=n_occ,
            spinful=spinful,
            orbitals=self.orbitals,
            positions=self.positions,
            numbers=self.numbers,
        )

    # --- io ----------------------------------------------------------------------------
    def arrays_sha256(self) -> str:
        """sha256 over the arrays (canonical dtype and order) and the sample id."""
        h = hashlib.sha256(self.sample_id.encode())
        for name in _ARRAYS:
            h.update(np.ascontiguousarray(self._stored(name)).tobytes())
        return h.hexdigest()

    def _stored(self, name: str) -> np.ndarray:
        """The array as written to disk (block values quantized)."""
        value = getattr(self, name)
        return quantize(value, name, self.quanta) if name in QUANTA else np.asarray(value)

    @property
    def quanta(self) -> dict:
        """Storage quanta of this sample (those it was read with, else the current ones)."""
        return self.meta.get("quanta", QUANTA)

    def edge_blocks(self) -> EdgeBlocks:
        return EdgeBlocks(
            self.edge_index,
            self.offset,
            self.h0,
            self.s,
            self.soc,
            self.xi_value,
            self.xi_index,
        )

    def with_blocks(self, b: EdgeBlocks) -> ReferenceSample:
        return replace(
            self,
            edge_index=b.edge_index,
            offset=b.offset,
            h0=b.h0,
            s=b.s,
            soc=b.soc,
            xi_value=b.xi_value,
            xi_index=b.xi_index,
        )

    def symmetric(self) -> ReferenceSample:
        """Edges reordered as files store them: canonical ones, then their reverses (whose
        blocks follow by symmetry)."""
        return self.with_blocks(expand(halve(self.edge_blocks()), self.n_orbitals_per_atom))

    def save(self, path: str | Path, keep_identity: bool = False) -> Path:
        """Write atomically (temporary file + rename): a file either exists complete or
        not at all. Only canonical edges are written.

        ``meta["content_sha256"]`` is the sha256 of the expanded (:meth:`symmetric`)
        arrays, which is what :func:`load_sample` returns. ``meta["sha256"]`` is the
        sample's identity (datasets and models refer to it): the content sha256, or with
        ``keep_identity`` the identity this sample was read with (a file rewritten in
        another format keeps it, though a format-1 file's edges come back reordered)."""
        import h5py

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        full = self.symmetric()
        content = full.arrays_sha256()
        meta = dict(
            self.meta,
            sample_id=self.sample_id,
            n_electrons=int(self.n_electrons),
            format_version=FORMAT_VERSION,
            sha256=self.meta.get("sha256", content) if keep_identity else content,
            content_sha256=content,
        )
        half = full.with_blocks(halve(full.edge_blocks()))
        arrays = {name: half._stored(name) for name in _ARRAYS}
        coding = _encode(half, arrays)
        if coding is None:
            meta["format_version"] = 2
        else:
            meta["coding"] = coding
            meta["stored_sha256"] = _stored_sha256(self.sample_id, arrays)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".h5", dir=path.parent)
        os.close(fd)
        try:
            with h5py.File(tmp, "w") as f:
                opts = {"compression": "gzip", "compression_opts": 6, "shuffle": True}
                for name, arr in arrays.items():
                    if coding is not None and arr.size > 64:
                        _write_packed(f, name, arr)
                    else:
                        f.create_dataset(name, data=arr, **(opts if arr.size > 64 else {}))
                f.create_dataset("shells", data=np.array([l for sh in self.shells for l in sh]))
                f.create_dataset("shell_counts", data=np.array([len(sh) for sh in self.shells]))
                f.attrs["meta"] = json.dumps(meta, default=_json_default)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path


def _crystal_edges(sample: ReferenceSample):
    from hts_z2.reference.blockcoding import Crystal, Edges

    crystal = Crystal(sample.lattice, sample.positions, sample.numbers, sample.shells)
    return crystal, Edges(sample.edge_index, sample.offset)


def _as_int(x: np.ndarray) -> np.ndarray:
    big = bool(x.size) and int(np.abs(x).max()) >= 2**31
    return x.astype(np.int64 if big else np.int32)


def _predicted_quanta(calc, crystal, edges, index, coef, quanta) -> tuple[np.ndarray, ...]:
    """The predicted S [n_values] and SOC [3, n_values] in storage quanta (int64): what
    encoding subtracts and decoding adds back."""
    from hts_z2.reference import blockcoding as bc

    s_fit, soc_fit = bc.predict_blocks(calc, crystal, edges, index, coef)
    return (
        quantize(s_fit, "s", quanta).astype(np.int64),
        quantize(soc_fit, "soc", quanta).astype(np.int64),
    )


def _encode(half: ReferenceSample, arrays: dict[str, np.ndarray]) -> dict | None:
    """Replace ``arrays["s"]``/``["soc"]`` (quantized, canonical edges) by the residuals of
    their prediction and add the SOC coefficients; the coding record for ``meta``, or None
    (arrays untouched) when the shipped tables cannot describe the sample."""
    from hts_z2.reference import blockcoding as bc

    try:
        calc = bc.tables_calculator()
        crystal, edges = _crystal_edges(half)
        bc.check_basis(calc, crystal)
    except bc.CodingError:
        return None
    index, coef = bc.fit_soc(calc, crystal, edges, half.soc)
    s_pred, soc_pred = _predicted_quanta(calc, crystal, edges, index, coef, half.quanta)
    arrays["s"] = _as_int(arrays["s"].astype(np.int64) - s_pred)
    arrays["soc"] = _as_int(arrays["soc"].astype(np.int64) - soc_pred)
    arrays["soc_radial"] = coef.astype(np.float64)
    arrays["soc_radial_index"] = index.astype(np.int32)
    return {
        "s": "residual of the exact overlap of the basis",
        "soc": "residual of the PAW-sphere SOC operator with radial coefficients soc_radial",
        "predictor": bc.PREDICTOR_VERSION,
        "tables": calc.basis.name,
        "tables_sha256": calc.basis.digest(half.numbers),
    }


def _decode(sample: ReferenceSample, coef: np.ndarray, index: np.ndarray) -> ReferenceSample:
    """Add the predictions back to the residuals stored in ``sample.s``/``.soc`` (quantized
    integers at this point; canonical edges)."""
    from hts_z2.reference import blockcoding as bc

    coding = sample.meta["coding"]
    if coding.get("predictor") != bc.PREDICTOR_VERSION:
        raise SampleError(
            f"{sample.sample_id}: blocks coded with predictor {coding.get('predictor')}, "
            f"this version decodes {bc.PREDICTOR_VERSION}"
        )
    try:
        calc = bc.tables_calculator(coding["tables"])
        crystal, edges = _crystal_edges(sample)
        bc.check_basis(calc, crystal)
    except bc.CodingError as err:
        raise SampleError(f"{sample.sample_id}: cannot decode the blocks ({err})") from None
    if calc.basis.digest(sample.numbers) != coding["tables_sha256"]:
        raise SampleError(
            f"{sample.sample_id}: written with other radial tables than the shipped "
            f"{coding['tables']!r} (sha256 differs); the blocks cannot be decoded"
        )
    q = sample.quanta
    s_pred, soc_pred = _predicted_quanta(calc, crystal, edges, index, coef, q)
    s = sample.s.astype(np.int64) + s_pred
    soc = sample.soc.astype(np.int64) + soc_pred
    return replace(sample, s=dequantize(s, "s", q), soc=dequantize(soc, "soc", q))


PACKED = "lzma-byteshuffle"
"""How format 3 stores arrays of more than 64 elements: the bytes of each element
transposed (all first bytes, then all second bytes, ...; integers that are mostly small
become long runs) and LZMA-compressed (Python's standard library), in a uint8 dataset
whose attributes give codec, dtype and shape. 1.5x smaller than HDF5's gzip+shuffle on
the Hamiltonian blocks."""


def _write_packed(f, name: str, arr: np.ndarray) -> None:
    arr = np.ascontiguousarray(arr)
    shuffled = arr.reshape(-1).view(np.uint8).reshape(-1, arr.dtype.itemsize).T
    data = lzma.compress(np.ascontiguousarray(shuffled).tobytes(), preset=6)
    ds = f.create_dataset(name, data=np.frombuffer(data, dtype=np.uint8))
    ds.attrs["codec"] = PACKED
    ds.attrs["dtype"] = arr.dtype.str
    ds.attrs["shape"] = np.array(arr.shape, dtype=np.int64)


def _read(ds) -> np.ndarray:
    """A dataset's array, unpacking :data:`PACKED` ones."""
    codec = ds.attrs.get("codec")
    if codec is None:
        return ds[()]
    if codec != PACKED:
        raise SampleError(f"unknown array codec {codec!r} of {ds.name}")

    dtype = np.dtype(ds.attrs["dtype"])
    shape = tuple(int(x) for x in ds.attrs["shape"])
    raw = np.frombuffer(lzma.decompress(ds[()].tobytes()), dtype=np.uint8)
    return raw.reshape(dtype.itemsize, -1).T.copy().view(dtype).reshape(shape)


def _stored_sha256(sample_id: str, arrays: dict[str, np.ndarray]) -> str:
    """sha256 over the arrays as a format-3 file stores them (file integrity)."""
    h = hashlib.sha256(sample_id.encode())
    for name in (*_ARRAYS, *_CODING_ARRAYS):
        h.update(np.ascontiguousarray(arrays[name]).tobytes())
    return h.hexdigest()


def _json_default(x):
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(f"not JSON serializable: {type(x)}")


def load_sample_meta(path: str | Path) -> dict:
    """The ``meta`` attribute of a sample file (ids, settings, reference labels) without
    reading its arrays."""
    import h5py

    try:
        with h5py.File(Path(path), "r") as f:
            return json.loads(f.attrs["meta"])
    except (OSError, KeyError) as err:
        raise SampleError(f"{path}: not a readable sample file ({err})") from None


@dataclass(frozen=True)
class SampleSummary:
    """What a dataset summary needs of a sample, read without its blocks."""

    sample_id: str
    numbers: np.ndarray
    n_orbitals_per_atom: np.ndarray
    n_edges: int
    meta: dict


def load_sample_summary(path: str | Path) -> SampleSummary:
    """Id, atoms, orbitals, edge count and ``meta`` of a sample file (no blocks decoded).
    ``n_edges`` counts both directions of every atom pair, as :func:`load_sample` returns."""
    import h5py

    try:
        with h5py.File(Path(path), "r") as f:
            meta = json.loads(f.attrs["meta"])
            numbers = _read(f["numbers"])
            flat, counts = f["shells"][()], f["shell_counts"][()]
            edge_index = _read(f["edge_index"])
    except (OSError, KeyError) as err:
        raise SampleError(f"{path}: not a readable sample file ({err})") from None
    bounds = np.concatenate([[0], np.cumsum(counts)])
    per_atom = np.array(
        [sum(2 * int(l) + 1 for l in flat[a:b]) for a, b in itertools.pairwise(bounds)]
    )
    n_edges = len(edge_index)
    if meta.get("format_version", 1) >= 2:
        self_pair = (edge_index[:, 0] == edge_index[:, 1]) & np.all(edge_index[:, 2:] == 0, axis=1)
        n_edges = 2 * n_edges - int(self_pair.sum())
    return SampleSummary(meta["sample_id"], numbers, per_atom, n_edges, meta)


def _read_stored(path: Path, verify: bool) -> tuple[dict, dict[str, np.ndarray], tuple]:
    """(meta, arrays as stored, (flat shells, shell counts)) of a sample file; a format-3
    file's stored sha256 is checked when ``verify``."""
    import h5py

    if not path.is_file():
        raise SampleError(f"no sample file at {path}")
    try:
        with h5py.File(path, "r") as f:
            meta = json.loads(f.attrs["meta"])
            coded = meta.get("format_version") == 3
            names = (*_ARRAYS, *_CODING_ARRAYS) if coded else _ARRAYS
            arrays = {name: _read(f[name]) for name in names}
            shells = (f["shells"][()], f["shell_counts"][()])
    except (OSError, KeyError, ValueError, EOFError, lzma.LZMAError) as err:
        raise SampleError(f"{path}: not a readable sample file ({err})") from None
    version = meta.get("format_version")
    if version not in (1, 2, FORMAT_VERSION):
        raise SampleError(f"{path}: unsupported format version {version}")
    if coded and verify and _stored_sha256(meta["sample_id"], arrays) != meta.get("stored_sha256"):
        raise SampleError(f"{path}: sha256 mismatch (file corrupt or edited)")
    return meta, arrays, shells


def sample_file_ok(path: str | Path) -> bool:
    """Whether a sample file is complete and intact, as cheaply as the format allows: a
    format-3 file by its stored sha256 (no decoding), older ones by a full verified read."""
    path = Path(path)
    try:
        meta, _, _ = _read_stored(path, verify=True)
        if meta.get("format_version") != 3:
            load_sample(path)
    except SampleError:
        return False
    return True


def load_sample(path: str | Path, verify: bool = True) -> ReferenceSample:
    """Read a sample file; checks the format version and (by default) the sha256."""
    meta, arrays, (flat, counts) = _read_stored(Path(path), verify)
    version = meta.get("format_version")
    coded = version == 3
    coef, index = (arrays.pop(name, None) for name in _CODING_ARRAYS)
    quanta = meta.get("quanta", QUANTA)
    for name in QUANTA if not coded else ("h0",):
        arrays[name] = dequantize(arrays[name], name, quanta)
    bounds = np.concatenate([[0], np.cumsum(counts)])
    shells = tuple(tuple(int(x) for x in flat[a:b]) for a, b in itertools.pairwise(bounds))
    sample = ReferenceSample(
        sample_id=meta["sample_id"],
        shells=shells,
        n_electrons=int(meta["n_electrons"]),
        meta=meta,
        **arrays,
    )
    if coded:
        sample = _decode(sample, coef, index)
    if version >= 2:
        sample = sample.with_blocks(expand(sample.edge_blocks(), sample.n_orbitals_per_atom))
    if (
        verify
        and not coded
        and sample.arrays_sha256() != meta.get("content_sha256", meta.get("sha256"))
    ):
        raise SampleError(f"{path}: sha256 mismatch (file corrupt or edited)")
    return sample
