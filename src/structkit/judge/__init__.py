"""The third floor: judgement. The verdict by the gene's role (``verdict``: loss of function for a
tumour suppressor; activating, resistance or dead kinase for an oncogene), one row per variant
(``summary``), the variant x therapy matrix and the drug table (``therapy``), and the text joins
they share (``grouping``). Built on ``structkit.analysis``; the known evidence (``io.evidence``)
stays in its own columns, never mixed into a score.
"""
