"""What a long-running command prints when nobody watches a terminal: one line per event, as
text or one JSON object per line, and progress as a line every so often instead of a bar."""

from __future__ import annotations

import io
import json
import time

from reconcile.cli.runlog import LineLog, LogProgress


def test_json_lines_are_one_object_each() -> None:
    out = io.StringIO()
    log = LineLog("json", out)
    log.event("finished", "templates: ok", job="templates", counts={"templates written": 2})
    log.event("waiting", "next: newsletters 2026-12-07T10:01:00Z")
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["event"] == "finished"
    assert first["message"] == "templates: ok"
    assert first["counts"] == {"templates written": 2}
    assert first["time"].endswith("Z")
    assert second["event"] == "waiting"


def test_text_lines_start_with_the_time() -> None:
    out = io.StringIO()
    LineLog("text", out).event("started", "lists: started (it never ran here)")
    line = out.getvalue()
    assert line.endswith(" lists: started (it never ran here)\n")
    assert line[:4].isdigit()
    assert line[19] == "Z"


def test_progress_becomes_a_line_every_so_often() -> None:
    out = io.StringIO()
    progress = LogProgress(LineLog("text", out), every=0.05)
    with progress.task("writing contact records", total=3000) as task:
        task.advance(1000)  # too soon for a line
        time.sleep(0.06)
        task.advance(1000)  # a line: 2,000 of 3,000
        task.advance(1000)
    lines = out.getvalue().splitlines()
    assert lines[0].endswith("writing contact records: 2,000 of 3,000")
    assert lines[-1].endswith("writing contact records: 3,000 in 0 s")
    quiet = io.StringIO()
    with LogProgress(LineLog("text", quiet), every=60).task("reading lists") as task:
        task.advance(5)
    assert quiet.getvalue() == ""  # a short step says nothing
