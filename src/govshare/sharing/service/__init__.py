"""Sharing use cases (Art 13, 16-19). The only code that writes sharing tables; every change
records its event with the article it rests on, in the caller's transaction.

Functions that change something take the session and ``by``, the acting :class:`Principal`;
functions that read take ``viewer``. Services flush, never commit. Every state change passes the
transition tables of ``sharing.rules`` (any other is 409 naming the state) and is made with a
conditional UPDATE on the state it was read in, so concurrent answers cannot both win.

Request::

    submit -> pending --approve--> approved (grant active, or pending signatures + agreement)
                 |  \\--refuse---> refused (filed with the authority of the provider's region)
                 |--mark_overdue (timed)--> overdue --approve/refuse (late)-->
                 |--open_dispute--> disputed (clock held) --resume--> pending
    grant_at_once -> approved (unconditional, nothing secret or personal)
"""

from govshare.core import workdays as _workdays
from govshare.sharing.service._common import (
    compute_deadline,
    deadline_of,
    get_request,
    is_overdue,
    request_reads,
)
from govshare.sharing.service.agreements import (
    agreement_for_request,
    agreement_read,
    get_agreement,
    render_pdf,
    sign_agreement,
)
from govshare.sharing.service.answers import approve_request, filing_reads, list_filings, refuse_request
from govshare.sharing.service.disputes import decide_dispute, dispute_read, get_dispute, list_disputes, open_dispute
from govshare.sharing.service.grants import (
    expire_grants,
    get_grant,
    grant_for_request,
    grant_reads,
    is_usable,
    list_grants,
    revoke_grant,
)
from govshare.sharing.service.history import request_history
from govshare.sharing.service.negotiations import (
    answer_negotiation,
    decide_negotiation,
    get_negotiation,
    list_negotiations,
    negotiation_reads,
    open_negotiation,
    post_message,
)
from govshare.sharing.service.publications import (
    answer_publication,
    get_publication,
    list_publications,
    publication_reads,
    request_publication,
)
from govshare.sharing.service.requests import (
    create_from_demand,
    create_request,
    list_requests,
    overdue_counts,
    overdue_requests,
    recompute_provisional,
    withdraw_request,
)
from govshare.sharing.service.timed import (
    claim_tick,
    mark_overdue,
    on_calendar_import,
    run_scheduled,
    run_tick,
    run_timed_work,
    send_reminders,
    tick_of,
)

# Importing a year's calendar recomputes every provisional deadline, in the import's transaction.
_workdays.on_import(on_calendar_import)

__all__ = [
    "answer_negotiation",
    "answer_publication",
    "decide_negotiation",
    "get_negotiation",
    "get_publication",
    "list_negotiations",
    "list_publications",
    "negotiation_reads",
    "open_negotiation",
    "post_message",
    "publication_reads",
    "request_publication",
    "agreement_for_request",
    "agreement_read",
    "approve_request",
    "claim_tick",
    "compute_deadline",
    "create_from_demand",
    "create_request",
    "deadline_of",
    "decide_dispute",
    "dispute_read",
    "expire_grants",
    "filing_reads",
    "get_agreement",
    "get_dispute",
    "get_grant",
    "get_request",
    "grant_for_request",
    "grant_reads",
    "is_overdue",
    "is_usable",
    "list_disputes",
    "list_filings",
    "list_grants",
    "list_requests",
    "mark_overdue",
    "on_calendar_import",
    "open_dispute",
    "overdue_counts",
    "overdue_requests",
    "recompute_provisional",
    "refuse_request",
    "render_pdf",
    "request_history",
    "request_reads",
    "revoke_grant",
    "run_scheduled",
    "run_tick",
    "run_timed_work",
    "send_reminders",
    "sign_agreement",
    "tick_of",
    "withdraw_request",
]
