"""Reading a publisher's CSV table record by record, knowing the line each record starts on."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator


class NotCsv(Exception):
    """The text stops being CSV at `line` (a stray or unclosed quote)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def records(text: str) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with the line it starts on (a quoted cell may hold line breaks)."""
    # Strict: a stray or unclosed quote is refused rather than guessed at.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    start = 1
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise NotCsv(reader.line_num, str(error)) from None
        yield start, record
        start = reader.line_num + 1
