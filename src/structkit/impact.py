"""The mutation-impact table: variants x structures x target chains x sites, as a tidy DataFrame.

Every row carries its provenance: PDB ID, model, chain, author residue number and insertion
code, the residue in the file, how the UniProt position was mapped (DBREF or alignment, and
``via`` the family alignment when a HER2 variant is placed on an EGFR complex), the cut-offs
used and the structkit version. Statuses:

- ``mapped``: the residue is in the structure and is the expected residue;
- ``reference mismatch``: the residue is there but differs (engineered or crystallised mutation;
  the detail says whether the structure already carries the variant); distances are given;
- ``unobserved``: inside the construct but not in the coordinates;
- ``not covered``: outside the construct (or no aligned residue in the family member);
- ``not available offline`` / ``fetch failed``: the structure could not be obtained;
- ``truncating`` (nonsense, frameshift, start lost): one row per variant, not placed on
  structures; ``detail`` lists the residues, domains and binding-site residues lost;
- ``splice`` (splice-site change), ``extension`` (stop lost), ``no protein change``
  (synonymous or non-coding): one row per variant, not placed;
- ``gene not in catalog``, ``gene not selected``, ``rejected`` (parse or reference error):
  the input row gave no variant (reason in ``detail``).

Every input row is accounted for: ``input_row`` (1-based line of a file or item index) and
``sample`` (when the input has a sample column) join the table back to the cohort. Each
distinct variant is placed and measured once; its rows are then repeated for every input row
that names it. Per-structure work is done once (``sites.analyze``); rows are built with array
lookups.

The work is split in plain parts: ``table`` (placing and measuring, the rows), ``summary``
(one row per variant), ``tables`` (writers and streaming) and ``columns`` (the column engine);
this module keeps the public names where they have always been.
"""

from __future__ import annotations

from .columns import COLUMNS
from .summary import SUMMARY_COLUMNS, _damage_consensus, _joined, _row_counts, summarize
from .table import PLACED_KINDS, STATUSES, check_cutoff, consequence_detail, impact_table
from .tables import STREAM_SUFFIXES, neutralise_cells, provenance, write_impact, write_table

__all__ = ["impact_table", "summarize", "write_table", "write_impact", "neutralise_cells",
           "provenance", "check_cutoff", "consequence_detail", "COLUMNS", "SUMMARY_COLUMNS",
           "STATUSES", "PLACED_KINDS", "STREAM_SUFFIXES", "_joined", "_row_counts",
           "_damage_consensus"]
