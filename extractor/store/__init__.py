"""The case store: users, cases, uploaded documents, prefilled reviews, decisions and the audit log.

SQLAlchemy 2.x over SQLite (a file in the data dir, the default) or PostgreSQL (by URL); the schema is
owned by the Alembic migrations shipped in `extractor/migrations` and applied by `migrate()` on startup,
so an installed wheel can create or upgrade its own database. Uploaded files are kept in
`<data_dir>/uploads/` under random names; the name a user gave is only ever displayed (sanitised).

The web app and the batch backfill both write here: `save_imported_case()` stores a case whose review
was computed elsewhere (see its docstring).

Files, bottom up: tables (the ORM), db (engine, migrations), users (passwords, tokens), uploads
(files on disk), cases (intake, queue, reviews), decisions, audit, logins (shared failed-login counters).
Callers use `from extractor import store` and the names below.
"""

from __future__ import annotations

from .audit import AUDIT_COLUMNS, audit, audit_csv, audit_events, count_cases
from .cases import (
    MAX_ATTEMPTS,
    CaseHead,
    ImportResult,
    case_with_review,
    check_case_id,
    claim_next,
    create_case,
    fail_case,
    fail_claim,
    finish_case,
    finish_claim,
    get_case,
    heartbeat,
    import_reviews,
    list_cases,
    load_review_json,
    purge_case,
    release_claims,
    release_orphans,
    requeue_processing,
    save_imported_case,
    set_clock,
)
from .db import default_url, make_engine, migrate, migrations_dir, open_store, resolve_url
from .decisions import case_history, decisions_for, latest_rationale, record_decision, reviewed_rationale
from .logins import add_failure, clear_failures, failure_rows, recent_failures
from .pas import find_pas_request, pas_request_of, record_pas_request
from .qa import in_sample, qa_queue, qa_reviews, record_qa_review, sample_decision
from .tables import (
    CASE_STATUSES,
    DECISIONS,
    ROLES,
    AuditEvent,
    Base,
    Case,
    Decision,
    Override,
    PasRequest,
    QaReview,
    ReviewRow,
    Role,
    StoredDocument,
    StoreError,
    Token,
    User,
    cache_table,
    utcnow,
)
from .uploads import Duplicate, add_documents, display_name, remove_files, sniff, stored_path, uploads_dir
from .users import (
    MAX_NAME,
    MAX_PASSWORD,
    Reader,
    add_user,
    authenticate,
    issue_token,
    reader_for,
    revoke,
    revoke_all,
    set_active,
    set_password,
    token_for,
)
