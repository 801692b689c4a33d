"""structkit: structural bioinformatics of HER2 (ERBB2) and p53 (TP53) variants."""

__version__ = "0.1.0"
