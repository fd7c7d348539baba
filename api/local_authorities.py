"""England's local authorities with children's services, by DfE number and ONS code.

Read from the reference lookup shipped in demo_data/reference/ (provider_data_lookup.csv, byte
for byte as in ../shared/data/reference): the importers check a file's codes against it, and
the API finds an authority by either code. The councils abolished by reorganisations (Cumbria,
Northamptonshire, Poole) are listed there with their DfE number and no ONS code, so they are
found by number only and no Ofsted row can name them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType

REFERENCE_FILE = (
    Path(__file__).resolve().parent / "demo_data" / "reference" / "provider_data_lookup.csv"
)


@dataclass(frozen=True)
class LocalAuthority:
    la_number: str  # DfE's three digits, e.g. 333
    ons_code: str | None  # e.g. E08000028; None for a council since abolished
    name: str  # the ONS's spelling ("Bristol, City of"), which Ofsted's tables shorten
    region: str
    ofsted_urn: str


class LocalAuthorities:
    def __init__(self, authorities: Iterable[LocalAuthority]) -> None:
        listed = tuple(authorities)
        self._by_number = MappingProxyType({a.la_number: a for a in listed})
        self._by_ons_code = MappingProxyType({a.ons_code: a for a in listed if a.ons_code})

    def find(self, code: str) -> LocalAuthority | None:
        """The authority with this DfE number ("333") or ONS code ("E08000028")."""
        return self._by_number.get(code) or self._by_ons_code.get(code)

    def __len__(self) -> int:
        return len(self._by_number)


@cache
def local_authorities() -> LocalAuthorities:
    text = REFERENCE_FILE.read_bytes().decode("utf-8-sig")
    return LocalAuthorities(
        LocalAuthority(
            la_number=row["la_code"],
            ons_code=row["la_code_new"] or None,
            name=row["local_authority_ons_name"],
            region=row["region_name"],
            ofsted_urn=row["urn"],
        )
        for row in csv.DictReader(io.StringIO(text, newline=""))
    )
