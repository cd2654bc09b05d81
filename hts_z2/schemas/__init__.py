"""Typed documents passed between stages and stored (pydantic, every field described), and
the small value types they are built from.

- :mod:`~hts_z2.schemas.labels`: ``Z2Label`` (parse, format, compare topological labels).
- :mod:`~hts_z2.schemas.caution`: ``Caution`` (why a label may not hold: code, value,
  threshold).
- :mod:`~hts_z2.schemas.result`: the screening result document and its parts.
- :mod:`~hts_z2.schemas.dft`: the first-principles (label of record) documents and the
  confirmation part of a result.
- :mod:`~hts_z2.schemas.campaign`: screening settings and campaign counts.
- :mod:`~hts_z2.schemas.training`: the records passed between training stages.

This package imports nothing else of ``hts_z2``: every layer may use it. Its modules are
imported by name (this file imports none of them, so that a command that needs one
document does not load them all).
"""
