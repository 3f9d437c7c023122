"""Reads of reporting data: the two reports and the values their filters accept."""

from reporting.selectors.filters import report_filters
from reporting.selectors.reports import campaign_report, flow_report

__all__ = ["campaign_report", "flow_report", "report_filters"]
