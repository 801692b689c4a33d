"""The top floor: what goes out. Table writers (``writers``: CSV/TSV/XLSX/Parquet/Markdown/HTML,
streamed for cohorts), the impact table under its public names (``impact``), cohort tables
(``cohort``), figures (``plots``), 3D views (``view``, pictures through ``browser``) and the
review dossier (``report``). Nothing below imports these modules.
"""
