"""The admin pages' own files (htmx, the stylesheet), served from web/static/ by name only."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
# An explicit list: nothing else in the folder (or outside it) is ever served.
FILES = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "admin.css": "text/css; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}

router = APIRouter()


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    media_type = FILES.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such file.")
    return FileResponse(
        STATIC_DIR / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
