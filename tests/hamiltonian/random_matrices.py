"""Seeded random Hermitian and positive-definite matrix stacks for the solver tests."""

import numpy as np


def random_pd(rng: np.random.Generator, nk: int, n: int) -> np.ndarray:
    """[nk, n, n] Hermitian positive-definite (lowest eigenvalue >= n)."""
    A = rng.normal(size=(nk, n, n)) + 1j * rng.normal(size=(nk, n, n))
    return A @ np.conj(np.swapaxes(A, 1, 2)) + n * np.eye(n)


def random_herm(rng: np.random.Generator, nk: int, n: int) -> np.ndarray:
    """[nk, n, n] Hermitian."""
    A = rng.normal(size=(nk, n, n)) + 1j * rng.normal(size=(nk, n, n))
    return A + np.conj(np.swapaxes(A, 1, 2))
