"""Admin-edited message templates: what is in force, the history, and saving a new version.

A template's text is the newest TemplateVersion for (key, language) when one
exists, else the file in templates/ (which `messaging.compose.TemplateBook`
reads the same way). Saving never overwrites: it adds version max+1, so the
history is complete and "restore" is just saving an old body again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from messaging.render import (
    TemplateError,
    render,
    sample_context,
    template_source,
    validate_source,
)
from models import TemplateVersion

# Long enough for any chat message; short enough that nobody pastes a novel into an SMS.
MAX_BODY_CHARS = 4000


@dataclass(frozen=True)
class CurrentTemplate:
    body: str
    version: int | None  # None: the file
    file_language: str | None  # the language of the file used (English when this one has none)


def current(session: Session, key: str, language: str) -> CurrentTemplate:
    """The text in force for `key` in `language`: the newest saved version, else the file."""
    newest = session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.key == key, TemplateVersion.language == language)
        .order_by(TemplateVersion.version.desc())
        .limit(1)
    ).first()
    if newest is not None:
        return CurrentTemplate(newest.body, newest.version, None)
    body, used = template_source(key, language)
    return CurrentTemplate(body, None, used)


def overridden(session: Session) -> dict[tuple[str, str], int]:
    """(key, language) -> newest version number, for every template an admin has saved."""
    rows = session.execute(
        select(
            TemplateVersion.key, TemplateVersion.language, func.max(TemplateVersion.version)
        ).group_by(TemplateVersion.key, TemplateVersion.language)
    )
    return {(key, language): int(version) for key, language, version in rows}


def history(session: Session, key: str, language: str) -> Sequence[TemplateVersion]:
    """Every saved version, newest first."""
    return session.scalars(
        select(TemplateVersion)
        .where(TemplateVersion.key == key, TemplateVersion.language == language)
        .order_by(TemplateVersion.version.desc())
    ).all()


def version(session: Session, key: str, language: str, number: int) -> TemplateVersion | None:
    return session.scalars(
        select(TemplateVersion).where(
            TemplateVersion.key == key,
            TemplateVersion.language == language,
            TemplateVersion.version == number,
        )
    ).first()


def preview(
    key: str, language: str, body: str, channel: str = "sms", business_name: str = ""
) -> str:
    """`body` rendered in the sandbox with the key's sample values; raises TemplateError.

    `business_name` (AFTERCARE_BUSINESS_NAME) replaces the sample one, so the admin
    sees their own message and its real length.
    """
    context = {**sample_context(key, language), "channel": channel}
    if business_name:
        context["business_name"] = business_name
    return render(key, language, context, source=body)


# A 0-10 scale as the surveys write it: "0-10", "0–10", "0 to 10", "od 0 do 10", "от 0 до 10".
_SCALE = re.compile(r"(?<!\d)0(?!\d)\D{0,8}(?<!\d)10(?!\d)")
OPT_OUT_WORD = "STOP"


def _is_survey(key: str) -> bool:
    return key.startswith("survey_")


def survey_problem(key: str, language: str, body: str) -> str | None:
    """Why `body` cannot be a survey (None when fine): as an SMS it asks for no score
    from 0 to 10, or it has no opt-out line. The editor refuses such a save, and every
    shipped survey passes the same check (tests/test_templates.py)."""
    if not _is_survey(key):
        return None
    text = preview(key, language, body, "sms")
    if _SCALE.search(text) is None:
        return 'a survey must ask for a score from 0 to 10 (for example "Reply 0-10")'
    if OPT_OUT_WORD not in text:
        return (
            f"a survey SMS must say how to opt out ({OPT_OUT_WORD} to opt out): "
            "carriers and the law expect it in texts the business starts"
        )
    return None


def warnings_for(key: str, language: str, body: str) -> list[str]:
    """What an admin should know before saving `body` (saving is still allowed)."""
    try:
        text = preview(key, language, body, "sms")
    except TemplateError:
        return []
    found = []
    if _is_survey(key) and OPT_OUT_WORD not in text:
        found.append(
            f"the SMS has no opt-out line ({OPT_OUT_WORD} to opt out): "
            "carriers and the law expect one in marketing texts"
        )
    return found


def check(key: str, language: str, body: str) -> None:
    """Raise TemplateError (with the line) unless `body` is safe to save as `key` in `language`."""
    if len(body) > MAX_BODY_CHARS:
        raise TemplateError(
            f"the template is {len(body)} characters long; at most {MAX_BODY_CHARS}"
        )
    validate_source(body, key)
    preview(key, language, body)
    problem = survey_problem(key, language, body)
    if problem is not None:
        raise TemplateError(problem)


def save(
    session: Session, key: str, language: str, body: str, changed_by: str, now: datetime
) -> TemplateVersion:
    """Check `body`, then add it as the next version (committed by the caller).

    Two admins saving at once cannot both take the same number: the unique
    (key, language, version) constraint refuses the second, which then takes the next one.
    """
    body = body.replace("\r\n", "\n")
    check(key, language, body)
    for _attempt in range(5):
        number = 1 + (
            session.scalar(
                select(func.max(TemplateVersion.version)).where(
                    TemplateVersion.key == key, TemplateVersion.language == language
                )
            )
            or 0
        )
        row = TemplateVersion(
            key=key,
            language=language,
            version=number,
            body=body,
            changed_by=changed_by,
            created_at=now,
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            continue
        return row
    raise TemplateError("another admin is saving this template right now; try again")
