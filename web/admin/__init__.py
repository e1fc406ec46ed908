"""The admin web UI under /admin/: login, a rep's open escalations (their home), dashboard,
customers, responses (with CSV exports), templates, settings, escalations, the Upcoming passes
(with pause and cancel), CSV import, event webhooks, users, the audit trail and the demo's
customer-phone simulator. Every page but the login needs a session; what a manager or rep sees
is narrowed by `accounts.scope`, and the pages not written for them answer them 403 (`AdminDep`).

`router` is what the app includes; each page lives in a module of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from web.admin import (
    audit_page,
    auth,
    customers,
    dashboard,
    escalations,
    events_page,
    exports,
    imports,
    keys,
    my_escalations,
    responses,
    settings_page,
    simulator,
    static,
    templates_editor,
    upcoming,
    users_page,
)


@asynccontextmanager
async def _started(app: FastAPI) -> AsyncIterator[None]:
    # Hash the bootstrap password and read (or make) the stored signing key once, at
    # start-up, not on the first login.
    keys.warm_up(app)
    yield


router = APIRouter(prefix="/admin", include_in_schema=False, lifespan=_started)
for _module in (
    static,
    auth,
    dashboard,
    upcoming,
    customers,
    responses,
    exports,
    escalations,
    my_escalations,
    imports,
    templates_editor,
    settings_page,
    users_page,
    audit_page,
    simulator,
    events_page,
):
    router.include_router(_module.router)

__all__ = ["router"]
