"""The admin web UI under /admin/: login, dashboard, customers, responses (with CSV exports),
templates, settings, escalations, CSV import, event webhooks and the demo's customer-phone
simulator. Every page but the login needs a session.

`router` is what the app includes; each page lives in a module of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI

from web.admin import (
    auth,
    customers,
    dashboard,
    escalations,
    events_page,
    exports,
    imports,
    keys,
    responses,
    settings_page,
    simulator,
    static,
    templates_editor,
)


@asynccontextmanager
async def _started(app: FastAPI) -> AsyncIterator[None]:
    keys.warm_up(app)  # hash the admin password once, at start-up, not on the first login
    yield


router = APIRouter(prefix="/admin", include_in_schema=False, lifespan=_started)
for _module in (
    static,
    auth,
    dashboard,
    customers,
    responses,
    exports,
    escalations,
    imports,
    templates_editor,
    settings_page,
    simulator,
    events_page,
):
    router.include_router(_module.router)

__all__ = ["router"]
