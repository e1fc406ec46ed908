"""CSV upload of reps, customers and purchases: check the file first (a dry run), then import it.

The rules are `bot.py import`'s (importing.import_csv): every row is checked,
every problem is listed by line and column, and one bad row imports nothing.

Between the preview and the confirmation the file travels in the confirmation
form itself, compressed and base64-encoded in a hidden field, not in a store on
the server: the confirmation may reach any of several `run` processes, and a
preview nobody confirms leaves nothing behind. The confirmation checks every row
again (the database may have changed meanwhile) and writes in one transaction.
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import zlib
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile, status
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import DBAPIError

from clock import utcnow
from importing import KINDS, ImportErrors, import_csv
from importing.csv_reader import delimiter_of, read_rows, read_text
from messaging.privacy import masked
from models.db import transaction
from web.admin.auth import AdminDep, AdminPost
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()
log = logging.getLogger(__name__)

MAX_FILE_BYTES = 4 * 1024 * 1024  # under web.limits.LARGE_LIMIT, with room for the form
# Starlette refuses a form field over 1 MB, and the file travels back in one.
MAX_CARRIED = 1024 * 1024 - 4096
SAMPLE_ROWS = 10
# Shown as the admin sees them on the page, never in full.
PRIVATE_COLUMNS = ("phone", "telegram_chat_id")


def carry(data: bytes) -> str | None:
    """The file as the confirmation form carries it, or None when it is too big to carry."""
    packed = base64.b64encode(zlib.compress(data, 6)).decode("ascii")
    return packed if len(packed) <= MAX_CARRIED else None


def uncarry(packed: str) -> bytes:
    """The file back from the form; ValueError for anything the preview did not write."""
    try:
        inflater = zlib.decompressobj()
        data = inflater.decompress(base64.b64decode(packed, validate=True), MAX_FILE_BYTES + 1)
    except (binascii.Error, zlib.error) as exc:
        raise ValueError("not a file this page wrote") from exc
    if not inflater.eof or len(data) > MAX_FILE_BYTES:
        raise ValueError("not a file this page wrote")
    return data


def sample(kind: str, data: bytes) -> dict[str, Any]:
    """The first rows as the import reads them, so the admin sees the columns landed right."""
    rows, _ = read_rows(io.BytesIO(data), KINDS[kind].COLUMNS)
    columns = list(rows[0].cells) if rows else []
    shown = []
    for row in rows[:SAMPLE_ROWS]:
        cells = dict(row.cells)
        for name in PRIVATE_COLUMNS:
            if cells.get(name):
                cells[name] = masked(cells[name])
        shown.append((row.line, [cells[name] for name in columns]))
    return {
        "columns": columns,
        "rows": shown,
        "total": len(rows),
        "delimiter": delimiter_of(read_text(io.BytesIO(data))),
    }


def _form(
    request: Request, kind: str, *, problem: str = "", status_code: int = 200
) -> HTMLResponse:
    return page(
        request,
        "import.html",
        {
            "section": "import",
            "kinds": {name: module.COLUMNS for name, module in KINDS.items()},
            "kind": kind if kind in KINDS else "customers",
            "problem": problem,
            "max_mb": MAX_FILE_BYTES // (1024 * 1024),
        },
        status_code=status_code,
    )


def _errors(request: Request, kind: str, filename: str, errors: ImportErrors) -> HTMLResponse:
    return page(
        request,
        "import_errors.html",
        {"section": "import", "kind": kind, "filename": filename, "errors": errors},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


def _display_name(filename: str | None) -> str:
    return (filename or "upload.csv").replace("\\", "/").rsplit("/", 1)[-1][:200]


@router.get("/import", response_class=HTMLResponse)
def import_form(request: Request, admin: AdminDep, kind: str = "customers") -> HTMLResponse:
    return _form(request, kind)


@router.post("/import/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    admin: AdminPost,
    session: SessionDep,
    kind: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    """A dry run: what the file would create, update and leave, or every problem in it."""
    if kind not in KINDS:
        return _form(request, kind, problem="kind", status_code=422)
    data = file.file.read(MAX_FILE_BYTES + 1) if file is not None else b""
    filename = _display_name(file.filename if file is not None else "")
    if len(data) > MAX_FILE_BYTES:
        return _form(request, kind, problem="too_large", status_code=413)
    try:
        report = import_csv(
            session,
            kind,
            io.BytesIO(data),
            default_tz=request.app.state.settings.default_tz,
            now=utcnow(),
            dry_run=True,
        )
    except ImportErrors as exc:
        return _errors(request, kind, filename, exc)
    finally:
        session.rollback()
    return page(
        request,
        "import_preview.html",
        {
            "section": "import",
            "kind": kind,
            "filename": filename,
            "report": report,
            "sample": sample(kind, data),
            "carried": carry(data),
        },
    )


@router.post("/import/confirm", response_class=HTMLResponse)
def confirm(
    request: Request,
    admin: AdminPost,
    kind: Annotated[str, Form()] = "",
    filename: Annotated[str, Form()] = "",
    content: Annotated[str, Form()] = "",
) -> HTMLResponse:
    """The import itself, all or nothing, of the file the preview showed."""
    if kind not in KINDS:
        return _form(request, kind, problem="kind", status_code=422)
    filename = _display_name(filename)
    try:
        data = uncarry(content)
    except ValueError:
        return _form(request, kind, problem="carried", status_code=422)
    try:
        with transaction(request.app.state.session_factory) as session:
            report = import_csv(
                session,
                kind,
                io.BytesIO(data),
                default_tz=request.app.state.settings.default_tz,
                now=utcnow(),
            )
    except ImportErrors as exc:
        return _errors(request, kind, filename, exc)
    except DBAPIError:
        # Someone changed the same rows between the checks and the writes: all rolled back.
        log.warning("admin import of %s by %s refused by the database", kind, admin.user)
        return _form(request, kind, problem="refused", status_code=409)
    log.info("admin import by %s of %s: %s", admin.user, filename, report.summary())
    return page(
        request,
        "import_done.html",
        {"section": "import", "kind": kind, "filename": filename, "report": report},
    )
