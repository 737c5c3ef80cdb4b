"""Only this module is imported for the app: it brings in the job modules."""
from nautobot.apps.jobs import register_jobs

from .cleanup import PurgeStaleInterfaces
from .report import SoftwareComplianceReport

register_jobs(PurgeStaleInterfaces, SoftwareComplianceReport)
