"""privacy: keyed person key, key loading, personal-column guard."""

from __future__ import annotations

import hashlib
import logging
import stat

import pandas as pd
import pytest

from analysis.core import privacy

KEY = bytes.fromhex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")


def test_person_key_is_keyed_hash_of_normalised_id():
    ids = pd.Series(["0177542473", " 0177542473 ", "0177542473.0", None, "", "ab 12"])
    keys = privacy.person_key(ids, KEY)
    expected = hashlib.blake2b(b"0177542473", key=KEY, digest_size=8).hexdigest()
    assert keys.iloc[0] == expected
    assert keys.iloc[1] == expected and keys.iloc[2] == expected
    assert pd.isna(keys.iloc[3]) and pd.isna(keys.iloc[4])
    assert keys.iloc[5] == hashlib.blake2b(b"AB12", key=KEY, digest_size=8).hexdigest()
    assert keys.dropna().str.fullmatch(r"[0-9a-f]{16}").all()


def test_person_key_depends_on_key():
    ids = pd.Series(["0177542473"])
    other = privacy.person_key(ids, b"another key")
    assert other.iloc[0] != privacy.person_key(ids, KEY).iloc[0]
    with pytest.raises(privacy.PrivacyError):
        privacy.person_key(ids, b"")


def test_load_key_from_env_hex_and_text(monkeypatch):
    monkeypatch.setenv(privacy.KEY_ENV, KEY.hex())
    assert privacy.load_key() == KEY
    monkeypatch.setenv(privacy.KEY_ENV, "mật khẩu của phòng")
    assert privacy.load_key() == "mật khẩu của phòng".encode()


def test_load_key_creates_file_once_mode_0600_and_logs_notice(monkeypatch, tmp_path, caplog):
    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    with caplog.at_level(logging.WARNING, logger="analysis.core.privacy"):
        key = privacy.load_key()
    path = tmp_path / "cfg" / "hocbaso" / "pseudonym.key"
    assert path.is_file() and len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "sao lưu" in caplog.text
    assert key.hex() not in caplog.text
    # Second use reads the same key, no new notice.
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="analysis.core.privacy"):
        assert privacy.load_key() == key
    assert caplog.text == ""


def test_assert_no_personal():
    privacy.assert_no_personal(pd.DataFrame(columns=["person_key", "school_code", "school_name"]))
    for col in ["full_name", "staff_id", "email", "Họ và tên", "Số CCCD", "Ngày sinh", "phone"]:
        with pytest.raises(privacy.PrivacyError):
            privacy.assert_no_personal(pd.DataFrame(columns=["person_key", col]))


def test_load_key_race_two_processes_get_the_same_key(monkeypatch, tmp_path):
    """Processes creating the key at once (pytest-xdist workers on a fresh machine, two batch
    runs) end with one key file, and all of them use it."""
    import multiprocessing
    import secrets
    import time

    monkeypatch.delenv(privacy.KEY_ENV, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))

    token_bytes = secrets.token_bytes

    def slow_token(n):  # every process has looked for the file before any has written it
        time.sleep(0.3)
        return token_bytes(n)

    monkeypatch.setattr(privacy.secrets, "token_bytes", slow_token)
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(4) as pool:
        keys = pool.map(_load_key, range(4))
    assert len(set(keys)) == 1
    path = tmp_path / "cfg" / "hocbaso" / "pseudonym.key"
    assert bytes.fromhex(path.read_text().strip()) == keys[0]
    assert [p.name for p in path.parent.iterdir()] == ["pseudonym.key"]


def _load_key(_: int) -> bytes:
    return privacy.load_key()


def test_public_views_hide_free_text_and_keep_what_mends_a_row():
    q = pd.DataFrame(
        {
            "reason": ["bad_role", "bad_date", "unmatched_school", "bad_number"],
            "column": ["Vị trí việc làm", "Ngày cấp", "Tên trường", "Số lớp"],
            "value": ["Cô Lan 09********", "31/02/2024", "Trường TH Ái Mộ", "-3"],
            "message": [
                "Chức vụ 'Cô Lan 09********' không rõ.",
                "Ngày cấp '31/02/2024' không đọc được.",
                "Không khớp tên trường 'Trường TH Ái Mộ'.",
                "Số lớp '-3' âm.",
            ],
        }
    )
    pub = privacy.public_quarantine(q)
    assert pub["value"].tolist() == [privacy.HIDDEN, "31/02/2024", "Trường TH Ái Mộ", "-3"]
    assert pub["message"].iat[0] == f"Chức vụ '{privacy.HIDDEN}' không rõ."
    assert pub["message"].tolist()[1:] == q["message"].tolist()[1:]
    assert q["value"].iat[0] == "Cô Lan 09********"  # the processed table itself is unchanged
    quality = {
        "warnings": [
            {
                "code": "free_text_other",
                "quoted": ["Mua qua Cô Lan"],
                "message": "x 'Mua qua Cô Lan' y",
            }
        ],
        "skipped_sheets": [
            {"file": "a.xlsx", "sheet": "S", "quoted": ["Họ tên A"], "reason": "thấy “Họ tên A”."}
        ],
    }
    pub = privacy.public_quality(quality)
    assert pub["warnings"] == [{"code": "free_text_other", "message": f"x '{privacy.HIDDEN}' y"}]
    assert pub["skipped_sheets"][0]["reason"] == f"thấy “{privacy.HIDDEN}”."
    assert "quoted" not in pub["skipped_sheets"][0]
    assert quality["warnings"][0]["quoted"] == ["Mua qua Cô Lan"]


def test_personal_headers_are_found_by_the_one_fold():
    """Header spellings an export uses for personal fields (diacritics, case, _ or - inside),
    found with ``core.text.fold``; an ordinary column is not."""
    columns = ["E-mail", "Địa chỉ e-mail", "HỌ VÀ TÊN", "ho_ten", "Số CCCD", "Ngày sinh", "Điện "
               "thoại", "school_name", "n_staff", "Tên trường"]  # fmt: skip
    assert privacy.personal_columns(columns) == columns[:7]
