"""DeepH directory reader/writer, orbital conventions and the format dispatch."""

import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from hts_z2.hamiltonian import TightBinding, orbital_table
from hts_z2.hamiltonian.formats import (
    HamiltonianFileError,
    read_deeph,
    read_hamiltonian,
    write_deeph,
    write_hamiltonian,
)
from hts_z2.hamiltonian.formats.deeph import HARTREE_EV
from hts_z2.hamiltonian.formats.deeph_layout import format_key, parse_key
from hts_z2.hamiltonian.formats.orbital_order import shell_permutation
from hts_z2.hamiltonian.lattice_models import fu_kane_mele, wilson_dirac
from hts_z2.hamiltonian.soc import assemble_soc, spinful_blocks
from hts_z2.hamiltonian.supercell import supercell

RNG = np.random.default_rng(7)
K = RNG.random((6, 3)) - 0.5


def _random_blocks(rng, R, n, scale, symmetric_onsite=True):
    """Real blocks with M(-R) = M(R)^T for the given half set of R (plus R = 0)."""
    blocks = {(0, 0, 0): np.zeros((n, n))}
    for r in R:
        A = rng.uniform(-scale, scale, (n, n))
        blocks[r] = A
        blocks[tuple(-x for x in r)] = A.T
    A = rng.uniform(-scale, scale, (n, n))
    blocks[(0, 0, 0)] = A + A.T if symmetric_onsite else A
    return blocks


def nonorthogonal_model() -> TightBinding:
    """Spinful Bi(s, p) + Se(s) chain-like model with SOC and a short-range overlap."""
    rng = np.random.default_rng(11)
    shells = [(0, 1), (0,)]
    orbitals = orbital_table(shells)
    n = len(orbitals)
    half = [(1, 0, 0), (0, 1, 0), (0, 0, 1)]
    h = _random_blocks(rng, half, n, 0.5)
    a = _random_blocks(rng, half, n, 0.5)
    keys = sorted(h)
    H0 = np.array([h[k] for k in keys])
    S0 = np.array([0.02 * a[k] for k in keys])
    zero = keys.index((0, 0, 0))
    S0[zero] += np.eye(n)
    xi = np.zeros_like(H0)
    x = rng.uniform(0.1, 0.4, (n, n))
    xi[zero] = x + x.T
    lattice = np.array([[4.0, 0.0, 0.0], [0.5, 4.2, 0.0], [0.0, 0.3, 6.0]])
    return TightBinding(
        lattice,
        np.array(keys),
        assemble_soc(H0, xi, orbitals),
        spinful_blocks(S0),
        n_occ=4,
        orbitals=orbitals,
        positions=np.array([[0.0, 0.0, 0.0], [0.5, 0.4, 0.3]]),
        numbers=np.array([83, 34]),
    )


def _by_R(tb: TightBinding, M: np.ndarray) -> dict:
    return {tuple(r): m for r, m in zip(tb.R.tolist(), M, strict=True)}


def _assert_same_matrices(a: TightBinding, b: TightBinding, Ma, Mb, atol):
    A, B = _by_R(a, Ma), _by_R(b, Mb)
    for R in A.keys() | B.keys():
        x = A.get(R, np.zeros_like(Ma[0]))
        y = B.get(R, np.zeros_like(Mb[0]))
        assert np.abs(x - y).max() <= atol, R


MODELS = {
    "wilson-dirac": lambda: wilson_dirac(2.0),
    "fu-kane-mele": lambda: fu_kane_mele(0.3),
    "nonorthogonal": nonorthogonal_model,
    "nonorthogonal-supercell": lambda: supercell(nonorthogonal_model(), np.diag([2, 1, 1])),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_round_trip(tmp_path, name):
    tb = MODELS[name]()
    write_deeph(tb, tmp_path / "data")
    back = read_deeph(tmp_path / "data")
    assert back.n_occ == tb.n_occ and back.spinful == tb.spinful
    assert np.allclose(back.lattice, tb.lattice, atol=1e-14)
    _assert_same_matrices(tb, back, tb.H, back.H, 1e-13)
    assert (back.S is None) == (tb.S is None)
    if tb.S is not None:
        _assert_same_matrices(tb, back, tb.S, back.S, 1e-14)
    assert np.allclose(back.eigh(K)[0], tb.eigh(K)[0], atol=1e-11)
    if tb.positions is not None:
        assert np.allclose(back.positions, tb.positions, atol=1e-13)
        assert np.array_equal(back.numbers, tb.numbers)
    if tb.orbitals is not None:
        for field in ("atom", "shell", "l", "m"):
            assert np.array_equal(getattr(back.orbitals, field), getattr(tb.orbitals, field))


def test_file_contents_of_nonorthogonal_spinful_model(tmp_path):
    tb = nonorthogonal_model()
    write_deeph(tb, tmp_path, species=["Bi", "Se"], fermi_level=1.5)
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["isspinful"] is True and info["isorthogonal"] is False
    assert info["n_occ"] == 4 and info["fermi_level"] == 1.5
    assert info["orbital_convention"] == "hts_z2"
    assert (tmp_path / "orbital_types.dat").read_text().split("\n")[:2] == ["0 1", "0"]
    assert np.allclose(np.loadtxt(tmp_path / "lat.dat"), tb.lattice.T)
    assert np.allclose(np.loadtxt(tmp_path / "site_positions.dat"), (tb.positions @ tb.lattice).T)
    assert np.loadtxt(tmp_path / "element.dat").tolist() == [83, 34]
    with h5py.File(tmp_path / "hamiltonians.h5") as fh, h5py.File(tmp_path / "overlaps.h5") as fs:
        assert set(fh) == set(fs)
        key = format_key((0, 0, 0), 0, 1)
        assert fh[key].shape == (8, 2) and fh[key].dtype == np.complex128
        assert fs[key].shape == (4, 1) and fs[key].dtype == np.float64
        # DeepH spin layout: atom 0's up orbitals (rows 0-3) then its down orbitals (4-7).
        block = fh[key][()]
        onsite = _by_R(tb, tb.H)[(0, 0, 0)]
        assert np.allclose(block[:4, 0], onsite[0:8:2, 8])
        assert np.allclose(block[4:, 1], onsite[1:8:2, 9])
        assert np.allclose(block[:4, 1], onsite[0:8:2, 9])


def test_zero_blocks_are_pruned(tmp_path):
    tb = fu_kane_mele(0.3)
    write_deeph(tb, tmp_path)
    expected = {
        format_key(R, i, j)
        for R, M in _by_R(tb, tb.H).items()
        for i in range(2)
        for j in range(2)
        if np.abs(M[2 * i : 2 * i + 2, 2 * j : 2 * j + 2]).max() >= 1e-12
    }
    # the identity overlap of an orthogonal model keeps the (zero) on-site H blocks
    expected |= {format_key((0, 0, 0), i, i) for i in range(2)}
    with h5py.File(tmp_path / "hamiltonians.h5") as fh:
        assert set(fh) == expected
    assert len(expected) < len(tb.R) * 4


def test_single_precision(tmp_path):
    tb = nonorthogonal_model()
    write_deeph(tb, tmp_path, dtype=np.complex64)
    with h5py.File(tmp_path / "hamiltonians.h5") as fh, h5py.File(tmp_path / "overlaps.h5") as fs:
        key = format_key((0, 0, 0), 0, 0)
        assert fh[key].dtype == np.complex64 and fs[key].dtype == np.float32
    back = read_deeph(tmp_path)
    _assert_same_matrices(tb, back, tb.H, back.H, 1e-6)
    assert np.allclose(back.eigh(K)[0], tb.eigh(K)[0], atol=1e-5)
    with pytest.raises(ValueError, match="dtype"):
        write_deeph(tb, tmp_path, dtype=np.int32)


# --- hand-written directories ------------------------------------------------------------
def write_dir(
    path: Path,
    shells: list[str],
    H: dict,
    S: dict | None,
    info: dict,
    lattice: np.ndarray | None = None,
) -> Path:
    lattice = np.eye(3) * 5.0 if lattice is None else lattice
    n_atoms = len(shells)
    path.mkdir(parents=True, exist_ok=True)
    np.savetxt(path / "lat.dat", lattice.T)
    np.savetxt(path / "site_positions.dat", (np.arange(n_atoms)[:, None] * [1.0, 1.5, 2.0]).T)
    np.savetxt(path / "element.dat", [6] * n_atoms, fmt="%d")
    (path / "orbital_types.dat").write_text("\n".join(shells) + "\n")
    (path / "info.json").write_text(json.dumps(info))
    for name, blocks in (("hamiltonians.h5", H), ("overlaps.h5", S)):
        if blocks is not None:
            with h5py.File(path / name, "w") as fh:
                for key, value in blocks.items():
                    fh[key] = value
    return path


def test_openmx_orbital_order(tmp_path):
    p = np.diag([1.0, 2.0, 3.0])  # px, py, pz
    p[0, 2] = p[2, 0] = 0.5  # <px|H|pz>
    d = np.diag([1.0, 2.0, 3.0, 4.0, 5.0])  # d3z2-r2, dx2-y2, dxy, dxz, dyz
    f = np.diag(np.arange(1.0, 8.0))  # fz3, fxz2, fyz2, fz(x2-y2), fxyz, fx(x2-3y2), fy(3x2-y2)
    H = {"[0, 0, 0, 1, 1]": p, "[0, 0, 0, 2, 2]": d, "[0, 0, 0, 3, 3]": f}
    S = {key: np.eye(len(v)) for key, v in H.items()}
    info = {"isspinful": False, "fermi_level": 0.0}
    path = write_dir(tmp_path / "omx", ["1", "2", "3"], H, S, info)
    tb = read_deeph(path, n_occ=3)
    onsite = tb.H[tb.onsite_index()].real
    assert np.allclose(np.diag(onsite)[:3], [2, 3, 1])  # y, z, x
    assert onsite[2, 1] == pytest.approx(0.5)  # <x|H|z>
    assert np.allclose(np.diag(onsite)[3:8], [3, 5, 1, 4, 2])  # xy, yz, z2, xz, x2-y2
    assert np.allclose(np.diag(onsite)[8:], [7, 5, 3, 1, 2, 4, 6])  # m = -3..3
    as_is = read_deeph(path, n_occ=3, orbital_convention="hts_z2")
    assert np.allclose(np.diag(as_is.H[as_is.onsite_index()].real)[:3], [1, 2, 3])
    write_deeph(tb, tmp_path / "again", orbital_convention="openmx")
    assert json.loads((tmp_path / "again" / "info.json").read_text())["orbital_convention"] == (
        "openmx"
    )
    with h5py.File(tmp_path / "again" / "hamiltonians.h5") as fh:
        for key, value in H.items():
            assert np.allclose(fh[key][()], value)
    assert np.allclose(read_deeph(tmp_path / "again").H, tb.H)


def test_shell_permutation_table():
    assert shell_permutation(1, "openmx")[0].tolist() == [1, 2, 0]
    assert shell_permutation(2, "openmx")[0].tolist() == [2, 4, 0, 3, 1]
    assert shell_permutation(3, "openmx")[0].tolist() == [6, 4, 2, 0, 1, 3, 5]
    assert shell_permutation(2, "hts_z2")[0].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="l <= 3"):
        shell_permutation(4, "openmx")
    with pytest.raises(ValueError, match="unknown orbital convention"):
        shell_permutation(1, "siesta")


def test_spinful_layout_and_overlap_sizes(tmp_path):
    h = np.diag([1.0, 2.0, 3.0, 4.0]).astype(complex)  # (mu0 up, mu1 up, mu0 dn, mu1 dn)
    h[0, 3], h[3, 0] = 0.1j, -0.1j  # <mu0 up|H|mu1 dn>
    info = {"isspinful": True, "fermi_level": 0.0, "n_occ": 2}
    for n_s, s in (("spinless", np.eye(2)), ("spinful", np.eye(4))):
        path = write_dir(
            tmp_path / n_s, ["0 0"], {"[0, 0, 0, 1, 1]": h}, {"[0, 0, 0, 1, 1]": s}, info
        )
        tb = read_deeph(path)
        onsite = tb.H[tb.onsite_index()]
        assert np.allclose(np.diag(onsite).real, [1, 3, 2, 4])  # 2*mu + sigma
        assert onsite[0, 3] == pytest.approx(0.1j)
        assert np.allclose(tb.S[tb.onsite_index()], np.eye(4))


def test_energy_unit(tmp_path):
    H = {"[0, 0, 0, 1, 1]": np.diag([-0.1, 0.2])}
    S = {"[0, 0, 0, 1, 1]": np.eye(2)}
    path = write_dir(tmp_path / "ha", ["0 0"], H, S, {"isspinful": False, "n_occ": 1})
    tb = read_deeph(path, energy_unit="Hartree")
    assert np.allclose(np.diag(tb.H[0]).real, [-0.1 * HARTREE_EV, 0.2 * HARTREE_EV])
    assert np.allclose(tb.S[0], np.eye(2))
    info = {"isspinful": False, "n_occ": 1, "energy_unit": "Hartree"}
    path = write_dir(tmp_path / "ha2", ["0 0"], H, S, info)
    assert np.allclose(read_deeph(path).H, tb.H)
    assert np.allclose(read_deeph(path, energy_unit="eV").H[0], H["[0, 0, 0, 1, 1]"])
    with pytest.raises(ValueError, match="unknown energy_unit"):
        read_deeph(path, energy_unit="Ry")


def test_keys():
    assert format_key((1, -2, 0), 0, 4) == "[1, -2, 0, 1, 5]"
    assert parse_key("[1, -2, 0, 1, 5]", "f") == ((1, -2, 0), 0, 4)
    assert parse_key("[1,-2,0,1,5]", "f") == ((1, -2, 0), 0, 4)
    with pytest.raises(HamiltonianFileError, match="bad block key"):
        parse_key("(1, -2, 0, 1, 5)", "f")


GOOD_H = {
    "[0, 0, 0, 1, 1]": np.diag([-1.0, 1.0]),
    "[1, 0, 0, 1, 1]": 0.1 * np.eye(2),
    "[-1, 0, 0, 1, 1]": 0.1 * np.eye(2),
}
GOOD_S = {"[0, 0, 0, 1, 1]": np.eye(2)}


def _break(path: Path, case: str) -> None:
    if case == "missing-lat":
        (path / "lat.dat").unlink()
    elif case == "missing-overlaps":
        (path / "overlaps.h5").unlink()
    elif case in ("bad-key", "atom-zero", "atom-beyond", "wrong-shape", "non-hermitian"):
        key, value = {
            "bad-key": ("[0, 0, 1, 1]", np.eye(2)),
            "atom-zero": ("[0, 0, 1, 0, 1]", np.eye(2)),
            "atom-beyond": ("[0, 0, 1, 2, 1]", np.eye(2)),
            "wrong-shape": ("[0, 0, 1, 1, 1]", np.eye(3)),
            "non-hermitian": ("[0, 0, 1, 1, 1]", np.array([[0.0, 0.3], [0.0, 0.0]])),
        }[case]
        with h5py.File(path / "hamiltonians.h5", "a") as fh:
            fh[key] = value
    elif case == "no-isspinful":
        (path / "info.json").write_text(json.dumps({"n_occ": 1}))
    elif case == "bad-convention":
        info = {"isspinful": False, "n_occ": 1, "orbital_convention": "siesta"}
        (path / "info.json").write_text(json.dumps(info))
    elif case == "bad-json":
        (path / "info.json").write_text("{isspinful: false")
    elif case == "atom-count":
        (path / "element.dat").write_text("6\n6\n")
    elif case == "bad-lattice":
        (path / "lat.dat").write_text("1 0 0\n0 1 0\n")
    elif case == "not-positive-overlap":
        with h5py.File(path / "overlaps.h5", "a") as fs:
            fs["[1, 0, 0, 1, 1]"] = 0.8 * np.eye(2)
            fs["[-1, 0, 0, 1, 1]"] = 0.8 * np.eye(2)


BROKEN = {
    "missing-lat": r"missing DeepH file\(s\) lat\.dat",
    "missing-overlaps": r"missing DeepH file\(s\) overlaps\.h5",
    "bad-key": r"hamiltonians\.h5: bad block key '\[0, 0, 1, 1\]'",
    "atom-zero": "atom indices start at 1",
    "atom-beyond": "names an atom beyond the 1 atoms",
    "wrong-shape": r"has shape \(3, 3\), expected \(2, 2\)",
    "non-hermitian": r"hamiltonians\.h5: H is not Hermitian",
    "no-isspinful": r"info\.json: must be a JSON object",
    "bad-json": r"info\.json: invalid JSON",
    "bad-convention": r"info\.json: unknown orbital_convention 'siesta'",
    "atom-count": "inconsistent atom counts",
    "bad-lattice": r"lat\.dat: expected 3 x 3",
    "not-positive-overlap": "overlap S\\(k\\) is not positive-definite",
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_malformed_directories_raise_clear_errors(tmp_path, case):
    path = write_dir(tmp_path / "d", ["0 0"], GOOD_H, GOOD_S, {"isspinful": False, "n_occ": 1})
    read_deeph(path)
    _break(path, case)
    with pytest.raises(HamiltonianFileError, match=BROKEN[case]) as info:
        read_deeph(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(str(path))


def test_n_occ_and_orthogonal_data(tmp_path):
    info = {"isspinful": False, "isorthogonal": True}
    path = write_dir(tmp_path / "d", ["0 0"], GOOD_H, None, info)
    with pytest.raises(ValueError, match="--n-occ"):
        read_deeph(path)
    tb = read_deeph(path, n_occ=1)
    assert tb.S is None and not tb.spinful
    assert np.allclose(tb.eigh(np.zeros((1, 3)))[0], [[-0.8, 1.2]])
    with pytest.raises(HamiltonianFileError, match="is a directory"):
        read_deeph(path / "info.json")


def test_writer_rejects_inconsistent_models(tmp_path):
    tb = nonorthogonal_model()
    with pytest.raises(ValueError, match="3 species given for 2 atoms"):
        write_deeph(tb, tmp_path, species=[83, 34, 34])
    with pytest.raises(ValueError, match="unknown element symbol"):
        write_deeph(tb, tmp_path, species=["Bi", "Xx"])
    shuffled = orbital_table([(1, 0), (0,)])
    shuffled = type(shuffled)(shuffled.atom, shuffled.shell, tb.orbitals.l, tb.orbitals.m)
    with pytest.raises(ValueError, match="canonical order"):
        write_deeph(tb.replace(orbitals=shuffled), tmp_path)


def test_dispatch_to_deeph(tmp_path):
    tb = nonorthogonal_model()
    assert write_hamiltonian(tb, tmp_path / "model") == tmp_path / "model"
    for path in (tmp_path / "model", tmp_path / "model" / "hamiltonians.h5"):
        back = read_hamiltonian(path)
        assert np.allclose(back.eigh(K)[0], tb.eigh(K)[0], atol=1e-11)
    write_hamiltonian(tb, tmp_path / "explicit_hr.dat", fmt="deeph")
    assert (tmp_path / "explicit_hr.dat" / "overlaps.h5").is_file()
    (tmp_path / "empty").mkdir()
    with pytest.raises(HamiltonianFileError, match="supported formats"):
        read_hamiltonian(tmp_path / "empty")
