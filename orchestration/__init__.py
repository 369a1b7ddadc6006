"""Dagster orchestration of the LAER warehouse: load → dbt build → checks → publish → report.

`dagster dev -m orchestration.definitions` shows the whole graph; `laer refresh` runs
the same job in-process.
"""
