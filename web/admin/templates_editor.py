"""The message template editor: every key × language, live preview, save as a new version, history, restore."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from accounts import audit
from clock import utcnow
from messaging.channels.registry import CHANNELS
from messaging.render import (
    TemplateError,
    available_keys,
    sample_context,
    template_source,
)
from messaging.render import (
    versions as template_versions,
)
from messaging.segments import SegmentInfo, sms_segments
from models import LANGUAGES
from web.admin.auth import AdminDep, AdminPost, Staff
from web.admin.rendering import page
from web.deps import SessionDep

router = APIRouter()


def _known(key: str, language: str) -> None:
    if key not in available_keys() or language not in LANGUAGES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No template {key!r} in {language!r}.")


@router.get("/templates", response_class=HTMLResponse)
def template_list(request: Request, admin: AdminDep, session: SessionDep) -> HTMLResponse:
    saved = template_versions.overridden(session)
    rows = []
    for key in available_keys():
        cells = []
        for language in LANGUAGES:
            version = saved.get((key, language))
            if version is not None:
                label, kind = f"v{version}", "override"
            else:
                _body, used = template_source(key, language)
                label, kind = ("file", "file") if used == language else (f"{used} file", "fallback")
            # What one SMS of this text costs with the sample values: segments and encoding.
            body = template_versions.current(session, key, language).body
            cells.append(
                (
                    language,
                    label,
                    kind,
                    _preview(key, language, body, "sms", _business(request)).segments,
                )
            )
        rows.append((key, cells))
    return page(
        request,
        "templates.html",
        {"section": "templates", "rows": rows, "languages": LANGUAGES},
    )


def _editor(
    request: Request,
    session: Session,
    key: str,
    language: str,
    *,
    body: str | None = None,
    error: TemplateError | None = None,
    notice: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    in_force = template_versions.current(session, key, language)
    shown = in_force.body if body is None else body
    return page(
        request,
        "template_edit.html",
        {
            "section": "templates",
            "key": key,
            "language": language,
            "current": in_force,
            "file_language": template_source(key, language)[1],
            "body": shown,
            "error": error,
            "error_line": error.lineno if error else None,
            "source_lines": shown.split("\n"),
            "notice": notice,
            "history": template_versions.history(session, key, language),
            "variables": sorted(sample_context(key, language).items()),
            "channels": tuple(CHANNELS),
            "preview": None if error else _preview(key, language, shown, "sms", _business(request)),
        },
        status_code=status_code,
    )


@dataclass(frozen=True)
class Preview:
    """What the preview pane shows: the rendered text and its SMS cost, or the error and its line."""

    text: str = ""
    channel: str = "sms"
    segments: SegmentInfo | None = None
    error: TemplateError | None = None
    lines: list[str] = field(default_factory=list)
    line: int | None = None
    warnings: list[str] = field(default_factory=list)


def _preview(key: str, language: str, body: str, channel: str, business_name: str) -> Preview:
    try:
        text = template_versions.preview(key, language, body, channel, business_name)
    except TemplateError as error:
        return Preview(error=error, lines=body.split("\n"), line=error.lineno)
    # Segments are what an SMS costs; Telegram and email have no such unit.
    return Preview(
        text=text,
        channel=channel,
        segments=sms_segments(text) if channel == "sms" else None,
        warnings=template_versions.warnings_for(key, language, body),
    )


def _business(request: Request) -> str:
    return str(request.app.state.settings.business_name)


@router.get("/templates/{key}/{language}", response_class=HTMLResponse)
def edit_template(
    request: Request, key: str, language: str, admin: AdminDep, session: SessionDep, saved: int = 0
) -> HTMLResponse:
    _known(key, language)
    notice = f"Saved as version {saved}. New messages use it from now on." if saved else ""
    return _editor(request, session, key, language, notice=notice)


@router.post("/templates/{key}/{language}/preview", response_class=HTMLResponse)
def preview_template(
    request: Request,
    key: str,
    language: str,
    admin: AdminPost,
    body: Annotated[str, Form()] = "",
    channel: Annotated[str, Form()] = "sms",
) -> HTMLResponse:
    """The htmx live preview: the text with sample values, and what it costs as an SMS."""
    _known(key, language)
    channel = channel if channel in CHANNELS else "sms"
    return page(
        request,
        "template_preview.html",
        {"preview": _preview(key, language, body, channel, _business(request))},
    )


@router.post("/templates/{key}/{language}", response_class=HTMLResponse)
def save_template(
    request: Request,
    key: str,
    language: str,
    admin: AdminPost,
    session: SessionDep,
    body: Annotated[str, Form()] = "",
) -> Response:
    _known(key, language)
    return _save(request, session, admin, key, language, body)


@router.get("/templates/{key}/{language}/versions/{number}", response_class=HTMLResponse)
def show_version(
    request: Request, key: str, language: str, number: int, admin: AdminDep, session: SessionDep
) -> HTMLResponse:
    _known(key, language)
    found = template_versions.version(session, key, language, number)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No version {number}.")
    current = template_versions.current(session, key, language)
    return page(
        request,
        "template_version.html",
        {
            "section": "templates",
            "key": key,
            "language": language,
            "row": found,
            "current": current,
            "diff": _diff(found.body, current.body, found.version, current.version),
        },
    )


def _diff(old: str, new: str, old_version: int, new_version: int | None) -> list[str]:
    """Line diff from version `old_version` to the text in force; [] when they are the same."""
    return list(
        difflib.unified_diff(
            old.split("\n"),
            new.split("\n"),
            fromfile=f"v{old_version}",
            tofile=f"v{new_version or 0} (in force)",
            lineterm="",
        )
    )


@router.post("/templates/{key}/{language}/versions/{number}/restore", response_class=HTMLResponse)
def restore_version(
    request: Request, key: str, language: str, number: int, admin: AdminPost, session: SessionDep
) -> Response:
    """Save an old version's text (0: the file's) again as the newest version."""
    _known(key, language)
    if number == 0:
        body, _used = template_source(key, language)
    else:
        found = template_versions.version(session, key, language, number)
        if found is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No version {number}.")
        body = found.body
    return _save(request, session, admin, key, language, body)


def _save(
    request: Request, session: Session, admin: Staff, key: str, language: str, body: str
) -> Response:
    now = utcnow()
    try:
        row = template_versions.save(session, key, language, body, admin.user, now)
    except TemplateError as error:
        session.rollback()
        return _editor(
            request,
            session,
            key,
            language,
            body=body,
            error=error,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    audit.record(
        session, now, admin.actor, "template.saved", f"{key}/{language}", f"version {row.version}"
    )
    session.commit()
    return RedirectResponse(
        f"/admin/templates/{key}/{language}?saved={row.version}", status.HTTP_303_SEE_OTHER
    )
