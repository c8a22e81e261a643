"""The one atomic write and the one folder swap (``analysis.core.io``), on real files."""

from __future__ import annotations

import pytest

from analysis.core import io


def test_swap_in_replaces_the_old_folder(tmp_path):
    final, new = tmp_path / "2024-01-10", tmp_path / "new"
    final.mkdir()
    (final / "old.txt").write_text("cũ")
    new.mkdir()
    (new / "new.txt").write_text("mới")
    io.swap_in(new, final)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2024-01-10"]
    assert [p.name for p in final.iterdir()] == ["new.txt"]


def test_swap_in_a_first_folder_and_a_failed_rename_keeps_the_old(tmp_path, monkeypatch):
    final = tmp_path / "out"
    first = io.staging_dir(final)
    assert first.name.startswith(".tmp-out-") and first.is_dir()
    (first / "a.txt").write_text("1")
    io.swap_in(first, final)
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    second = io.staging_dir(final)
    (second / "a.txt").write_text("2")
    (second / "a.txt").unlink()
    second.rmdir()  # the new folder vanished: the rename fails, the old version stays
    with pytest.raises(OSError):
        io.swap_in(second, final)
    assert (final / "a.txt").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_atomic_path_replaces_only_when_complete(tmp_path):
    target = tmp_path / "sub" / "bang.xlsx"
    io.write_bytes(target, b"v1")
    with pytest.raises(RuntimeError), io.atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.name.startswith(".bang.")
        assert tmp.suffix == ".xlsx"
        tmp.write_bytes(b"half")
        raise RuntimeError("stop")
    assert target.read_bytes() == b"v1"
    assert [p.name for p in target.parent.iterdir()] == ["bang.xlsx"]
    with io.atomic_path(target) as tmp:
        tmp.write_bytes(b"v2")
    assert target.read_bytes() == b"v2"
