"""DfE's children's services statistical neighbours: for each local authority, the ten most
like it, closest first.

Read from the 2025 model shipped in demo_data/reference/ (sn_model_2025_wide.csv, byte for byte
as in ../shared/data/reference), by header name: `old_la_code`, then `SN_1` to `SN_10` (DfE LA
numbers) and `SN_1P` to `SN_10P` (how close, e.g. "Very close"). The 2025 model is the one
benchmarks use; the 2021 groupings are not shipped.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

MODEL = "2025"
MODEL_FILE = (
    Path(__file__).resolve().parent / "demo_data" / "reference" / f"sn_model_{MODEL}_wide.csv"
)
NEIGHBOURS = 10

_LA_NUMBER = re.compile(r"[0-9]{3}")


@dataclass(frozen=True)
class Neighbour:
    la_number: str
    closeness: str  # DfE's band, trimmed: "Extremely close", "Very close", "Close"...


@cache
def statistical_neighbours() -> Mapping[str, tuple[Neighbour, ...]]:
    """Each LA's ten neighbours by DfE number, closest first (the model's order)."""
    text = MODEL_FILE.read_bytes().decode("utf-8-sig")
    found: dict[str, tuple[Neighbour, ...]] = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        neighbours = tuple(
            Neighbour(row[f"SN_{rank}"].strip(), row[f"SN_{rank}P"].strip())
            for rank in range(1, NEIGHBOURS + 1)
        )
        codes = [row["old_la_code"], *(n.la_number for n in neighbours)]
        # The file is package data, checked by a spec: a fault here is a broken release.
        if not all(_LA_NUMBER.fullmatch(code) for code in codes):
            raise ValueError(f"{MODEL_FILE.name}: a row for {row['old_la_code']!r} is malformed")
        found[row["old_la_code"]] = neighbours
    return MappingProxyType(found)
