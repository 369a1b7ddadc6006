"""The leadership report: one self-contained HTML page from the published marts."""

from laer.report.build import write_report

__all__ = ["write_report"]
