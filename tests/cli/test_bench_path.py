"""The matching benchmarks measure what users run: on one input, ``bench/bench_matching_quality``
decides exactly as ``reconcile match`` (the CLI, through its workbook) and as the library path
``migrate plan`` shares (``review_frame``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from click.testing import CliRunner

from reconcile.cli import cli
from reconcile.workbooks.validate import read_review

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location(
        "bench_matching_quality", ROOT / "bench" / "bench_matching_quality.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_bench_and_cli_decide_identically_on_one_input(tmp_path: Path) -> None:
    bench = _bench()
    result, truth, _ = bench.run(1500, 3000, seed=3, folder=tmp_path)
    gr_csv = tmp_path / "hard_1500x3000_s3_gr.csv"
    crm_csv = tmp_path / "hard_1500x3000_s3_crm.csv"
    review = tmp_path / "review.xlsx"
    out = CliRunner().invoke(
        cli, ["match", str(gr_csv), str(crm_csv), "-o", str(review), "-q"], catch_exceptions=False
    )
    assert out.exit_code == 0, out.output
    written = read_review(review).rows.set_index("gr_contact_id")
    bench_rows = result.set_index("gr_contact_id")
    assert list(written.index) == list(bench_rows.index)
    assert written["decision"].tolist() == bench_rows["decision"].tolist()
    linked = bench_rows["decision"] == "link"
    assert (
        written.loc[linked, "crm_contact_id"].tolist()
        == bench_rows.loc[linked, "crm_contact_id"].tolist()
    )
    assert written["candidate_ids"].tolist() == bench_rows["candidate_ids"].tolist()
    # The set is a hard one: every decision occurs, and the labels line up with the rows.
    assert set(bench_rows["decision"]) >= {"link", "review", "new", "invalid"}
    assert truth["gr_contact_id"].tolist() == result["gr_contact_id"].tolist()
