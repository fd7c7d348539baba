"""Cut DfE's published files down to the rows the demo needs, keeping the publisher's bytes.

    python -m api.demo_data.cut /path/to/shared/data/dfe [--out api/demo_data/dfe]

Keeps, from each file a catalogue indicator is read from, the header line and the rows for
England, the West Midlands, Sandwell (333) and Birmingham (330). It only selects lines: each
kept line, byte-order mark and line ending included, is the publisher's, so a kept value can
be traced to the published file by its bytes.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from api.dfe import DEMO_DIRECTORY, USED_FILES, file_stem

WEST_MIDLANDS = "E12000005"
SANDWELL_AND_BIRMINGHAM = frozenset({"333", "330"})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m api.demo_data.cut", description=__doc__)
    parser.add_argument("source", type=Path, help="the directory of DfE's published CSV files")
    parser.add_argument("--out", type=Path, default=DEMO_DIRECTORY)
    args = parser.parse_args(argv)
    for path in cut(args.source, args.out):
        print(path)
    return 0


def cut(source: Path, out: Path) -> list[Path]:
    """Write the cut copies into `out`, replacing any earlier cut, and return their paths."""
    files = sorted(path for path in source.glob("*.csv") if file_stem(path.name) in USED_FILES)
    missing = USED_FILES - {file_stem(path.name) for path in files}
    if missing:
        raise SystemExit(f"{source} has no file for {', '.join(sorted(missing))}")
    out.mkdir(parents=True, exist_ok=True)
    # A new release changes the year range in a file's name: the old cut must not linger.
    for earlier in out.glob("*.csv"):
        earlier.unlink()
    written = []
    for path in files:
        header, *rows = path.read_bytes().splitlines(keepends=True)
        columns = _fields(header, path, 1)
        kept = [
            row
            for line, row in enumerate(rows, start=2)
            if _wanted(dict(zip(columns, _fields(row, path, line), strict=True)))
        ]
        target = out / path.name
        target.write_bytes(b"".join([header, *kept]))
        written.append(target)
    return written


def _fields(line: bytes, path: Path, number: int) -> list[str]:
    """One physical line's fields; a record spread over lines would be cut in two, so refuse."""
    records = list(csv.reader([line.decode("utf-8-sig")]))
    if len(records) != 1:
        raise SystemExit(f"{path.name} line {number} is not one whole CSV record")
    return records[0]


def _wanted(row: Mapping[str, str]) -> bool:
    level = row["geographic_level"]
    return (
        level == "National"
        or (level == "Regional" and row["region_code"] == WEST_MIDLANDS)
        or (level == "Local authority" and row["old_la_code"] in SANDWELL_AND_BIRMINGHAM)
    )


if __name__ == "__main__":
    raise SystemExit(main())
