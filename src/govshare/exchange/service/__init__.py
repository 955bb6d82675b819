"""Exchange use cases. The only code that writes exchange tables; every change records its event.

Functions that change something take the session and ``by``, the acting :class:`Principal`
(``core.auth.OPERATOR`` on the command line and in the demo loader). Services flush, never commit.
Reading hosted datasets for the gateway is ``exchange.query`` (no ORM on the hot path).
"""

from govshare.exchange.service import subjects, usage
from govshare.exchange.service.datasets import (
    UploadPlan,
    accept_version,
    get_version,
    list_versions,
    prepare_upload,
    preview,
    stage_upload,
    upload_version,
    version_read,
)
from govshare.exchange.service.filings import (
    Owed,
    end_filing,
    file_filing,
    filing_reads,
    get_filing,
    list_filings,
    list_reports,
    overdue_for,
    overdue_reports,
    report_read,
    subject_of,
    submit_report,
)
from govshare.exchange.service.interfaces import (
    attach_interface,
    detach_interface,
    get_interface,
    interface_read,
    interface_reads,
    list_interfaces,
    read_interface,
    update_interface,
)

__all__ = [
    "Owed",
    "UploadPlan",
    "accept_version",
    "attach_interface",
    "detach_interface",
    "end_filing",
    "file_filing",
    "filing_reads",
    "get_filing",
    "get_interface",
    "get_version",
    "interface_read",
    "interface_reads",
    "list_filings",
    "list_interfaces",
    "list_reports",
    "list_versions",
    "overdue_for",
    "overdue_reports",
    "prepare_upload",
    "preview",
    "read_interface",
    "report_read",
    "stage_upload",
    "subject_of",
    "subjects",
    "submit_report",
    "update_interface",
    "upload_version",
    "usage",
    "version_read",
]
