"""Every field of every document is described; doctests of the value types run here."""

import doctest
import importlib

import pytest
from pydantic import BaseModel

SCHEMA_MODULES = ["hts_z2.schemas.labels", "hts_z2.schemas.caution", "hts_z2.schemas.result",
                  "hts_z2.schemas.dft", "hts_z2.schemas.campaign"]


def _documents():
    for name in SCHEMA_MODULES:
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (isinstance(obj, type) and issubclass(obj, BaseModel) and obj is not BaseModel
                    and obj.__module__ == name):
                yield obj


@pytest.mark.parametrize("doc", list(_documents()), ids=lambda d: d.__name__)
def test_every_field_has_a_description(doc):
    missing = [n for n, f in doc.model_fields.items() if not f.description]
    assert not missing, f"{doc.__name__}: fields without a description: {missing}"
    assert (doc.__doc__ or "").strip(), f"{doc.__name__} has no docstring"


@pytest.mark.parametrize("name", ["hts_z2.schemas.labels", "hts_z2.schemas.caution"])
def test_doctests_of_the_value_types(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
