"""The mutation-impact table and what is made from it, under the names they have always had.

The work is split in plain parts: ``table`` (placing and measuring: one row per input row x
structure x target chain x site, statuses and provenance; see its docstring), ``summary``
(one row per variant), ``tables`` (writers and streaming) and ``columns`` (the column engine).
"""

from __future__ import annotations

from ..analysis.columns import COLUMNS
from ..analysis.table import PLACED_KINDS, STATUSES, consequence_detail, impact_table
from ..cutoffs import check_cutoff
from ..judge.summary import SUMMARY_COLUMNS, summarize
from .writers import (
    STREAM_SUFFIXES,
    TABLE_SUFFIXES,
    check_output,
    neutralise_cells,
    provenance,
    write_impact,
    write_table,
)

__all__ = ["impact_table", "summarize", "write_table", "write_impact", "neutralise_cells",
           "provenance", "check_cutoff", "consequence_detail", "COLUMNS", "SUMMARY_COLUMNS",
           "STATUSES", "PLACED_KINDS", "STREAM_SUFFIXES", "TABLE_SUFFIXES", "check_output"]
