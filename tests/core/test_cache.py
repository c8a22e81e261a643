"""The history cache of the cleaning stage (analysis.core.cache, clean.history): a hit gives the
same bytes as a cold run, a changed raw file is a miss, a damaged entry is a miss."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pandas as pd
import pytest

from analysis import clean, ingest
from analysis.clean import history as clean_history
from analysis.core import cache, privacy
from analysis.ingest import period as ingest_period

PERIOD = "2024-04-19"
EARLIER = ["2023-12-15", "2024-01-19", "2024-02-23", "2024-03-22"]
KEY = b"test-cache-key-not-secret-32byte"


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _clean(raw: Path, processed: Path, jobs: int | None = None) -> dict[str, str]:
    ingest.clear_cache()  # as in a new kernel: nothing read before
    clean.clean_period(PERIOD, raw, processed, key=KEY, jobs=jobs)
    return _hashes(processed / PERIOD)


@pytest.fixture(scope="module")
def raw(sample_raw_dir, tmp_path_factory) -> Path:
    """A copy of the sample's folders up to PERIOD (the test changes one file)."""
    root = tmp_path_factory.mktemp("raw") / "raw"
    root.mkdir()
    for child in sample_raw_dir.iterdir():
        if child.is_file():
            shutil.copy2(child, root / child.name)
        elif child.name <= PERIOD:
            shutil.copytree(child, root / child.name)
    return root


@pytest.fixture(scope="module")
def cold(raw, tmp_path_factory):
    processed = tmp_path_factory.mktemp("cold")
    return processed, _clean(raw, processed)


def test_cold_run_fills_the_cache_without_personal_data(cold):
    processed, _ = cold
    entries = sorted((processed / cache.CACHE_DIR / "history").iterdir())
    # the earlier folders, and the period's own entry for the next period's history
    assert [p.stem for p in entries] == [*EARLIER, PERIOD]
    for path in entries:
        df = pd.read_parquet(path)
        assert not privacy.personal_columns(df.columns)
        assert set(df.columns) <= {
            "period",
            "school_code",
            "level",
            "n_staff",
            "n_signed",
            "n_pending",
            "basis",
        }
        assert (df["period"] == path.stem).all() and len(df) >= 50  # the TH and THCS schools


def test_warm_run_reads_no_earlier_folder_and_writes_the_same_bytes(cold, raw, monkeypatch):
    processed, first = cold

    def no_read(raw_root, folder):
        raise AssertionError(f"folder {folder} was read although its history is cached")

    monkeypatch.setattr(clean_history, "_read_signature_folder", no_read)
    assert _clean(raw, processed) == first
    history = pd.read_parquet(processed / PERIOD / "history.parquet")
    assert sorted(history["period"].unique()) == [*EARLIER, PERIOD]


def test_a_changed_earlier_file_is_a_miss_and_matches_a_run_without_cache(cold, raw, tmp_path):
    processed, first = cold
    before = pd.read_parquet(processed / PERIOD / "history.parquet")
    changed_raw = tmp_path / "raw"
    shutil.copytree(raw, changed_raw)
    # A school's own staff list disappears from 2024-02-23 (the later folders have theirs).
    (changed_raw / "2024-02-23" / "THCS_NgocLam_CBGVNV.csv").unlink()
    shutil.copytree(processed / cache.CACHE_DIR, tmp_path / "proc" / cache.CACHE_DIR)
    with_cache = _clean(changed_raw, tmp_path / "proc")
    without = _clean(changed_raw, tmp_path / "fresh")
    assert with_cache == without
    after = pd.read_parquet(tmp_path / "proc" / PERIOD / "history.parquet")
    both = before.merge(
        after, on=["period", "school_code"], how="outer", suffixes=("", "_after"), indicator=True
    )
    differs = both[(both["_merge"] != "both") | (both["n_staff"] != both["n_staff_after"])]
    # the school's row of that folder is gone, and nothing else changed
    assert differs[["period", "_merge"]].astype(str).values.tolist() == [
        ["2024-02-23", "left_only"]
    ]


def test_a_damaged_entry_is_a_miss(cold, raw, tmp_path):
    processed, first = cold
    target = tmp_path / "proc"
    shutil.copytree(processed / cache.CACHE_DIR, target / cache.CACHE_DIR)
    entry = target / cache.CACHE_DIR / "history" / "2024-01-19.parquet"
    entry.write_bytes(b"not parquet")
    assert _clean(raw, target) == first
    assert pd.read_parquet(entry)["period"].eq("2024-01-19").all()  # rewritten


def test_store_refuses_personal_columns_and_load_checks_the_key(tmp_path):
    with pytest.raises(privacy.PrivacyError):
        cache.store(tmp_path, "x/y", "k1", pd.DataFrame({"ho_ten": ["Nguyễn Văn A"]}))
    assert not (tmp_path / cache.CACHE_DIR / "x" / "y.parquet").exists()
    df = pd.DataFrame({"school_code": ["01"], "n_staff": [3]})
    cache.store(tmp_path, "x/y", "k1", df)
    pd.testing.assert_frame_equal(cache.load(tmp_path, "x/y", "k1"), df)
    assert cache.load(tmp_path, "x/y", "k2") is None
    assert cache.load(None, "x/y", "k1") is None
    assert not list((tmp_path / cache.CACHE_DIR / "x").glob("*.tmp"))


def test_warm_run_probes_only_the_files_it_needs(cold, raw, monkeypatch):
    """The kinds of every raw file are kept: an earlier folder's file whose kinds a newer
    folder serves is not opened again (here: only the school list of the first folder)."""
    processed, first = cold
    assert len(list((processed / cache.CACHE_DIR / "kinds").glob("*.json"))) == sum(
        len(ingest.list_files(folder)) for folder in raw.iterdir() if folder.is_dir()
    )
    probed = []
    real = ingest_period._probe_file_cached

    def spy(path, raw_root):
        probed.append(Path(path).relative_to(raw).as_posix())
        return real(path, raw_root)

    monkeypatch.setattr(ingest_period, "_probe_file_cached", spy)
    assert _clean(raw, processed, jobs=1) == first  # one process: every read goes by the spy
    earlier = sorted(p for p in probed if not p.startswith(PERIOD))
    assert earlier == ["2023-12-15/DanhSachTruong_LongBien_NH2023-2024.xlsx"]
    assert len(probed) - len(earlier) == len(ingest.list_files(raw / PERIOD))
    # with workers, what is read ahead is the period's own folder only
    assert ingest.files_to_read(raw, PERIOD, processed) == ingest.list_files(raw / PERIOD)
    assert len(ingest.files_to_read(raw, PERIOD, None)) == sum(
        len(ingest.list_files(folder)) for folder in raw.iterdir() if folder.is_dir()
    )


def test_a_period_stores_the_entry_the_next_period_would_compute(cold, sample_raw_dir, tmp_path):
    """Cleaning PERIOD stores its own history entry; the next period's history (computed
    without any cache) shows the same figures for PERIOD, and with the cache of PERIOD's run
    it reads no earlier folder at all and writes the same bytes."""
    processed, _ = cold
    stored = pd.read_parquet(processed / cache.CACHE_DIR / "history" / f"{PERIOD}.parquet")
    own = pd.read_parquet(processed / PERIOD / "signature_by_school.parquet")
    assert len(stored) == len(own) > 0
    assert stored.drop(columns="period").reset_index(drop=True).equals(own.reset_index(drop=True))

    later = "2024-06-24"
    ingest.clear_cache()
    clean.clean_period(later, sample_raw_dir, tmp_path / "fresh", key=KEY)
    fresh = pd.read_parquet(tmp_path / "fresh" / later / "history.parquet")
    mine = fresh[fresh["period"] == PERIOD].reset_index(drop=True)
    expected = pd.read_parquet(processed / PERIOD / "history.parquet")
    expected = expected[expected["period"] == PERIOD].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, expected)
    assert len(stored) == len(mine)

    warm = tmp_path / "warm"
    shutil.copytree(processed / cache.CACHE_DIR, warm / cache.CACHE_DIR)
    ingest.clear_cache()
    read = []
    real = clean_history._read_signature_folder

    def spy(raw_root, folder):
        read.append(folder)
        return real(raw_root, folder)

    try:
        clean_history._read_signature_folder = spy
        clean.clean_period(later, sample_raw_dir, warm, key=KEY)
    finally:
        clean_history._read_signature_folder = real
    assert read == []  # every earlier folder, PERIOD included, came from the cache
    assert _hashes(warm / later) == _hashes(tmp_path / "fresh" / later)
