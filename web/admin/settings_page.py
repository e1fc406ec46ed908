"""The cadence settings form: every CadenceRules field as text, read here and checked by the rules.

This page only reads the form's text (a number, a time, "car = 1" lines); the
ranges and the checks of the rules as a whole are CadenceRules' own
(cadence/rules.py), so nothing else that changes the rules can skip them.
The team's time zone and working hours are read by web/admin/team_settings.py
and saved in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from accounts import audit
from cadence.rules import DEFAULT_RULES, CadenceRules, InvalidRules, load_rules, save_rules
from cadence.team import Team, load_team, save_team
from clock import utcnow
from messaging.channels import registry
from web.admin.auth import AdminDep, AdminPost
from web.admin.rendering import page
from web.admin.team_settings import parse_team_form, read_team_form, team_form
from web.deps import SessionDep

router = APIRouter()


@dataclass(frozen=True)
class Field:
    """One setting as the form shows it: `kind` says how it is read and checked."""

    name: str
    label: str
    help: str
    kind: str  # days | hours | minutes | count | time | categories | category_days | switch
    group: str = "When we ask"


FIELDS = (
    Field("post_delivery_days", "Survey after delivery, per category",
          "One line per category: “car = 1”. Days after delivery.", "category_days"),
    Field("post_delivery_default_days", "Survey after delivery, other categories", "Days after delivery.", "days"),
    Field("post_delivery_max_lateness_days", "Skip post-delivery surveys older than",
          "Days past their due time; importing last year's sales must not start a wave of surveys.",
          "days"),
    Field("delay_notice_max_age_days", "Apologise for late deliveries up to",
          "Days after the promised date.", "days"),
    Field("periodic_days", "Periodic check-in every", "Days after the customer's last survey.",
          "days"),
    Field("service_days", "Service check every", "Days after delivery.", "days"),
    Field("service_max_lateness_days", "Skip service checks missed by more than",
          "Days; a customer whose check was missed long ago gets the next one on time.", "days"),
    Field("service_categories", "Service checks for categories",
          "Comma-separated, e.g. car, garage, machinery.", "categories"),
    Field("recovery_days", "Recovery check", "Days after an escalation is resolved.", "days"),
    Field("throttle_days", "At most one survey per customer in",
          "Days. Delay notices and recovery checks are exempt.", "days", "How often"),
    Field("quiet_end", "Send messages from", "Customer's local time, HH:MM.", "time",
          "How often"),
    Field("quiet_start", "Send messages until", "Customer's local time, HH:MM.", "time", "How often"),
    Field("reminder_days", "Reminder after", "Days without an answer; 0 sends no reminder.",
          "days", "How often"),
    Field("expire_days", "An unanswered survey expires after", "Days.", "days", "How often"),
    Field("hold_recheck_minutes", "Look at held surveys again every", "Minutes.", "minutes",
          "How often"),
    Field("escalation_sla_hours", "Escalation SLA",
          "Hours a rep has to acknowledge a detractor before the manager hears of it.",
          "hours", "Escalations"),
    Field("max_manager_reminders", "Manager reminders", "How many times the manager is reminded.",
          "count", "Escalations"),
    Field("review_invite_all", "Invite every respondent to leave a review", "", "switch",
          "Reviews"),
)  # fmt: skip
FIELD_BY_NAME = {field.name: field for field in FIELDS}


class Invalid(ValueError):
    """A value the form cannot take; the message is for the admin."""


def as_form(rules: CadenceRules) -> dict[str, str]:
    """The rules as the text each input shows."""
    values: dict[str, str] = {}
    for field in FIELDS:
        value: Any = getattr(rules, field.name)
        if field.kind == "category_days":
            values[field.name] = "\n".join(f"{k} = {_number(v)}" for k, v in sorted(value.items()))
        elif field.kind == "categories":
            values[field.name] = ", ".join(value)
        elif field.kind == "time":
            values[field.name] = value.strftime("%H:%M")
        elif field.kind == "switch":
            values[field.name] = "on" if value else ""
        else:
            values[field.name] = _number(value)
    return values


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def parse_form(form: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The values the form describes, or None and a message per bad field (nothing half-applied)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in FIELDS:
        try:
            values[field.name] = _parse(field, form.get(field.name, ""))
        except Invalid as problem:
            errors[field.name] = f"{field.label}: {problem}"
    if not errors:
        try:
            DEFAULT_RULES.changed(values)
        except InvalidRules as invalid:
            errors = {
                name: f"{FIELD_BY_NAME[name].label}: {why}" if name in FIELD_BY_NAME else why
                for name, why in invalid.problems.items()
            }
    if errors:
        return None, errors
    return values, {}


def _parse(field: Field, text: str) -> Any:
    text = text.strip()
    if field.kind == "switch":
        return text in ("on", "true", "1", "yes")
    if field.kind == "time":
        try:
            return time.fromisoformat(text)
        except ValueError:
            raise Invalid(f"{text!r} is not a time like 09:00") from None
    if field.kind == "categories":
        return tuple(part.strip().lower() for part in text.split(",") if part.strip())
    if field.kind == "category_days":
        return _category_days(text)
    if field.kind == "count":
        if not text.isdigit():
            raise Invalid("enter a whole number from 0 to 100")
        return int(text)
    return _amount(text)


def _amount(text: str) -> float:
    try:
        return float(text.replace(",", "."))
    except ValueError:
        raise Invalid(f"{text!r} is not a number" if text else "enter a number") from None


def _category_days(text: str) -> dict[str, float]:
    days: dict[str, float] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, amount = line.partition("=")
        if not sep or not name.strip():
            raise Invalid(f"line {number} should read “category = days”, not {line.strip()!r}")
        try:
            days[name.strip().lower()] = float(amount.strip().replace(",", "."))
        except ValueError:
            raise Invalid(f"line {number}: {amount.strip()!r} is not a number of days") from None
    return days


def _render(
    request: Request,
    form: dict[str, str],
    team: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> HTMLResponse:
    groups: dict[str, list[Field]] = {}
    for field in FIELDS:
        groups.setdefault(field.group, []).append(field)
    return page(
        request,
        "settings.html",
        {
            "section": "settings",
            "groups": groups,
            "form": form,
            "team": team,
            "errors": errors or {},
            "saved": saved,
            "channels": [
                (channel, sender, registry.variables(channel))
                for channel, sender in registry.senders(request.app.state.settings).items()
            ],
        },
        status_code=status_code,
    )


def _store(
    factory: sessionmaker[Session], values: dict[str, Any], team: Team, actor: str, default_tz: str
) -> None:
    # Over the rules in force: a rule this form does not know yet keeps its value.
    with factory.begin() as session:
        team_before = load_team(session, default_tz)
        if team != team_before:
            save_team(session, team)
            audit.record(
                session,
                utcnow(),
                actor,
                "settings.changed",
                "team hours",
                "; ".join(
                    f"{name}: {old!r} → {new!r}"
                    for (name, old), new in zip(
                        team_before.to_json().items(), team.to_json().values(), strict=True
                    )
                    if old != new
                ),
            )
        before = load_rules(session)
        after = before.changed(values)
        save_rules(session, after)
        old, new = as_form(before), as_form(after)
        changes = [
            f"{name}: {old[name]!r} → {new[name]!r}" for name in new if old[name] != new[name]
        ]
        audit.record(
            session, utcnow(), actor, "settings.changed", "cadence rules", "; ".join(changes)
        )


@router.get("/settings", response_class=HTMLResponse)
def settings_form(
    request: Request, admin: AdminDep, session: SessionDep, saved: int = 0
) -> HTMLResponse:
    team = load_team(session, request.app.state.settings.default_tz)
    return _render(request, as_form(load_rules(session)), team_form(team), saved=bool(saved))


@router.post("/settings", response_class=HTMLResponse)
async def save_settings(request: Request, admin: AdminPost) -> Response:
    submitted = await request.form()
    form = {name: str(submitted.get(name, "")) for name in FIELD_BY_NAME}
    values, errors = parse_form(form)
    team_values = read_team_form(submitted)
    team, team_errors = parse_team_form(team_values)
    if values is None or team is None:
        return _render(
            request,
            form,
            team_values,
            errors={**team_errors, **errors},
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    await run_in_threadpool(
        _store,
        request.app.state.session_factory,
        values,
        team,
        admin.actor,
        request.app.state.settings.default_tz,
    )
    return RedirectResponse("/admin/settings?saved=1", status.HTTP_303_SEE_OTHER)
