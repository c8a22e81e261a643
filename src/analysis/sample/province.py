"""A synthetic Hà Nội-size province after the reform, for benchmarks (never committed).

``write_province(out_dir)`` writes into ``out_dir/<period>/`` the raw exports of a province of
126 communes (51 phường, 75 xã) with about 2.954 schools (Mầm non, Tiểu học, THCS, THPT, GDTX
and some multi-level schools, one row per school and level) and about 140.000 staff: the
post-reform school list (``Tỉnh/Thành phố``, ``Xã/Phường``), one staff export per commune from
the CSDL (with ``Cấp học`` and ``UBND Xã`` columns; THPT and GDTX staff in the Sở's own export),
a signature counts form for the schools that sent no list, and the IT infrastructure of every
school. Everything is vectorised; one seeded generator; same arguments, same bytes.

``python -m analysis sample --province DIR [--format csv|xlsx]`` calls it (refusing
``data/raw``). The numbers are invented: the folder carries ``DU_LIEU_MAU.txt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.vocab import GDTX, MN, TH, THCS, THPT
from analysis.sample.large import (
    NO_DATE,
    TableFiles,
    bench_folder,
    check_format,
    date_text,
    place_names,
)
from analysis.sample.world import (
    ACTIVE,
    LEFT_STATUSES,
    PROVIDERS,
    SIG_WORDS,
    fix_sum,
    personal,
)

PROVINCE_PERIOD = "2025-12-12"
PROVINCE = "Thành phố Hà Nội"
N_COMMUNES = 126
N_WARDS = 51  # phường; the rest are xã
N_SCHOOLS = 2954
N_STAFF = 140_000
#: Share of the schools (counted once) by kind; multi-level kinds list the levels they teach.
KIND_SHARE: dict[str, float] = {
    MN: 0.379,
    TH: 0.244,
    THCS: 0.203,
    THPT: 0.076,
    GDTX: 0.01,
    "TH&THCS": 0.07,
    "THCS&THPT": 0.013,
    "TH&THCS&THPT": 0.005,
}
KIND_LEVELS = {
    "TH&THCS": (TH, THCS),
    "THCS&THPT": (THCS, THPT),
    "TH&THCS&THPT": (TH, THCS, THPT),
}
PREFIX = {
    MN: "Trường Mầm non",
    TH: "Trường Tiểu học",
    THCS: "Trường THCS",
    THPT: "Trường THPT",
    GDTX: "Trung tâm GDNN-GDTX",
}
#: classes lo, hi; pupils per class; staff per class, staff base
SHAPE = {
    MN: (6, 20, 24, 0.0, 0),
    TH: (12, 40, 36, 1.55, 8),
    THCS: (10, 36, 40, 1.7, 9),
    THPT: (18, 45, 42, 2.2, 12),
    GDTX: (6, 20, 35, 1.4, 8),
}
SIG_STATUS = np.array([SIG_WORDS[k] for k in ("no", "yes", "pending")], dtype=object)
POSITIONS = np.array(
    ["Hiệu trưởng", "Phó hiệu trưởng", "Giáo viên", "Kế toán", "Văn thư", "Y tế", "Bảo vệ"]
)
POSITION_P = np.array([0.015, 0.03, 0.82, 0.03, 0.03, 0.03, 0.045])


def _communes(rng, n: int, n_wards: int) -> pd.DataFrame:
    names = place_names(rng, n, 2)
    kind = np.where(np.arange(n) < n_wards, "Phường", "Xã")
    df = pd.DataFrame({"commune": (pd.Series(kind) + " " + names).to_numpy()})
    df["urban"] = kind == "Phường"
    df["effect"] = rng.normal(0, 0.6, n)
    df.loc[rng.choice(n, size=max(1, n // 12), replace=False), "effect"] -= 1.5  # lagging
    return df.sort_values("commune", kind="stable").reset_index(drop=True)


def _schools(rng, communes: pd.DataFrame, n_schools: int) -> pd.DataFrame:
    """One row per school (counted once), with its kind and commune."""
    kinds = np.array(list(KIND_SHARE), dtype=object)
    share = np.array(list(KIND_SHARE.values()))
    counts = np.floor(share / share.sum() * n_schools).astype(int)
    counts[0] += n_schools - counts.sum()
    kind = np.repeat(kinds, counts)
    rng.shuffle(kind)
    # urban communes hold more schools
    w = np.where(communes["urban"], 1.4, 1.0) * rng.gamma(6, 1, len(communes))
    where = rng.choice(len(communes), n_schools, p=w / w.sum())
    where[: len(communes)] = np.arange(len(communes))  # every commune has a school
    df = pd.DataFrame({"kind": kind, "ci": where})
    df["commune"] = communes["commune"].to_numpy()[where]
    base = place_names(rng, n_schools, 2)
    multi = df["kind"].isin(list(KIND_LEVELS)).to_numpy()
    prefix = df["kind"].map(PREFIX).fillna("Trường " + df["kind"])
    name = prefix + " " + base
    key = df["commune"] + "|" + name
    rep = key.groupby(key).cumcount()
    df["school_name"] = name.where(rep == 0, name + " " + (rep + 1).astype(str)).to_numpy()
    codes = rng.choice(90_000_000, n_schools, replace=False) + 1_000_000
    df["school_code"] = pd.Series(codes).astype(str).str.zfill(8).to_numpy()
    private = rng.random(n_schools) < np.where(multi, 0.7, 0.12)
    df["ownership"] = np.where(private, "Tư thục", "Công lập")
    df["multi"] = multi
    df = df.sort_values(["ci", "kind", "school_name"], kind="stable").reset_index(drop=True)
    return df


def _levels(rng, schools: pd.DataFrame) -> pd.DataFrame:
    """One row per school and level taught, with classes and pupils."""
    lv = schools["kind"].map(lambda k: KIND_LEVELS.get(k, (k,)))
    rows = schools.loc[schools.index.repeat(lv.map(len))].copy()
    rows["level"] = np.concatenate(lv.to_numpy())
    rows = rows.reset_index(drop=True)
    level = rows["level"].to_numpy()
    lo = np.array([SHAPE[x][0] for x in level])
    hi = np.array([SHAPE[x][1] for x in level])
    size = np.array([SHAPE[x][2] for x in level], dtype=float)
    part = np.where(rows["multi"].to_numpy(), 0.45, 1.0)
    cls = np.maximum(3, np.round(rng.uniform(lo, hi) * part)).astype(np.int64)
    rows["n_classes"] = cls
    rows["n_pupils"] = np.round(cls * (size + rng.normal(0, 2, len(rows)))).astype(np.int64)
    miss = rng.random(len(rows)) < 0.1
    rows["n_pupils_with_id"] = rows["n_pupils"] - np.where(miss, rng.integers(1, 9, len(rows)), 0)
    return rows


def _staff(rng, levels: pd.DataFrame, communes: pd.DataFrame, n_staff: int) -> pd.DataFrame:
    """``n_staff`` staff spread over the non-preschool school-level rows."""
    with_staff = levels[levels["level"] != MN]
    per_cls = np.array([SHAPE[x][3] for x in with_staff["level"]])
    base = np.array([SHAPE[x][4] for x in with_staff["level"]])
    raw = np.round(with_staff["n_classes"].to_numpy() * per_cls + base)
    raw = raw * n_staff / max(1.0, raw.sum())
    k = fix_sum(np.round(raw), n_staff, 1, 10**6, rng)
    idx = np.repeat(with_staff.index.to_numpy(), k)
    s = levels.loc[idx].reset_index(drop=True)
    n = len(s)
    pos = rng.choice(POSITIONS, n, p=POSITION_P)
    frame = pd.DataFrame({"level": np.where(s["level"] == TH, TH, THCS), "position": pos})
    frame["role"] = np.select(
        [np.isin(pos, ["Hiệu trưởng", "Phó hiệu trưởng"]), pos == "Giáo viên"], ["CBQL", "GV"], "NV"
    )
    pers = personal(frame, rng)
    ids = rng.choice(9_000_000_000, n, replace=False) + 1_000_000_000
    effect = communes.set_index("commune")["effect"]
    school_effect = rng.normal(0, 0.7, len(levels))[idx]
    logit = 1.6 + s["commune"].map(effect).to_numpy() + school_effect
    p_sign = np.clip(1 / (1 + np.exp(-logit)), 0.05, 0.995)
    u = rng.random(n)
    signed = u < p_sign
    pending = ~signed & (u < p_sign + 0.04)
    status = np.where(signed, 1, np.where(pending, 2, 0))
    prov = np.where(
        s["level"].to_numpy() == TH,
        rng.choice(np.array(PROVIDERS), n, p=[0.7, 0.15, 0.05, 0.04, 0.03, 0.03]),
        rng.choice(np.array(PROVIDERS), n, p=[0.15, 0.7, 0.05, 0.04, 0.03, 0.03]),
    )
    epoch = np.datetime64("1970-01-01")
    start = (np.datetime64("2024-03-01") - epoch).astype(int)
    issued = start + rng.integers(0, 640, n)
    expires = issued + rng.choice([730, 1095], n) - 1
    birth = (pers["birth_date"].to_numpy().astype("datetime64[D]") - epoch).astype(int)
    active = rng.random(n) < 0.985
    emp = np.where(active, ACTIVE, rng.choice(np.array(LEFT_STATUSES), n))
    return pd.DataFrame(
        {
            "Mã định danh": pd.Series(ids).astype(str),
            "Họ và tên": pers["full_name"].to_numpy(),
            "Ngày sinh": date_text(birth),
            "Số CCCD": pers["id_number"].to_numpy(),
            "Số điện thoại": pers["phone"].to_numpy(),
            "Email": pers["email"].to_numpy(),
            "Chức vụ": pos,
            "Cấp học": s["level"].to_numpy(),
            "Mã trường": s["school_code"].to_numpy(),
            "Tên trường": s["school_name"].to_numpy(),
            "UBND Xã": s["commune"].to_numpy(),
            "Trạng thái CB": emp,
            "Chữ ký số": SIG_STATUS[status],
            "Nhà cung cấp": np.where(signed | pending, prov, ""),
            "Ngày cấp": date_text(np.where(signed, issued, NO_DATE)),
            "Ngày hết hạn": date_text(np.where(signed, expires, NO_DATE)),
        }
    )


def _slug(text: str) -> str:
    from analysis.sample.world import ascii_fold

    return "".join(w.capitalize() for w in ascii_fold(text).split())


def write_province(
    out_dir: Path | str,
    seed: int = 20250701,
    n_communes: int = N_COMMUNES,
    n_schools: int = N_SCHOOLS,
    n_staff: int = N_STAFF,
    fmt: str = "xlsx",
    period: str = PROVINCE_PERIOD,
) -> dict:
    """Write the province into ``out_dir/<period>/``; return what was written: ``{"period",
    "fmt", "n_communes", "n_schools", "n_school_rows", "n_staff", "n_staff_active",
    "n_signed_active", "by_level", "by_commune", "files": [{"file", "kind", "rows"}]}``."""
    check_format(fmt)
    if not (1 <= n_communes <= n_schools) or n_staff <= 0:
        raise ValueError("Cần 1 <= số xã <= số trường và số CBGVNV dương.")
    note = "DỮ LIỆU MẪU cỡ một tỉnh (tổng hợp, để đo hiệu năng): không phải số liệu thật.\n"
    w = TableFiles(bench_folder(out_dir, period, note), period, fmt, created=period)
    rng = np.random.default_rng([seed, 14])
    n_wards = round(n_communes * N_WARDS / N_COMMUNES)
    communes = _communes(rng, n_communes, n_wards)
    schools = _schools(rng, communes, n_schools)
    levels = _levels(rng, schools)
    staff = _staff(rng, levels, communes, n_staff)
    w.put(_truong_table(levels), "DanhSachTruong_HaNoi", "truong", "DanhSachTruong")
    # a few schools send counts instead of a list
    codes = schools.loc[schools["kind"] != MN, "school_code"].to_numpy()
    counts_only = set(rng.choice(codes, size=max(1, len(codes) // 40), replace=False))
    in_list = ~staff["Mã trường"].isin(counts_only).to_numpy()
    _put_lists(w, staff[in_list])
    counts = _counts_table(staff[~in_list])
    w.put(counts, "TongHop_CKS_cac_truong", "tonghop_cks", "TongHop")
    w.put(_infra_table(schools, rng), "HaTang_CNTT_HaNoi", "ha_tang", "HaTang")
    active = staff["Trạng thái CB"].to_numpy() == ACTIVE
    signed = active & (staff["Chữ ký số"].to_numpy() == SIG_WORDS["yes"])
    per_commune = {
        c: int(k) for c, k in schools.groupby("commune", sort=True)["school_code"].size().items()
    }
    return {
        "period": period,
        "fmt": fmt,
        "province": PROVINCE,
        "n_communes": int(n_communes),
        "n_schools": int(len(schools)),
        "n_multi_level": int(schools["multi"].sum()),
        "n_school_rows": int(len(levels)),
        "n_staff": int(len(staff)),
        "n_staff_listed": int(in_list.sum()),
        "n_counts_schools": len(counts),
        "n_staff_active": int(active.sum()),
        "n_signed_active": int(signed.sum()),
        "by_level": _by_level(levels, staff, active, signed),
        "by_commune": per_commune,
        "files": w.files,
    }


def _truong_table(levels: pd.DataFrame) -> pd.DataFrame:
    """The school list, one row per school and level (post-reform columns)."""
    return pd.DataFrame(
        {
            "Mã trường": levels["school_code"],
            "Tên trường": levels["school_name"],
            "Cấp học": levels["level"],
            "Loại hình": levels["ownership"],
            "Tỉnh/Thành phố": PROVINCE,
            "Xã/Phường": levels["commune"],
            "Số lớp": levels["n_classes"],
            "Số học sinh": levels["n_pupils"],
            "Số HS có mã định danh": levels["n_pupils_with_id"],
        }
    )


def _put_lists(w: TableFiles, listed: pd.DataFrame) -> None:
    """The staff lists: one export per commune, one from the Sở for THPT and GDTX."""
    sở = listed["Cấp học"].isin([THPT, GDTX]).to_numpy()
    for commune, part in listed[~sở].groupby("UBND Xã", sort=True):
        w.put(part, f"CSDL_CBGVNV_{_slug(commune)}", "cbgvnv", "CBGVNV")
    w.put(listed[sở], "CSDL_CBGVNV_SoGDDT_THPT_GDTX", "cbgvnv", "CBGVNV")


def _counts_table(cnt: pd.DataFrame) -> pd.DataFrame:
    """The counts form of the schools that send no list: active and signed staff."""
    act = cnt["Trạng thái CB"] == ACTIVE
    agg = (
        cnt.assign(a=act, s=act & (cnt["Chữ ký số"] == SIG_WORDS["yes"]))
        .groupby(["Mã trường", "Tên trường"], sort=True)[["a", "s"]]
        .sum()
        .reset_index()
    )
    return pd.DataFrame(
        {
            "Mã trường": agg["Mã trường"],
            "Tên trường": agg["Tên trường"],
            "Tổng số CBGVNV": agg["a"].astype(int),
            "Số CBGVNV đã có chữ ký số": agg["s"].astype(int),
        }
    )


def _infra_table(schools: pd.DataFrame, rng) -> pd.DataFrame:
    """The IT infrastructure, one row a school."""
    n = len(schools)
    return pd.DataFrame(
        {
            "Mã trường": schools["school_code"],
            "Tên trường": schools["school_name"],
            "Số đường truyền": rng.choice([1, 1, 2, 2, 3], n),
            "Tốc độ (Mbps)": rng.choice([50, 80, 100, 150, 200, 300], n),
            "Số máy tính phục vụ quản lý": rng.integers(2, 16, n),
        }
    )


def _by_level(levels: pd.DataFrame, staff: pd.DataFrame, active, signed) -> dict:
    """Per level: school rows, classes, pupils, active and signed staff."""
    by_level = {}
    for level, g in levels.groupby("level", sort=False):
        m = staff["Cấp học"].to_numpy() == level
        by_level[level] = {
            "n_school_rows": len(g),
            "n_classes": int(g["n_classes"].sum()),
            "n_pupils": int(g["n_pupils"].sum()),
            "n_staff_active": int(active[m].sum()),
            "n_signed_active": int(signed[m].sum()),
        }
    return by_level
