"""Wannier90 _hr.dat reader/writer and the format dispatch."""

from pathlib import Path

import numpy as np
import pytest

from hts_z2.hamiltonian import TightBinding
from hts_z2.hamiltonian.formats import (
    HamiltonianFileError,
    read_hamiltonian,
    read_hr,
    write_hamiltonian,
    write_hr,
)
from hts_z2.hamiltonian.formats.wannier90 import BOHR_ANGSTROM, parse_win_lattice
from hts_z2.hamiltonian.lattice_models import fu_kane_mele, kane_mele, wilson_dirac

RNG = np.random.default_rng(20240611)
K = RNG.random((7, 3)) - 0.5
SKEWED = np.array([[3.0, 0.0, 0.0], [1.0, 2.5, 0.0], [0.3, 0.4, 4.0]])

# Hand-made 2-orbital model: on-site H0 and a hopping T to R = (1, 0, 0) that is neither
# symmetric nor Hermitian, so a row/column mix-up or a forgotten ndegen changes H(k).
H0 = np.array([[0.5, 0.1 - 0.2j], [0.1 + 0.2j, -0.5]])
T = np.array([[0.3, 0.25 + 0.1j], [0.05 - 0.15j, -0.2]])
NDEGEN = {(0, 0, 0): 2, (1, 0, 0): 4, (-1, 0, 0): 4}


def _hr_lines(blocks: dict, ndegen: dict, num_wann: int) -> list[str]:
    """Stored values (physical * ndegen) in Wannier90's loop order: n outer, m inner."""
    lines = ["created by hand", f"{num_wann:12d}", f"{len(blocks):12d}"]
    lines.append("".join(f"{ndegen[R]:5d}" for R in blocks))
    for R, M in blocks.items():
        for n in range(num_wann):
            for m in range(num_wann):
                v = M[m, n] * ndegen[R]
                lines.append(
                    f"{R[0]:5d}{R[1]:5d}{R[2]:5d}{m + 1:5d}{n + 1:5d}{v.real:12.6f}{v.imag:12.6f}"
                )
    return lines


def _hand_file(tmp_path: Path, lines: list[str] | None = None, name="toy_hr.dat") -> Path:
    if lines is None:
        blocks = {(0, 0, 0): H0, (1, 0, 0): T, (-1, 0, 0): T.conj().T}
        lines = _hr_lines(blocks, NDEGEN, 2)
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _read_toy(path: Path) -> TightBinding:
    return read_hr(path, lattice=np.eye(3) * 3.0, n_occ=1, spinful=False)


def _blocks(tb: TightBinding) -> dict:
    return {tuple(r): h for r, h in zip(tb.R.tolist(), tb.H, strict=True)}


def test_hand_written_file_gives_hand_computed_hk(tmp_path):
    tb = _read_toy(_hand_file(tmp_path))
    phase = np.exp(2j * np.pi * K[:, 0])[:, None, None]
    expected = H0 + T * phase + T.conj().T / phase
    assert np.allclose(tb.hk(K), expected, atol=1e-12)
    assert np.allclose(_blocks(tb)[(1, 0, 0)], T, atol=1e-12)
    assert not tb.spinful and tb.S is None and tb.n_occ == 1


@pytest.mark.parametrize(
    "tb",
    [wilson_dirac(2.0), wilson_dirac(-2.0, lattice=SKEWED), fu_kane_mele(0.3), kane_mele()],
    ids=["wilson-dirac", "wilson-dirac-skewed", "fu-kane-mele", "kane-mele"],
)
@pytest.mark.parametrize("spin_order", ["w90", "blocks"])
def test_round_trip(tmp_path, tb, spin_order):
    path = write_hr(tb, tmp_path / "model_hr.dat", spin_order=spin_order)
    back = read_hr(path, lattice=tb.lattice, n_occ=tb.n_occ, spin_order=spin_order)
    original, read = _blocks(tb), _blocks(back)
    assert original.keys() == read.keys()
    assert max(np.abs(original[R] - read[R]).max() for R in original) < 1e-11
    assert np.allclose(back.lattice, tb.lattice)
    assert np.allclose(back.eigh(K)[0], tb.eigh(K)[0], atol=1e-10)
    assert back.spinful and back.n_occ == tb.n_occ


def test_writer_uses_wannier90_loop_order(tmp_path):
    onsite = np.array([[1.0, 2.0 + 0.5j], [2.0 - 0.5j, 3.0]])
    tb = TightBinding(np.eye(3), np.zeros((1, 3), dtype=int), onsite[None], n_occ=1, spinful=False)
    lines = write_hr(tb, tmp_path / "x_hr.dat", header="my\nheader").read_text().splitlines()
    assert lines[0] == "my header"
    assert [int(lines[1]), int(lines[2]), int(lines[3])] == [2, 1, 1]
    rows = [line.split() for line in lines[4:]]
    assert [(int(r[3]), int(r[4])) for r in rows] == [(1, 1), (2, 1), (1, 2), (2, 2)]
    for r in rows:
        m, n = int(r[3]) - 1, int(r[4]) - 1
        assert complex(float(r[5]), float(r[6])) == pytest.approx(onsite[m, n])


def test_spin_orders_permute_the_basis(tmp_path):
    tb = fu_kane_mele(0.3)
    H = tb.H.copy()
    H[tb.onsite_index()] += np.diag([0.01, 0.02, 0.03, 0.04])
    tb = tb.replace(H=H)
    path = write_hr(tb, tmp_path / "blocks_hr.dat", spin_order="blocks")
    rows = np.loadtxt(path, skiprows=4)
    diag = rows[np.all(rows[:, :3] == 0, axis=1) & (rows[:, 3] == rows[:, 4])]
    file_diag = diag[np.argsort(diag[:, 3]), 5]
    n = 2
    for mu in range(n):
        for s in range(2):
            assert file_diag[s * n + mu] == pytest.approx(
                H[tb.onsite_index()][2 * mu + s, 2 * mu + s].real
            )
    as_blocks = read_hr(path, lattice=tb.lattice, n_occ=2, spin_order="blocks")
    as_interleaved = read_hr(path, lattice=tb.lattice, n_occ=2, spin_order="interleaved")
    assert np.allclose(as_blocks.H, tb.H, atol=1e-11)
    p = np.array([0, 2, 1, 3])  # project index -> blocks-file index
    assert np.allclose(as_interleaved.H[:, p][:, :, p], tb.H, atol=1e-11)
    assert not np.allclose(as_interleaved.H, tb.H)
    assert np.allclose(as_interleaved.eigh(K)[0], as_blocks.eigh(K)[0], atol=1e-10)


def test_tbmodels_agrees_with_writer(tmp_path):
    import tbmodels
    tb = fu_kane_mele(0.3)
    path = write_hr(tb, tmp_path / "fkm_hr.dat")
    model = tbmodels.Model.from_wannier_files(hr_file=str(path), uc=tb.lattice)
    for k in K:
        assert np.allclose(model.hamilton(k), tb.hk(k[None])[0], atol=1e-10)


def test_reader_agrees_with_tbmodels_writer(tmp_path):
    import tbmodels
    model = tbmodels.Model(on_site=[0.4, -0.3], dim=3, occ=1, uc=np.eye(3), pos=[[0.0] * 3] * 2)
    model.add_hop(0.2 + 0.3j, 0, 1, [1, 0, 0])
    model.add_hop(-0.1, 1, 1, [0, 1, 0])
    model.add_hop(0.05j, 0, 1, [0, 0, 0])
    path = tmp_path / "tbm_hr.dat"
    path.write_text(model.to_hr())
    tb = read_hr(path, lattice=np.eye(3), n_occ=1, spinful=False)
    for k in K:
        assert np.allclose(model.hamilton(k), tb.hk(k[None])[0], atol=1e-6)


@pytest.mark.parametrize(
    ("unit_line", "scale"), [("Bohr", BOHR_ANGSTROM), ("ang", 1.0), (None, 1.0)]
)
def test_lattice_from_win(tmp_path, unit_line, scale):
    _hand_file(tmp_path, name="seed_hr.dat")
    rows = ["  3.0 0.0 0.0  ! a1", "1.0 2.5 0.0", "0.3 0.4 4.0"]
    block = ([unit_line] if unit_line else []) + rows
    (tmp_path / "seed.win").write_text(
        "num_wann = 2\n# comment\nBegin Unit_Cell_Cart\n"
        + "\n".join(block)
        + "\nEnd Unit_Cell_Cart\nmp_grid : 4 4 4\n"
    )
    tb = read_hr(tmp_path / "seed_hr.dat", n_occ=1, spinful=False)
    assert np.allclose(tb.lattice, SKEWED * scale)
    assert np.allclose(parse_win_lattice(tmp_path / "seed.win"), SKEWED * scale)
    assert np.allclose(
        read_hr(
            tmp_path / "seed_hr.dat", lattice=tmp_path / "seed.win", n_occ=1, spinful=False
        ).lattice,
        SKEWED * scale,
    )


def test_missing_lattice_and_n_occ(tmp_path):
    path = _hand_file(tmp_path)
    with pytest.raises(HamiltonianFileError, match=r"toy_hr\.dat.*lattice.*toy\.win"):
        read_hr(path, n_occ=1, spinful=False)
    with pytest.raises(ValueError, match="--n-occ"):
        read_hr(path, lattice=np.eye(3), spinful=False)
    (tmp_path / "toy.win").write_text("begin unit_cell_cart\n1 0 0\n0 1 0\nend unit_cell_cart\n")
    with pytest.raises(HamiltonianFileError, match=r"toy\.win.*\(2, 3\)"):
        read_hr(path, n_occ=1, spinful=False)


def _edit(lines: list[str], index: int, column: int, value: str) -> list[str]:
    words = lines[index].split()
    words[column] = value
    return [*lines[:index], " ".join(words), *lines[index + 1 :]]


MALFORMED = {
    "truncated": (lambda ls: ls[:-3], r"expected nrpts \* num_wann\^2 = 3 \* 2\^2 = 12 lines"),
    "truncated-mid-line": (lambda ls: [*ls[:-1], ls[-1][:22]], "malformed data line"),
    "wrong-num-wann": (lambda ls: [ls[0], "3", *ls[2:]], "expected nrpts"),
    "num-wann-too-small": (lambda ls: [ls[0], "1", *ls[2:]], "expected nrpts"),
    "not-hr": (lambda ls: [ls[0], "two", *ls[2:]], "not a Wannier90 _hr.dat"),
    "missing-degeneracies": (lambda ls: [*ls[:3], "    2    4", *ls[4:]], "degeneracies"),
    "non-hermitian": (lambda ls: _edit(ls, 4 + 4 + 2, 5, "0.7"), "not Hermitian"),
    "index-out-of-range": (lambda ls: _edit(ls, 5, 3, "3"), "outside 1..num_wann"),
    "repeated-pair": (lambda ls: _edit(ls, 5, 3, "1"), "missing or repeated"),
    "missing-minus-R": (
        lambda ls: [ls[0], ls[1], "2", "    2    4", *ls[4:12]],
        r"R = \(1, 0, 0\) is present but -R = \(-1, 0, 0\) is not",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_malformed_files_raise_clear_errors(tmp_path, case):
    edit, message = MALFORMED[case]
    lines = _hr_lines({(0, 0, 0): H0, (1, 0, 0): T, (-1, 0, 0): T.conj().T}, NDEGEN, 2)
    path = _hand_file(tmp_path, edit(lines))
    with pytest.raises(HamiltonianFileError, match=message) as info:
        _read_toy(path)
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith(str(path))


def test_spinful_needs_even_num_wann_and_orthogonal_writer(tmp_path):
    path = _hand_file(tmp_path, _hr_lines({(0, 0, 0): np.eye(1)}, {(0, 0, 0): 1}, 1))
    with pytest.raises(HamiltonianFileError, match="even num_wann"):
        read_hr(path, lattice=np.eye(3), n_occ=1)
    tb = wilson_dirac(2.0)
    tb = tb.replace(S=np.where(np.all(tb.R == 0, axis=1)[:, None, None], np.eye(4), 0))
    with pytest.raises(ValueError, match="no overlap"):
        write_hr(tb, tmp_path / "s_hr.dat")
    with pytest.raises(ValueError, match="unknown spin_order"):
        read_hr(path, lattice=np.eye(3), n_occ=1, spin_order="up-down")


def test_dispatch_to_hr(tmp_path):
    tb = fu_kane_mele(-0.2)
    path = write_hamiltonian(tb, tmp_path / "fkm_hr.dat")
    assert np.allclose(read_hamiltonian(path, lattice=tb.lattice, n_occ=2).hk(K), tb.hk(K))
    other = write_hamiltonian(tb, tmp_path / "hamiltonian.txt", fmt="w90")
    assert np.allclose(read_hamiltonian(other, lattice=tb.lattice, n_occ=2).hk(K), tb.hk(K))
    junk = tmp_path / "notes.txt"
    junk.write_text("hello\nworld\n")
    with pytest.raises(HamiltonianFileError, match="supported formats"):
        read_hamiltonian(junk)
    with pytest.raises(FileNotFoundError):
        read_hamiltonian(tmp_path / "absent_hr.dat")
    with pytest.raises(ValueError, match="unknown format"):
        write_hamiltonian(tb, tmp_path / "x", fmt="poscar")
