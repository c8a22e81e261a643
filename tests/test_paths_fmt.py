"""The folder finder and the Vietnamese formats."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from analysis import paths
from analysis.core import fmt


def test_root_found_from_package_location_not_cwd(tmp_path):
    code = "from analysis import paths; print(paths.ROOT)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == str(paths.ROOT)
    assert (paths.ROOT / "pyproject.toml").is_file()
    assert paths.RAW_DIR == paths.ROOT / "data" / "raw"


def test_list_and_latest_periods(tmp_path):
    for name in ["2024-04-19", "2023-12-15", "notes", "2024-13-01", "2024-06-24"]:
        (tmp_path / name).mkdir()
    (tmp_path / "2025-01-01.txt").write_text("not a folder")
    assert paths.list_periods(tmp_path) == ["2023-12-15", "2024-04-19", "2024-06-24"]
    assert paths.latest_period(tmp_path) == "2024-06-24"


def test_latest_period_of_empty_folder_says_what_to_do(tmp_path):
    with pytest.raises(paths.PeriodError, match="YYYY-MM-DD"):
        paths.latest_period(tmp_path)


@pytest.mark.parametrize("bad", ["19/04/2024", "2024-4-19", "2024-02-30", "", "abc"])
def test_bad_period_rejected(bad):
    with pytest.raises(paths.PeriodError):
        paths.parse_period(bad)


def test_run_config_defaults_and_overrides(tmp_path):
    (tmp_path / "raw" / "2024-04-19").mkdir(parents=True)
    cfg = paths.RunConfig.from_params("", tmp_path / "raw", tmp_path / "p", tmp_path / "o")
    assert cfg.period == "2024-04-19"
    assert cfg.raw == tmp_path / "raw" / "2024-04-19"
    assert cfg.processed == tmp_path / "p" / "2024-04-19"
    assert cfg.figures == tmp_path / "o" / "2024-04-19" / "figures"
    assert not cfg.sample
    (tmp_path / "raw" / paths.SAMPLE_MARK_FILE).write_text("Dữ liệu mẫu")
    assert cfg.sample
    with pytest.raises(paths.PeriodError, match="không tồn tại"):
        paths.RunConfig.from_params("", tmp_path / "missing")


def test_root_override_by_environment(tmp_path):
    env = dict(os.environ, HOCBASO_ROOT=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", "from analysis import paths; print(paths.RAW_DIR)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == str(tmp_path / "data" / "raw")


@pytest.mark.parametrize(
    ("value", "text"),
    [(87097, "87.097"), (1127, "1.127"), (246, "246"), (1660000, "1.660.000"), (0, "0")],
)
def test_fmt_int(value, text):
    assert fmt.fmt_int(value) == text


def test_fmt_pct_and_num():
    assert fmt.fmt_pct(1248 / 1787) == "69,8%"
    assert fmt.fmt_pct(27533 / 29093, 2) == "94,64%"
    assert fmt.fmt_pct(1.0) == "100,0%"
    assert fmt.fmt_num(1234.5) == "1.234,5"
    assert fmt.fmt_int(None) == fmt.fmt_pct(float("nan")) == fmt.MISSING


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2024, 4, 19), "Long Biên, ngày 19 tháng 4 năm 2024"),
        (date(2024, 2, 5), "Long Biên, ngày 05 tháng 02 năm 2024"),
        (date(2023, 12, 1), "Long Biên, ngày 01 tháng 12 năm 2023"),
        (date(2024, 1, 10), "Long Biên, ngày 10 tháng 01 năm 2024"),
        (date(2024, 3, 9), "Long Biên, ngày 09 tháng 3 năm 2024"),
    ],
)
def test_date_line_leading_zeros(day, text):
    assert fmt.date_line("Long Biên", day) == text


def test_cli_help_and_unknown_command():
    run = [sys.executable, "-m", "analysis"]
    ok = subprocess.run(run + ["--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "sample" in ok.stdout and "run" in ok.stdout
    bad = subprocess.run(run + ["frobnicate"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Lệnh không rõ" in bad.stderr
