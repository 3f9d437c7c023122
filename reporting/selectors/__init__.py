"""Reads of reporting data: the two reports, the change explanation and the filter values."""

from reporting.selectors.drivers import explain_change
from reporting.selectors.filters import report_filters
from reporting.selectors.reports import campaign_report, flow_report

__all__ = ["campaign_report", "explain_change", "flow_report", "report_filters"]
