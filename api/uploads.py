"""The tables an admin sends to an import endpoint."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from api.problems import Problem

_UNSAFE_IN_NAME = re.compile(r"[^A-Za-z0-9 ._()-]")
_MAX_FILES = 10


async def uploaded_tables(request: Request) -> list[tuple[str, bytes]]:
    """The tables sent: each file of a multipart form, or the body itself as one CSV file. The
    body's size was limited before anything parsed it (api/app.py)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "text/csv":
        return [(_file_name(request.query_params.get("name")), await request.body())]
    if media_type != "multipart/form-data":
        # Refused before the body is read: whatever else it is, it is not a table to import.
        raise Problem(
            415,
            "Unsupported media type",
            f"send the tables as text/csv or multipart/form-data, not {media_type or 'untyped'}",
        )
    form = await request.form(max_files=_MAX_FILES, max_fields=_MAX_FILES)
    files = [value for _, value in form.multi_items() if isinstance(value, UploadFile)]
    if not files:
        raise Problem(422, "Invalid request", "the form holds no file: send the table as a file")
    return [(_file_name(file.filename), await file.read()) for file in files]


def _file_name(offered: str | None) -> str:
    """The name a file is recorded under: its last part, in safe characters, not too long."""
    name = PurePosixPath((offered or "").replace("\\", "/")).name
    return _UNSAFE_IN_NAME.sub("_", name)[:200] or "upload.csv"


UploadedTables = Annotated[list[tuple[str, bytes]], Depends(uploaded_tables)]

# The body is read by `uploaded_tables`, not by FastAPI, so the schema is declared by hand.
TABLES_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
    }
}
