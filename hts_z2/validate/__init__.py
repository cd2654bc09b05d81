"""Validate stored Z2 results against first-principles Wilson-loop references.

Readers (:mod:`~hts_z2.validate.z2pack`, :mod:`~hts_z2.validate.wanniertools`,
:mod:`~hts_z2.validate.pyatb`, :mod:`~hts_z2.validate.table`) turn other tools' outputs into
:class:`Reference` entries; :func:`compare` matches them to stored result documents and
computes agreement; :mod:`~hts_z2.validate.report` renders the outcome.
"""

from hts_z2.validate.compare import Entry, Summary, compare
from hts_z2.validate.discover import load_references
from hts_z2.validate.reference import PlaneWCC, ReaderError, Reference
from hts_z2.validate.results import ResultsError, load_results

__all__ = [
    "Entry",
    "PlaneWCC",
    "ReaderError",
    "Reference",
    "ResultsError",
    "Summary",
    "compare",
    "load_references",
    "load_results",
]
