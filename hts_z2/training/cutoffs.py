"""The overlap cutoffs the calibration tries (a light module: the CLI's help reads it
without importing torch)."""

CANDIDATE_CUTOFFS = (0.0, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 0.2, 0.3)
"""Overlap cutoffs tried by default. Above 0.1 the truncation costs band accuracy but
keeps ghost bands (H errors amplified by 1/eigenvalue of S) out of gaps (docs/model.md)."""
