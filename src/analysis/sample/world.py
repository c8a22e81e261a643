"""The synthetic world behind the sample data set, as clean tables.

Quận Long Biên (Hà Nội), school year 2023-2024: 142 schools, their classes and pupils, the
staff of primary and lower-secondary schools with their personal digital signatures over six
reporting periods, IT infrastructure and the signing of the digital records per class.
Everything is drawn from one ``numpy.random.Generator`` seeded by the caller, so the same seed
gives the same world. The totals that the published report states hold exactly (see
``LEVEL_TOTALS``, ``REF_PRIMARY_STAFF``, ``REF_PRIMARY_SIGNED``, ``TOTAL_FIBRE``,
``TOTAL_COMPUTERS``).

The rendering of this world into messy raw files lives in :mod:`analysis.sample.generator`
(:mod:`.district`, :mod:`.messy`, :mod:`.planted`).
"""

from __future__ import annotations

import csv
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.core.vocab import BASE_LEVELS, MN, TH, THCS

#: The seed of the committed sample (and the default of the large benchmark set).
DEFAULT_SEED = 20240419
PERIODS: tuple[str, ...] = (
    "2023-12-15",
    "2024-01-19",
    "2024-02-23",
    "2024-03-22",
    "2024-04-19",
    "2024-06-24",
)
PERIOD_DATES: tuple[date, ...] = tuple(date.fromisoformat(p) for p in PERIODS)
#: Index of the period whose primary figures the published report states.
REF = 4
NEVER = 99

#: level -> (schools, classes, pupils), as published.
LEVEL_TOTALS: dict[str, tuple[int, int, int]] = {
    MN: (82, 1127, 25915),
    TH: (33, 926, 34911),
    THCS: (27, 661, 26271),
}
REF_PRIMARY_STAFF = 1787
REF_PRIMARY_SIGNED = 1248
TOTAL_FIBRE = 246
TOTAL_COMPUTERS = 866
SPEEDS = np.array([70, 80, 100, 150, 200, 300])

DISTRICT = "Long Biên"
WARDS: tuple[str, ...] = (
    "Bồ Đề",
    "Cự Khối",
    "Đức Giang",
    "Gia Thụy",
    "Giang Biên",
    "Long Biên",
    "Ngọc Lâm",
    "Ngọc Thụy",
    "Phúc Đồng",
    "Phúc Lợi",
    "Sài Đồng",
    "Thạch Bàn",
    "Thượng Thanh",
    "Việt Hưng",
)

CL, TT = "Công lập", "Tư thục"
#: The district's schools (short names): level, name, ward (empty: drawn; a Mầm non school's
#: ward is the one its name starts with), ownership. Mầm non: the public ones, then the private
#: ones, of which the first ``LEVEL_TOTALS`` minus the public are used.
SCHOOLS_FILE = Path(__file__).with_name("schools.csv")


def _school_table() -> list[tuple[str, str, str | None, str]]:
    with SCHOOLS_FILE.open(encoding="utf-8", newline="") as fh:
        return [
            (r["level"], r["name"], r["ward"] or None, r["ownership"]) for r in csv.DictReader(fh)
        ]


LEVEL_PREFIX = {MN: "Trường Mầm non", TH: "Trường Tiểu học", THCS: "Trường THCS"}

# Staff positions: (position, role).
POSITIONS: dict[str, str] = {
    "Hiệu trưởng": "CBQL",
    "Phó hiệu trưởng": "CBQL",
    "Giáo viên": "GV",
    "Tổng phụ trách Đội": "GV",
    "Kế toán": "NV",
    "Văn thư": "NV",
    "Y tế": "NV",
    "Thư viện": "NV",
    "Thiết bị": "NV",
    "Bảo vệ": "NV",
    "Nhân viên": "NV",
}
_NV = ("Kế toán", "Văn thư", "Y tế", "Thư viện", "Thiết bị", "Bảo vệ")
POSITION_RANK = {p: i for i, p in enumerate(POSITIONS)}

PROVIDERS = ("Viettel", "VNPT", "FPT", "BKAV", "MISA", "VGCA")
PROVIDER_P = {
    TH: (0.84, 0.05, 0.04, 0.03, 0.02, 0.02),
    THCS: (0.08, 0.80, 0.04, 0.03, 0.03, 0.02),
}
LEFT_STATUSES = ("Nghỉ hưu", "Chuyển đi", "Nghỉ việc")
ACTIVE = "Đang làm việc"
#: A list's signature status -> the words the CSDL export writes.
SIG_WORDS = {"yes": "Đã cấp", "no": "Chưa cấp", "pending": "Đang đăng ký"}

SURNAMES = (
    ("Nguyễn", 38),
    ("Trần", 11),
    ("Lê", 9),
    ("Phạm", 7),
    ("Hoàng", 5),
    ("Vũ", 4),
    ("Phan", 3),
    ("Đặng", 2),
    ("Bùi", 2),
    ("Đỗ", 2),
    ("Hồ", 1.5),
    ("Ngô", 1.5),
    ("Dương", 1),
    ("Đinh", 1),
    ("Đào", 1),
    ("Trịnh", 1),
    ("Lý", 0.5),
    ("Lương", 0.5),
    ("Mai", 0.5),
    ("Tạ", 0.5),
    ("Nghiêm", 0.3),
    ("Kiều", 0.3),
)
MIDDLE_F = ("Thị", "Thị", "Thị", "Thị", "Thu", "Ngọc", "Thanh", "Hồng", "Minh", "Phương")
MIDDLE_F2 = ("Thùy", "Kim", "Mai", "Hải", "Bích", "Diệu", "Thị Thu", "Thị Thanh")
MIDDLE_M = ("Văn", "Văn", "Đức", "Minh", "Quốc", "Hữu", "Thanh", "Xuân", "Tuấn", "Công", "Mạnh")
GIVEN_F = (
    "Anh", "Hà", "Hằng", "Hạnh", "Hoa", "Hương", "Huyền", "Lan", "Linh", "Loan", "Mai",
    "Nga", "Ngọc", "Nhung", "Phương", "Quyên", "Thảo", "Thủy", "Trang", "Vân", "Yến", "Hòa",
    "Dung", "Giang", "Hiền", "Liên", "Oanh", "Tâm", "Thu", "Tuyết", "Xuân", "Hồng", "Nhàn",
    "Chi", "Quỳnh", "Thơ", "Ánh", "Hậu", "Thúy", "Duyên", "Huệ", "Lụa", "Nguyệt", "Thoa",
)  # fmt: skip
GIVEN_M = (
    "An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hùng", "Huy", "Khánh", "Long", "Minh",
    "Nam", "Phong", "Quang", "Sơn", "Thắng", "Thành", "Trung", "Tuấn", "Việt", "Hiếu", "Lâm",
    "Toàn", "Tùng", "Hưng", "Kiên",
)  # fmt: skip
PHONE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "056", "058", "070", "076",
    "077", "078", "079", "081", "082", "083", "084", "085", "086", "088", "089", "090",
    "091", "093", "094", "096", "097", "098",
)  # fmt: skip
EMAIL_DOMAINS = ("gmail.com", "gmail.com", "gmail.com", "longbien.edu.vn", "yahoo.com")

#: Target signed share of the people active at the reference period, per period.
_SIGN_CUM = {TH: (0.20, 0.35, 0.50, 0.60, None, 0.955), THCS: (0.15, 0.28, 0.41, 0.52, 0.62, 0.90)}


@dataclass
class World:
    """The clean tables of the synthetic district."""

    seed: int
    schools: pd.DataFrame  # one row a school
    persons: pd.DataFrame  # one row a person (primary and THCS staff)
    classes: pd.DataFrame  # one row a primary class (records signing, 2024-06-24)
    infra: pd.DataFrame  # one row a school

    def school(self, level: str, short: str) -> pd.Series:
        s = self.schools
        hit = s[(s["level"] == level) & (s["short"] == short)]
        if len(hit) != 1:
            raise KeyError((level, short))
        return hit.iloc[0]

    def code(self, level: str, short: str) -> str:
        return str(self.school(level, short)["school_code"])


# ------------------------------------------------------------------------------------------
# helpers


def fix_sum(values, target: int, lo, hi, rng: np.random.Generator) -> np.ndarray:
    """Nudge integer ``values`` by ones, within ``lo``..``hi``, until they sum to ``target``."""
    v = np.asarray(values, dtype=np.int64).copy()
    lo = np.broadcast_to(np.asarray(lo, dtype=np.int64), v.shape)
    hi = np.broadcast_to(np.asarray(hi, dtype=np.int64), v.shape)
    v = np.clip(v, lo, hi)
    for _ in range(10_000):
        d = int(target - v.sum())
        if d == 0:
            return v
        step = 1 if d > 0 else -1
        ok = np.flatnonzero(v < hi) if step > 0 else np.flatnonzero(v > lo)
        if ok.size == 0:
            break
        idx = rng.choice(ok, size=min(abs(d), ok.size), replace=False)
        v[idx] += step
    raise ValueError(f"cannot reach the sum {target} within the bounds")


def split_total(total: int, parts: int, rng: np.random.Generator, spread: float = 0.06):
    """``total`` split into ``parts`` positive integers close to equal."""
    base = total / parts
    raw = np.round(base * (1 + rng.normal(0, spread, parts))).astype(np.int64)
    return fix_sum(raw, total, max(1, int(base * 0.8)), int(base * 1.2) + 1, rng)


def ascii_fold(value: str) -> str:
    """'Nguyễn Thị Đào' -> 'Nguyen Thi Dao' (per unique value; used for e-mail addresses)."""
    s = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def _dates(start: date, days: np.ndarray) -> np.ndarray:
    return (np.datetime64(start) + days.astype("timedelta64[D]")).astype("datetime64[D]")


# ------------------------------------------------------------------------------------------
# schools


def _build_schools(rng: np.random.Generator) -> pd.DataFrame:
    table = _school_table()
    rows = [r for r in table if r[0] != MN]
    mn_public = [r[1] for r in table if r[0] == MN and r[3] == CL]
    mn_private = [r[1] for r in table if r[0] == MN and r[3] == TT]
    n_mn = LEVEL_TOTALS[MN][0]
    n_priv = n_mn - len(mn_public)
    assert 0 < n_priv <= len(mn_private)
    for short in mn_public:
        ward = next((w for w in WARDS if short.startswith(w)), None)
        rows.append((MN, short, ward, CL))
    for short in mn_private[:n_priv]:
        rows.append((MN, short, None, TT))
    df = pd.DataFrame(rows, columns=["level", "short", "ward", "ownership"])
    df["ward"] = df["ward"].astype(object)
    missing = df["ward"].isna().to_numpy()
    df.loc[missing, "ward"] = rng.choice(np.array(WARDS, dtype=object), size=missing.sum())
    df["ward"] = df["ward"].astype("str")
    df["school_name"] = df["level"].map(LEVEL_PREFIX) + " " + df["short"]
    assert df["school_name"].is_unique
    codes = rng.choice(900_000, size=len(df), replace=False) + 10_000
    df["school_code"] = pd.Series(codes).map(lambda c: f"01{c:06d}")
    df["district"] = DISTRICT
    # Classes and pupils per school, adding up to the published totals.
    n_classes = np.zeros(len(df), dtype=np.int64)
    n_pupils = np.zeros(len(df), dtype=np.int64)
    shape = {  # classes lo, hi; class size mean, lo, hi
        MN: (8, 20, 23.0, 18, 28),
        TH: (20, 40, 37.7, 33, 42),
        THCS: (20, 35, 39.7, 35, 44),
    }
    for level in BASE_LEVELS:
        idx = np.flatnonzero(df["level"].to_numpy() == level)
        _, tot_c, tot_p = LEVEL_TOTALS[level]
        c_lo, c_hi, size, s_lo, s_hi = shape[level]
        mean_c = tot_c / idx.size
        private = df["ownership"].to_numpy()[idx] == TT
        raw = rng.normal(mean_c, (c_hi - c_lo) / 5, idx.size)
        raw[private] = rng.normal(c_lo + 1, 1, private.sum())
        cls = fix_sum(np.round(raw), tot_c, c_lo, c_hi, rng)
        pup = np.round(cls * rng.normal(size, 1.3, idx.size))
        pup = fix_sum(pup, tot_p, cls * s_lo, cls * s_hi, rng)
        n_classes[idx], n_pupils[idx] = cls, pup
    df["n_classes"] = n_classes
    df["n_pupils"] = n_pupils
    short_id = rng.random(len(df)) < 0.15
    with_id = n_pupils - np.where(short_id, rng.integers(1, 16, len(df)), 0)
    short_ver = rng.random(len(df)) < 0.2
    verified = with_id - np.where(short_ver, rng.integers(1, 21, len(df)), 0)
    df["n_pupils_with_id"] = with_id
    df["n_pupils_verified"] = verified
    df["order"] = np.arange(len(df))
    return df


# ------------------------------------------------------------------------------------------
# staff


def school_positions(n: int, rng: np.random.Generator) -> list[str]:
    """Positions of ``n`` staff of one school: 1 principal, 1-3 deputies, 1 Đội, NV, GV."""
    n_dep = 1 + int(n > 45) + int(n > 62)
    n_nv = int(rng.integers(5, 9))
    nv = [_NV[i % len(_NV)] for i in range(n_nv)]
    gv = n - 1 - n_dep - 1 - n_nv
    return (
        ["Hiệu trưởng"]
        + ["Phó hiệu trưởng"] * n_dep
        + ["Giáo viên"] * gv
        + ["Tổng phụ trách Đội"]
        + nv
    )


def personal(persons: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Fake personal data (vectorised): id, name, birth date, CCCD, phone, e-mail."""
    n = len(persons)
    female_p = np.where(persons["level"].to_numpy() == TH, 0.88, 0.75)
    female_p = np.where(persons["position"].to_numpy() == "Bảo vệ", 0.05, female_p)
    female = rng.random(n) < female_p
    sur_names = np.array([s for s, _ in SURNAMES], dtype=object)
    sur_w = np.array([w for _, w in SURNAMES], dtype=float)
    sur = rng.choice(sur_names, size=n, p=sur_w / sur_w.sum())
    mid_f = np.where(
        rng.random(n) < 0.8,
        rng.choice(np.array(MIDDLE_F, dtype=object), n),
        rng.choice(np.array(MIDDLE_F2, dtype=object), n),
    )
    mid = np.where(female, mid_f, rng.choice(np.array(MIDDLE_M, dtype=object), n))
    given = np.where(
        female,
        rng.choice(np.array(GIVEN_F, dtype=object), n),
        rng.choice(np.array(GIVEN_M, dtype=object), n),
    )
    s_sur, s_mid, s_given = (pd.Series(a, dtype="str") for a in (sur, mid, given))
    out = pd.DataFrame(index=persons.index)
    out["full_name"] = (s_sur + " " + s_mid + " " + s_given).to_numpy()
    ids = rng.choice(90_000_000, size=n, replace=False) + 10_000_000
    out["staff_id"] = ("01" + pd.Series(ids).astype(str)).to_numpy()
    span = np.where(
        persons["role"].to_numpy() == "CBQL",
        (date(1985, 12, 31) - date(1965, 1, 1)).days,
        (date(2000, 12, 31) - date(1965, 1, 1)).days,
    )
    days = (rng.random(n) * span).astype(np.int64)
    dob = _dates(date(1965, 1, 1), days)
    out["birth_date"] = dob
    year = dob.astype("datetime64[Y]").astype(int) + 1970
    century = np.where(year >= 2000, 2, 0) + female.astype(int)
    prov = rng.choice(np.array(["001", "001", "001", "030", "033", "034", "035", "036"]), n)
    cccd = (
        pd.Series(prov, dtype="str")
        + pd.Series(century).astype(str)
        + pd.Series(year % 100).astype(str).str.zfill(2)
        + pd.Series(rng.integers(0, 1_000_000, n)).astype(str).str.zfill(6)
    )
    out["id_number"] = cccd.to_numpy()
    phone = pd.Series(rng.choice(np.array(PHONE_PREFIXES), n), dtype="str") + pd.Series(
        rng.integers(0, 10_000_000, n)
    ).astype(str).str.zfill(7)
    out["phone"] = phone.to_numpy()
    fold = {v: ascii_fold(v).lower().replace(" ", "") for v in set(sur) | set(mid) | set(given)}
    initials = s_sur.map(fold).str[0] + s_mid.map(fold).str[0]
    email = (
        s_given.map(fold)
        + initials
        + pd.Series(year % 100).astype(str).str.zfill(2)
        + pd.Series(rng.integers(1, 100, n)).astype(str)
        + "@"
        + pd.Series(rng.choice(np.array(EMAIL_DOMAINS), n), dtype="str")
    )
    out["email"] = email.to_numpy()
    return out


def _build_persons(schools: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Staff of primary and THCS schools with their history over the periods.

    Columns: school_code, level, position, role, join_p, leave_p (NEVER = stays),
    leave_status, sign_p (NEVER = never signs), pending_u, provider, issued_on, expires_on and
    the personal columns of :func:`personal`.
    """
    frames = []
    for level in (TH, THCS):
        frames += _level_staff(schools[schools["level"] == level], level, rng)
    p = pd.concat(frames, ignore_index=True)
    p["role"] = p["position"].map(POSITIONS)
    n = len(p)
    p["leave_status"] = np.where(
        p["leave_p"].to_numpy() < NEVER, rng.choice(np.array(LEFT_STATUSES), n), ""
    )
    # Signing: a score per person (school effect, managers first, noise), ranked.
    score = p["effect"].to_numpy() + np.where(p["role"] == "CBQL", 1.2, 0) + rng.normal(0, 1, n)
    p["sign_p"] = _sign_periods(p, score, rng)
    # a joiner of the last period signs at it or never
    p.loc[(p["join_p"] > REF) & (p["sign_p"] < p["join_p"]), "sign_p"] = NEVER
    p["pending_u"] = rng.random(n)
    prov_idx = np.where(
        p["level"].to_numpy() == TH,
        rng.choice(len(PROVIDERS), n, p=PROVIDER_P[TH]),
        rng.choice(len(PROVIDERS), n, p=PROVIDER_P[THCS]),
    )
    p["provider"] = np.array(PROVIDERS)[prov_idx]
    p["issued_on"], p["expires_on"] = _certificate_dates(p["sign_p"].to_numpy(), rng)
    p["pos_rank"] = p["position"].map(POSITION_RANK)
    p = p.join(personal(p, rng))
    order = schools.set_index("school_code")["order"]
    p["school_order"] = p["school_code"].map(order)
    p = p.sort_values(["school_order", "join_p", "pos_rank", "staff_id"], kind="stable")
    return p.reset_index(drop=True).drop(columns=["effect"])


def _level_staff(sch: pd.DataFrame, level: str, rng: np.random.Generator) -> list[pd.DataFrame]:
    """The staff of one level's schools (the primary total as published at REF), each school
    with its own signing effect (a few fast schools, a few far behind)."""
    cls = sch["n_classes"].to_numpy()
    if level == TH:
        raw = np.round(cls * 1.6 + 8 + rng.normal(0, 3, len(sch)))
        n_ref = fix_sum(raw, REF_PRIMARY_STAFF, 30, 80, rng)
    else:
        n_ref = np.clip(np.round(cls * 1.65 + 10 + rng.normal(0, 3, len(sch))), 30, 80)
        n_ref = n_ref.astype(np.int64)
    effect = rng.normal(0, 0.8, len(sch))
    order = rng.permutation(len(sch))
    effect[order[:3]] += 1.8  # a few fast schools
    effect[order[3:5]] -= 2.6  # a few far behind
    frames = []
    for i, (code, n) in enumerate(zip(sch["school_code"], n_ref, strict=True)):
        df = _school_staff(code, level, int(n), rng)
        df["effect"] = effect[i]
        frames.append(df)
    return frames


def _school_staff(code: str, level: str, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """One school's staff at REF (a few joiners, one late leaver at most), with the people
    who leave before REF and those who join after it."""
    pos = school_positions(n, rng)
    k = len(pos)
    df = pd.DataFrame({"school_code": code, "level": level, "position": pos})
    df["ref_active"] = True
    df["join_p"] = 0
    gv = np.flatnonzero(df["position"].to_numpy() == "Giáo viên")
    joiners = rng.choice(gv, size=max(1, round(0.03 * k)), replace=False)
    df.loc[joiners, "join_p"] = rng.integers(1, REF + 1, joiners.size)
    df["leave_p"] = NEVER
    late = rng.choice(gv, size=int(rng.integers(0, 2)), replace=False)
    df.loc[late, "leave_p"] = REF + 1
    # people who leave before the reference period
    n_gone = int(rng.poisson(0.9))
    gone = pd.DataFrame(
        {
            "school_code": code,
            "level": level,
            "position": rng.choice(["Giáo viên"] * 4 + ["Bảo vệ", "Nhân viên"], n_gone),
            "ref_active": False,
            "join_p": 0,
            "leave_p": rng.integers(1, REF + 1, n_gone),
        }
    )
    # people who join after the reference period
    n_new = int(rng.poisson(0.7))
    new = pd.DataFrame(
        {
            "school_code": code,
            "level": level,
            "position": "Giáo viên",
            "ref_active": False,
            "join_p": REF + 1,
            "leave_p": NEVER,
        },
        index=range(n_new),
    )
    return pd.concat([df, gone, new], ignore_index=True)


def _sign_periods(p: pd.DataFrame, score: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The period each person signs in (NEVER = never), per level by rank of ``score``: the
    cumulative shares of ``_SIGN_CUM``, the primary REF figure as published."""
    n = len(p)
    sign_p = np.full(n, NEVER, dtype=np.int64)
    for level in (TH, THCS):
        lvl = p["level"].to_numpy() == level
        ref = np.flatnonzero(lvl & p["ref_active"].to_numpy())
        n_ref = ref.size
        cum = list(_SIGN_CUM[level])
        if level == TH:
            n_signed_ref = REF_PRIMARY_SIGNED
        else:
            n_signed_ref = round(cum[REF] * n_ref)
        cum[REF] = n_signed_ref / n_ref
        ranked = ref[np.argsort(-score[ref], kind="stable")]
        signed = ranked[:n_signed_ref]
        unsigned = ranked[n_signed_ref:]
        # Earlier periods: by a second, noisier score among the signed.
        s2 = score[signed] + rng.normal(0, 0.8, signed.size)
        by2 = signed[np.argsort(-s2, kind="stable")]
        bounds = [round(c * n_ref) for c in cum[:REF]] + [n_signed_ref]
        start = 0
        for per, end in enumerate(bounds):
            sign_p[by2[start:end]] = per
            start = end
        n_late = max(0, round(cum[REF + 1] * n_ref) - n_signed_ref)
        sign_p[unsigned[:n_late]] = REF + 1
        # joiners sign no earlier than they join (still by the reference period)
        sign_p[signed] = np.maximum(sign_p[signed], p["join_p"].to_numpy()[signed])
        # people gone before the reference period, and those joining after it
        others = np.flatnonzero(lvl & ~p["ref_active"].to_numpy())
        u = rng.random(others.size)
        early = np.minimum(rng.integers(0, REF + 1, others.size), 3)
        sign_p[others] = np.where(
            u < 0.45, np.maximum(early, p["join_p"].to_numpy()[others]), NEVER
        )
    return sign_p


def _certificate_dates(sign_p: np.ndarray, rng: np.random.Generator) -> tuple[pd.Series, pd.Series]:
    """Issue and expiry dates of the certificates (NaT for those who never sign)."""
    n = len(sign_p)
    # issue dates: within the weeks before the period in which the person signs
    pd_ = np.array([np.datetime64(d) for d in PERIOD_DATES])
    prev = np.concatenate([[np.datetime64("2023-07-01")], pd_[:-1]])
    sp = np.minimum(sign_p, len(PERIODS) - 1)
    span = (pd_[sp] - prev[sp]).astype(int)
    off = (rng.random(n) * span).astype(int)
    issued = (prev[sp] + (off + 1).astype("timedelta64[D]")).astype("datetime64[D]")
    leap = pd.to_datetime(issued).strftime("%m-%d") == "02-29"
    issued = np.where(leap, issued - np.timedelta64(1, "D"), issued)
    years = rng.choice([1, 2, 3], n, p=[0.4, 0.4, 0.2])
    iss_y = issued.astype("datetime64[Y]").astype(int) + 1970
    # expiry: the day before the anniversary (no 29 February in these years' ranges)
    exp_str = pd.Series(iss_y + years).astype(str) + pd.Series(
        pd.to_datetime(issued).strftime("-%m-%d")
    )
    expires = (pd.to_datetime(exp_str).to_numpy().astype("datetime64[D]")) - np.timedelta64(1, "D")
    signs = sign_p < NEVER
    issued_on = pd.Series(np.where(signs, issued, np.datetime64("NaT")), dtype="datetime64[s]")
    expires_on = pd.Series(np.where(signs, expires, np.datetime64("NaT")), dtype="datetime64[s]")
    return issued_on, expires_on


def status_at(persons: pd.DataFrame, period: int) -> pd.DataFrame:
    """Who is listed at ``period`` and how: listed, active, signed, pending."""
    listed = persons["join_p"].to_numpy() <= period
    active = listed & (persons["leave_p"].to_numpy() > period)
    signed = persons["sign_p"].to_numpy() <= period
    u = persons["pending_u"].to_numpy()
    pending = ~signed & (persons["sign_p"].to_numpy() == period + 1) & (u < 0.15)
    if period == len(PERIODS) - 1:  # the last period: some who never sign have applied
        pending |= ~signed & (u < 0.3)
    return pd.DataFrame(
        {"listed": listed, "active": active, "signed": signed, "pending": pending},
        index=persons.index,
    )


# ------------------------------------------------------------------------------------------
# infrastructure and records


def _build_infra(schools: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    n = len(schools)
    level = schools["level"].to_numpy()
    fibre = fix_sum(rng.choice([1, 2, 2, 3], n), TOTAL_FIBRE, 1, 3, rng)
    base = np.select([level == MN, level == TH], [4.0, 7.5], 8.5)
    comp = np.round(base + rng.normal(0, 1.5, n))
    lo = np.select([level == MN, level == TH], [2, 4], 5)
    hi = np.select([level == MN, level == TH], [8, 14], 15)
    comp = fix_sum(comp, TOTAL_COMPUTERS, lo, hi, rng)
    speed = rng.choice(SPEEDS, n, p=[0.08, 0.12, 0.35, 0.2, 0.15, 0.1])
    return pd.DataFrame(
        {
            "school_code": schools["school_code"].to_numpy(),
            "level": level,
            "n_fibre": fibre,
            "speed_mbps": speed,
            "n_computers": comp,
        }
    )


def _build_classes(schools: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Primary classes (grades 1-5) with pupils and the records signed by 2024-06-24."""
    frames = []
    prim = schools[schools["level"] == TH]
    t_rate = np.clip(rng.normal(0.93, 0.05, len(prim)), 0.6, 1.0)
    p_share = np.clip(rng.normal(0.92, 0.05, len(prim)), 0.5, 1.0)
    behind = rng.choice(len(prim), size=3, replace=False)
    t_rate[behind] = rng.uniform(0.55, 0.7, 3)
    p_share[behind] = rng.uniform(0.4, 0.6, 3)
    for i, row in enumerate(prim.itertuples(index=False)):
        n_cls = int(row.n_classes)
        per_grade = np.full(5, n_cls // 5)
        per_grade[: n_cls % 5] += 1
        grade = np.repeat(np.arange(1, 6), per_grade)
        k = np.concatenate([np.arange(1, c + 1) for c in per_grade])
        pupils = split_total(int(row.n_pupils), n_cls, rng)
        teacher = np.minimum(pupils, np.round(pupils * (t_rate[i] + rng.normal(0, 0.04, n_cls))))
        teacher = np.maximum(teacher, 0).astype(np.int64)
        principal = np.minimum(
            teacher, np.round(teacher * (p_share[i] + rng.normal(0, 0.04, n_cls)))
        )
        frames.append(
            pd.DataFrame(
                {
                    "school_code": row.school_code,
                    "grade": grade,
                    "class_name": [f"{g}A{j}" for g, j in zip(grade, k, strict=True)],
                    "n_pupils": pupils,
                    "n_signed_teacher": teacher,
                    "n_signed_principal": np.maximum(principal, 0).astype(np.int64),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def build_world(seed: int) -> World:
    """The whole synthetic district from one seed."""
    rng = np.random.default_rng(seed)
    schools = _build_schools(rng)
    persons = _build_persons(schools, rng)
    classes = _build_classes(schools, rng)
    infra = _build_infra(schools, rng)
    return World(seed, schools, persons, classes, infra)


def excel_serial(d: date) -> int:
    return (d - date(1899, 12, 30)).days
