"""The first floor: what comes in. Identifiers (``ids``), files written safely (``files``), the
fetcher (``transport``: HTTP; ``fetch``: cache, mirror, integrity checks), structures read from
PDB/mmCIF files (``structure``) and loaded through a session (``resolve``), UniProt records,
alignments (``msa``), variants and the files that name them (``variants``, ``inputs``), known
evidence releases (``evidence``: CIViC, Cancer Hotspots), and derived data kept on disk
(``derived``).

Modules here import only the standard floor below them (``structkit.settings``, ``cutoffs``,
``statuses``, ``keywords``) and the catalog, never ``analysis``, ``judge`` or ``outputs``
(``tests/test_packaging.py`` checks the floors).
"""
