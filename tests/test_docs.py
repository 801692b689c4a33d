"""The examples in the public docstrings are real: run them against the mirror."""

from __future__ import annotations

import doctest
import importlib

import pytest

import structkit as sk

MODULES = ["analysis.table", "judge.summary", "io.variants", "analysis.structure_analysis",
           "io.structure", "judge.therapy", "io.resolve", "io.uniprot", "io.ids",
           "analysis.numbering", "catalog", "session", "io.msa", "outputs.writers",
           "outputs.cohort", "io.fetch", "analysis.anatomy", "io.evidence",
           "analysis.conformation", "settings"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"structkit.{name}")
    names = {n: getattr(sk, n) for n in ("impact_table", "summarize", "parse_variants", "analyze",
                                         "load", "therapy_matrix", "uniprot_record",
                                         "cohort_tables")}
    result = doctest.testmod(module, extraglobs=names, report=True,
                             optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
