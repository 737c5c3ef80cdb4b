"""Imported by name order before checks.py would be: it imports it itself."""
from nautobot.apps.jobs import register_jobs

from reports.zzz_checks import DnsCheck

register_jobs(DnsCheck)
