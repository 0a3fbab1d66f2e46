"""Reading custom report files whatever their layout: columns found by name in any order,
gzip / zip / plain, comma / semicolon / tab, dates with or without offsets or split in two,
other activity types skipped, and a clear error naming what a file lacks."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest

from reconcile.getresponse.report_files import FileStats, ReportLayoutError, read_rows

PLAIN = (
    "Contact ID,Email,Message ID,Message name,Activity type,Activity date,Link URL\r\n"
    "pV3r,Anna@X.fr,N1,June news,send,2024-06-01 08:00:00,\r\n"
    "pV3r,anna@x.fr,N1,June news,open,2024-06-01 09:10:00,\r\n"
    'pV3r,anna@x.fr,N1,"June news, part 2",click,2024-06-01 09:11:00,https://shop.example/?a=1\r\n'
)


def rows(data: bytes, stats: FileStats | None = None) -> list[tuple]:
    return list(read_rows(io.BytesIO(data), "file cRiF", stats))


def test_the_sandbox_layout_plain() -> None:
    found = rows(PLAIN.encode())
    assert found[0] == ("pV3r", "anna@x.fr", "N1", "June news", "send", 1717228800, None)
    assert found[2][3:] == ("June news, part 2", "click", 1717233060, "https://shop.example/?a=1")


@pytest.mark.parametrize("packing", ["gzip", "zip"])
def test_compressed_files_are_sniffed(packing: str) -> None:
    data = PLAIN.encode("utf-8-sig")
    if packing == "gzip":
        packed = gzip.compress(data)
    else:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("report.csv", data)
        packed = buffer.getvalue()
    assert rows(packed) == rows(PLAIN.encode())


def test_other_names_order_delimiters_and_date_forms() -> None:
    data = (
        b"activity;DATE;time;newsletter_id;subscriber_email;Clicked URL\n"
        b"Opened;2024-06-01;09:10:00;N1;zoe@x.fr;\n"
        b"CLICKED;2024-06-01;09:11:05;N1;zoe@x.fr;https://a.example/\n"
        b"bounce;2024-06-01;09:12:00;N1;zoe@x.fr;\n"
        b"open;not a date;;N1;zoe@x.fr;\n"
    )
    stats = FileStats()
    found = rows(data, stats)
    assert [(r[1], r[4], r[5]) for r in found] == [
        ("zoe@x.fr", "open", 1717233000),
        ("zoe@x.fr", "click", 1717233065),
    ]
    assert found[0][0] is None  # no contact id column: matched by email later
    assert stats.rows == 4
    assert stats.skipped_kinds == {"bounce": 1}
    assert stats.bad_dates == 1


def test_offsets_are_honoured_and_naive_dates_are_utc() -> None:
    data = (
        b"contactId\tmessageId\tactivityType\tcreatedOn\n"
        b"a\tN\tsend\t2024-06-01T10:00:00+0200\n"
        b"a\tN\tsend\t2024-06-01T08:00:00Z\n"
        b"a\tN\tsend\t2024-06-01T08:00:00\n"
    )
    assert {r[5] for r in rows(data)} == {1717228800}


def test_an_unknown_layout_names_the_file_the_headers_and_what_is_missing() -> None:
    with pytest.raises(ReportLayoutError) as caught:
        rows(b"Who,What,When\nanna,opened,yesterday\n")
    message = str(caught.value)
    assert "file cRiF" in message
    assert "'Who', 'What', 'When'" in message
    assert "a contact (contact id or email)" in message
    assert "a message id" in message
    assert 'activities.source = "api"' in caught.value.hint


def test_an_empty_file_has_no_rows() -> None:
    assert rows(b"") == []
    assert rows(PLAIN.splitlines()[0].encode()) == []
