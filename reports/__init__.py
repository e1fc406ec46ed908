"""Reports over the data Aftercare collects: plain functions of a session, no web, no CLI."""

from reports.nps import GROUP_FIELDS, NpsFigures, NpsGroup, NpsReport, nps_report

__all__ = ["GROUP_FIELDS", "NpsFigures", "NpsGroup", "NpsReport", "nps_report"]
