"""The sample's school year 2025-2026: the former Long Biên after the reform of 1/7/2025.

The same 142 schools (same codes) now sit in the new phường of Thành phố Hà Nội (Long Biên,
Bồ Đề, Việt Hưng, Phúc Lợi and, for a few schools of the old Ngọc Thụy and Bồ Đề, Hồng Hà),
joined by a handful of THPT schools of the area and one multi-level school (TH&THCS, one row
per school and level in the list). Two periods after the reform (:data:`REFORM_PERIODS`) carry
the school list (post-reform format: ``Tỉnh/Thành phố``, ``Xã/Phường``), the staff lists (one
export per phường from the CSDL with a ``Cấp học`` and an ``UBND Xã`` column, one from the
Sở GD&ĐT for THPT), and, at the last period, the record signing of primary AND THCS classes.

Built from :func:`analysis.sample.world.build_world` (the 2023-2024 world, whose random stream
it never touches) and its own seeded generators, so the earlier periods' files stay
byte-identical. Called by :func:`analysis.sample.generator.generate`; :func:`write_reform` is
its own entry point (``python -m analysis sample --no-reform`` leaves it out).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from analysis.core.vocab import MN, MULTI_LEVEL, TH, THCS, THPT, TOTAL
from analysis.sample.district import infra_columns, record_columns
from analysis.sample.planted import (
    Planted,
    counts_row,
    pupil_totals,
    record_totals,
    source_entry,
)
from analysis.sample.text import dmy, epoch_days, from_epoch_days, ymd
from analysis.sample.world import (
    ACTIVE,
    LEFT_STATUSES,
    NEVER,
    PERIODS,
    POSITIONS,
    PROVIDERS,
    SIG_WORDS,
    World,
    personal,
    school_positions,
    status_at,
)
from analysis.sample.xlsx import Col, SheetSpec, new_workbook, write_sheet

REFORM_PERIODS: tuple[str, ...] = ("2025-10-17", "2025-12-12")
REFORM_DATES: tuple[date, ...] = tuple(date.fromisoformat(p) for p in REFORM_PERIODS)
SCHOOL_YEAR = "2025-2026"
PROVINCE = "Thành phố Hà Nội"
P_LB, P_BD, P_VH, P_PL, P_HH = (
    "Phường Long Biên",
    "Phường Bồ Đề",
    "Phường Việt Hưng",
    "Phường Phúc Lợi",
    "Phường Hồng Hà",
)
COMMUNES: tuple[str, ...] = (P_BD, P_HH, P_LB, P_PL, P_VH)
#: Old ward (2024) -> the new phường that took most of it (reference file, Nghị quyết
#: 1656/NQ-UBTVQH15); Sài Đồng had been merged into Phúc Đồng and Việt Hưng on 1/1/2025.
WARD_COMMUNE: dict[str, str] = {
    "Bồ Đề": P_BD,
    "Cự Khối": P_LB,
    "Đức Giang": P_VH,
    "Gia Thụy": P_BD,
    "Giang Biên": P_VH,
    "Long Biên": P_LB,
    "Ngọc Lâm": P_BD,
    "Ngọc Thụy": P_BD,
    "Phúc Đồng": P_LB,
    "Phúc Lợi": P_PL,
    "Sài Đồng": P_PL,
    "Thạch Bàn": P_LB,
    "Thượng Thanh": P_VH,
    "Việt Hưng": P_VH,
}
#: Schools of a split old ward that went to another phường (their own address says so).
SCHOOL_COMMUNE: dict[tuple[str, str], str] = {
    (MN, "Ngọc Thụy"): P_HH,
    (TH, "Ngọc Thụy B"): P_HH,
    (MN, "Bồ Đề"): P_HH,
    (MN, "Long Biên C"): P_BD,
    (MN, "Phúc Đồng B"): P_PL,
    (MN, "Đô thị Thạch Bàn"): P_PL,
    (MN, "Việt Hưng B"): P_PL,
    (TH, "Giang Biên"): P_PL,
    (TH, "Đô thị Sài Đồng"): P_LB,
}
#: THPT schools of the area (invented names; the whole sample is synthetic).
THPT_SCHOOLS: tuple[tuple[str, str, str], ...] = (
    ("Trường THPT Long Biên", P_LB, "Công lập"),
    ("Trường THPT Bồ Đề", P_BD, "Công lập"),
    ("Trường THPT Việt Hưng", P_VH, "Công lập"),
    ("Trường THPT Phúc Lợi", P_PL, "Công lập"),
    ("Trường THPT Sông Hồng", P_BD, "Tư thục"),
)
#: The multi-level school: name, phường, ownership, (level, classes, class size) per level.
MULTI_SCHOOL = ("Trường TH&THCS Đoàn Kết", P_PL, "Tư thục", ((TH, 10, 30), (THCS, 8, 32)))
#: A school that sends signature counts (the Sở's form), not a staff list.
COUNTS_SCHOOL = "Trường THPT Sông Hồng"
LEVEL_ORDER = (MN, TH, THCS, THPT)
SLUG = {P_LB: "LongBien", P_BD: "BoDe", P_VH: "VietHung", P_PL: "PhucLoi", P_HH: "HongHa"}
#: Share of the unsigned active staff who sign before each reform period (by level).
_SIGN_NEW = {TH: (0.55, 0.75), THCS: (0.60, 0.80), THPT: (0.78, 0.90)}


def _as_dates(days: np.ndarray, valid: np.ndarray) -> list:
    pairs = zip(days, valid, strict=True)
    return [from_epoch_days(x) if ok else None for x, ok in pairs]


# ------------------------------------------------------------------------------------------
# the world of 2025-2026


def _schools(world: World, rng) -> pd.DataFrame:
    """One row per school and level taught (the multi-level school has two rows)."""
    s = world.schools.sort_values("order")
    commune = [
        SCHOOL_COMMUNE.get((lv, sh), WARD_COMMUNE[w])
        for lv, sh, w in zip(s["level"], s["short"], s["ward"], strict=True)
    ]
    df = pd.DataFrame(
        {
            "school_code": s["school_code"].to_numpy(),
            "school_name": s["school_name"].to_numpy(),
            "level": s["level"].to_numpy(),
            "levels": s["level"].to_numpy(),
            "ownership": s["ownership"].to_numpy(),
            "ward_2024": s["ward"].to_numpy(),
            "commune": commune,
        }
    )
    # classes and pupils of the new school year: close to 2023-2024
    cls = s["n_classes"].to_numpy() + rng.integers(-1, 2, len(s))
    cls = np.maximum(cls, 4)
    size = s["n_pupils"].to_numpy() / s["n_classes"].to_numpy()
    pupils = np.round(cls * size * rng.normal(1.01, 0.015, len(s))).astype(np.int64)
    df["n_classes"] = cls
    df["n_pupils"] = pupils
    used = set(df["school_code"])
    extra = []
    for name, commune_, own in THPT_SCHOOLS:
        c = int(rng.integers(30, 46)) if own == "Công lập" else int(rng.integers(12, 19))
        extra.append((name, THPT, THPT, own, commune_, c, int(round(c * rng.normal(42.5, 1)))))
    name, commune_, own, parts = MULTI_SCHOOL
    joined = "; ".join(lv for lv, _, _ in parts)
    for lv, c, sz in parts:
        extra.append((name, lv, joined, own, commune_, c, c * sz - int(rng.integers(0, 9))))
    codes: dict[str, str] = {}
    for name_, *_ in extra:
        while name_ not in codes:
            code = f"01{int(rng.integers(10_000, 910_000)):06d}"
            if code not in used:
                used.add(code)
                codes[name_] = code
    add = pd.DataFrame(
        extra,
        columns=["school_name", "level", "levels", "ownership", "commune", "n_classes", "n_pupils"],
    )
    add["school_code"] = add["school_name"].map(codes)
    add["ward_2024"] = None
    df = pd.concat([df, add[df.columns]], ignore_index=True)
    short_id = rng.random(len(df)) < 0.1
    df["n_pupils_with_id"] = df["n_pupils"] - np.where(short_id, rng.integers(1, 9, len(df)), 0)
    short_v = rng.random(len(df)) < 0.15
    df["n_pupils_verified"] = df["n_pupils_with_id"] - np.where(
        short_v, rng.integers(1, 12, len(df)), 0
    )
    return df


def _new_people(rows: pd.DataFrame, rng, taken: set[str]) -> pd.DataFrame:
    """Personal columns and fresh staff ids (never one already used) for ``rows``."""
    pers = personal(rows.assign(level=np.where(rows["level"] == TH, TH, THCS)), rng)
    ids = []
    while len(ids) < len(rows):
        for c in rng.integers(10_000_000, 100_000_000, len(rows) - len(ids)):
            sid = f"01{int(c)}"
            if sid not in taken:
                taken.add(sid)
                ids.append(sid)
    pers["staff_id"] = ids
    return pers


def _persons(world: World, schools: pd.DataFrame, rng) -> pd.DataFrame:
    """Staff of TH, THCS, THPT and the multi-level school over the two reform periods.

    Columns: staff_id, school_code, level, position, role, join_r (0/1: first listed at),
    leave_r (0/1 leaves before that period, NEVER stays), leave_status, sign_r (0/1/NEVER),
    pending_u, provider, issued0/expires0 (days), years, personal columns."""
    frames = [_stayers(world, schools, rng), *_newcomers(schools, rng)]
    q = pd.concat(frames, ignore_index=True)
    q["role"] = q["position"].map(POSITIONS)
    q = _with_people(q, rng, set(world.persons["staff_id"]))
    _sign_reform(q, rng)
    order = {c: i for i, c in enumerate(dict.fromkeys(schools["school_code"]))}
    q["_rank"] = q["school_code"].map(order)
    q["_pos"] = (
        q["position"]
        .map({x: i for i, x in enumerate(("Hiệu trưởng", "Phó hiệu trưởng", "Giáo viên"))})
        .fillna(3)
    )
    q = q.sort_values(["_rank", "level", "join_r", "_pos", "staff_id"], kind="stable")
    return q.drop(columns=["_rank", "_pos"]).reset_index(drop=True)


def _stayers(world: World, schools: pd.DataFrame, rng) -> pd.DataFrame:
    """The 2023-2024 staff still active at its last period, after the summer of 2025: some
    left (not in the lists any more), a few moved school, a few leave before period 1."""
    last = len(PERIODS) - 1
    p = world.persons
    st = status_at(p, last)
    keep = st["active"].to_numpy()
    old = p[keep].copy()
    old["signed_before"] = st["signed"].to_numpy()[keep]
    n = len(old)
    # over the summer of 2025 some left (not in the lists any more), a few moved school
    gone = rng.random(n) < 0.06
    gone &= old["position"].to_numpy() != "Hiệu trưởng"
    old = old[~gone].copy()
    n = len(old)
    move = (rng.random(n) < 0.025) & (old["position"].to_numpy() == "Giáo viên")
    for level in (TH, THCS):
        idx = np.flatnonzero(move & (old["level"].to_numpy() == level))
        pool = schools.loc[
            (schools["level"] == level) & schools["ward_2024"].notna(), "school_code"
        ].to_numpy()
        for i in idx:
            here = old.iloc[i]["school_code"]
            choices = pool[pool != here]
            old.iloc[i, old.columns.get_loc("school_code")] = choices[rng.integers(0, len(choices))]
    old["moved"] = move
    old["join_r"] = 0
    old["leave_r"] = NEVER
    leave_b = (rng.random(n) < 0.015) & (old["position"].to_numpy() == "Giáo viên")
    old.loc[leave_b, "leave_r"] = 1
    old["leave_status"] = np.where(leave_b, rng.choice(np.array(LEFT_STATUSES), n), "")
    old["sign_r"] = np.where(old["signed_before"].to_numpy(), -1, NEVER)
    days_iss = old["issued_on"].to_numpy().astype("datetime64[D]").astype("int64")
    days_exp = old["expires_on"].to_numpy().astype("datetime64[D]").astype("int64")
    old["issued0"] = np.where(old["signed_before"], days_iss, 0)
    old["years"] = np.where(old["signed_before"], np.round((days_exp - days_iss + 1) / 365), 0)
    return old


def _newcomers(schools: pd.DataFrame, rng) -> list[pd.DataFrame]:
    """New staff of the 2025-2026 year in the old schools, and the whole staff of the THPT
    schools and of the multi-level school (everyone new to the sample)."""
    frames = []
    # new staff of the 2025-2026 year, in the old schools
    base = schools[schools["ward_2024"].notna() & schools["level"].isin([TH, THCS])]
    for join in (0, 1):
        per = rng.poisson(1.6 if join == 0 else 0.3, len(base))
        new = pd.DataFrame(
            {
                "school_code": np.repeat(base["school_code"].to_numpy(), per),
                "level": np.repeat(base["level"].to_numpy(), per),
            }
        )
        new["position"] = "Giáo viên"
        new["join_r"] = join
        frames.append(new)
    # THPT schools and the multi-level school: everyone is new to the sample
    for r in schools[schools["ward_2024"].isna()].itertuples(index=False):
        k = int(round(r.n_classes * (2.1 if r.level == THPT else 1.8) + 10))
        pos = school_positions(k, rng)
        if r.level == THPT:
            pos = [x if x != "Tổng phụ trách Đội" else "Giáo viên" for x in pos]
        if r.levels != r.level and r.level == THCS:  # one principal per school
            pos = [x if x != "Hiệu trưởng" else "Phó hiệu trưởng" for x in pos]
        frames.append(
            pd.DataFrame({"school_code": r.school_code, "level": r.level, "position": pos}).assign(
                join_r=0
            )
        )
    return frames


def _with_people(q: pd.DataFrame, rng, taken: set[str]) -> pd.DataFrame:
    """Personal columns and fresh ids for the new staff; the old-only columns filled."""
    fresh = q["staff_id"].isna().to_numpy()
    pers = _new_people(q[fresh].reset_index(drop=True), rng, taken)
    for c in pers.columns:
        if c not in q.columns:
            q[c] = None
        q.loc[fresh, c] = pers[c].to_numpy()
    q["moved"] = q["moved"].fillna(False).astype(bool)
    q["leave_r"] = q["leave_r"].fillna(NEVER).astype(int)
    q["leave_status"] = q["leave_status"].fillna("").astype(str)
    q["signed_before"] = q["signed_before"].fillna(False).astype(bool)
    q["sign_r"] = q["sign_r"].fillna(NEVER).astype(int)
    q["issued0"] = q["issued0"].fillna(0).astype("int64")
    q["years"] = q["years"].fillna(0).astype("int64")
    return q


def _sign_reform(q: pd.DataFrame, rng) -> None:
    """Signing during 2024-2025 and 2025-2026 (a rank per person: managers first), the
    providers of the new signers and their certificates (in place)."""
    m = len(q)
    # signing during 2024-2025 and 2025-2026 (a rank per person: managers first)
    u = rng.random(m) - np.where(q["role"].to_numpy() == "CBQL", 0.3, 0)
    lv = q["level"].to_numpy()
    sel = [lv == TH, lv == THCS]
    a, b = (
        np.select(sel, [_SIGN_NEW[TH][j], _SIGN_NEW[THCS][j]], _SIGN_NEW[THPT][j]) for j in (0, 1)
    )
    unsigned = q["sign_r"].to_numpy() == NEVER
    sign_r = q["sign_r"].to_numpy().copy()
    sign_r[unsigned & (u < b)] = 1
    sign_r[unsigned & (u < a) & (q["join_r"].to_numpy() == 0)] = 0
    q["sign_r"] = sign_r
    q["pending_u"] = rng.random(m)
    prov_p = {TH: (0.80, 0.07, 0.05, 0.03, 0.03, 0.02), THCS: (0.10, 0.76, 0.05, 0.04, 0.03, 0.02)}
    prov_p[THPT] = (0.12, 0.70, 0.06, 0.05, 0.05, 0.02)
    prov = np.empty(m, dtype=object)
    for level, probs in prov_p.items():
        idx = np.flatnonzero(lv == level)
        prov[idx] = np.array(PROVIDERS, dtype=object)[rng.choice(6, idx.size, p=probs)]
    keep_prov = q["signed_before"].to_numpy()
    q["provider"] = np.where(keep_prov, q["provider"].astype(object), prov)
    # a new certificate: issued in the weeks before the period where the person signs
    starts = np.array([epoch_days(date(2024, 7, 1)), epoch_days(REFORM_DATES[0])])
    ends = np.array([epoch_days(REFORM_DATES[0]), epoch_days(REFORM_DATES[1])])
    new_sig = (sign_r >= 0) & (sign_r < NEVER)
    k = np.clip(sign_r, 0, 1)
    iss = starts[k] + (rng.random(m) * (ends[k] - starts[k] - 1)).astype("int64")
    q["issued0"] = np.where(new_sig, iss, q["issued0"])
    q["years"] = np.where(new_sig, rng.choice([1, 2, 3], m, p=[0.4, 0.4, 0.2]), q["years"])


def reform_status(q: pd.DataFrame, r: int) -> pd.DataFrame:
    """Who is listed at reform period ``r`` (0/1) and how; the certificate that covers it."""
    listed = q["join_r"].to_numpy() <= r
    active = listed & (q["leave_r"].to_numpy() > r)
    signed = q["sign_r"].to_numpy() <= r
    u = q["pending_u"].to_numpy()
    pending = ~signed & (u < (0.12 if r == 0 else 0.2))
    # certificates renew on expiry (the day after), so a signer stays signed
    d = epoch_days(REFORM_DATES[r])
    iss = q["issued0"].to_numpy().copy()
    span = q["years"].to_numpy() * 365
    exp = iss + span - 1
    for _ in range(6):
        old = signed & (exp < d)
        iss = np.where(old, exp + 1, iss)
        exp = np.where(old, iss + span - 1, exp)
    return pd.DataFrame(
        {
            "listed": listed,
            "active": active,
            "signed": signed,
            "pending": pending,
            "issued": iss,
            "expires": exp,
        },
        index=q.index,
    )


def _classes(schools: pd.DataFrame, rng, r: int) -> pd.DataFrame:
    """Classes of the TH and THCS rows with the records signed by reform period ``r``."""
    frames = []
    sub = schools[schools["level"].isin([TH, THCS])]
    t_rate = np.clip(rng.normal(0.72, 0.12, len(sub)), 0.2, 1.0)
    t_rate = np.where(sub["level"].to_numpy() == THCS, t_rate * 0.6, t_rate)
    p_share = np.clip(rng.normal(0.85, 0.08, len(sub)), 0.4, 1.0)
    for i, row in enumerate(sub.itertuples(index=False)):
        n_cls = int(row.n_classes)
        grades = np.arange(1, 6) if row.level == TH else np.arange(6, 10)
        g = len(grades)
        per = np.full(g, n_cls // g)
        per[: n_cls % g] += 1
        grade = np.repeat(grades, per)
        k = np.concatenate([np.arange(1, c + 1) for c in per])
        base = int(row.n_pupils) // n_cls
        pupils = np.full(n_cls, base)
        pupils[: int(row.n_pupils) - base * n_cls] += 1
        teacher = np.minimum(
            pupils, np.round(pupils * np.clip(t_rate[i] + rng.normal(0, 0.05, n_cls), 0, 1))
        ).astype(np.int64)
        principal = np.round(
            teacher * np.clip(p_share[i] + rng.normal(0, 0.05, n_cls), 0, 1)
        ).astype(np.int64)
        frames.append(
            pd.DataFrame(
                {
                    "school_code": row.school_code,
                    "school_name": row.school_name,
                    "level": row.level,
                    "grade": grade,
                    "class_name": [f"{a}A{b}" for a, b in zip(grade, k, strict=True)],
                    "n_pupils": pupils,
                    "n_signed_teacher": teacher,
                    "n_signed_principal": np.minimum(principal, teacher),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


# ------------------------------------------------------------------------------------------
# rendering


class _Reform:
    def __init__(self, out, seed: int, world: World) -> None:
        self.out = out
        self.seed = seed
        self.world = world
        self.planted = Planted()
        self.files: list[str] = []
        self.sources: list[dict] = []
        self.schools = _schools(world, np.random.default_rng([seed, 2025, 1]))
        self.persons = _persons(world, self.schools, np.random.default_rng([seed, 2025, 2]))
        self.classes = _classes(self.schools, np.random.default_rng([seed, 2025, 3]), 1)
        self.infra = self._build_infra(np.random.default_rng([seed, 2025, 4]))
        self.counts_code = str(
            self.schools.loc[self.schools["school_name"] == COUNTS_SCHOOL, "school_code"].iloc[0]
        )
        self.counts_rows: list[dict] = []

    def _build_infra(self, rng) -> pd.DataFrame:
        """IT of every school (counted once): the 2024 figures with some upgrades."""
        s = self.schools.drop_duplicates("school_code")
        old = self.world.infra.set_index("school_code")
        n = len(s)
        known = s["school_code"].isin(old.index).to_numpy()
        fibre = np.where(known, old["n_fibre"].reindex(s["school_code"]).fillna(0), 0)
        comp = np.where(known, old["n_computers"].reindex(s["school_code"]).fillna(0), 0)
        speed = np.where(known, old["speed_mbps"].reindex(s["school_code"]).fillna(0), 0)
        fibre = np.where(known, fibre, rng.integers(2, 4, n)).astype(int)
        comp = np.where(known, comp + (rng.random(n) < 0.3), rng.integers(10, 19, n)).astype(int)
        faster = rng.random(n) < 0.25
        speed = np.where(known & faster, np.maximum(speed, 200), speed)
        speed = np.where(known, speed, rng.choice([200, 300, 500], n)).astype(int)
        return pd.DataFrame(
            {
                "school_code": s["school_code"].to_numpy(),
                "school_name": s["school_name"].to_numpy(),
                "level": np.where(s["levels"] != s["level"], MULTI_LEVEL, s["level"]),
                "n_fibre": fibre,
                "speed_mbps": speed,
                "n_computers": comp,
            }
        )

    def _source(self, period, rel, lay, kind, level, **extra) -> None:
        self.files.append(rel)
        self.sources.append(source_entry(period, rel, lay, kind, level, **extra))

    def _write(
        self, period, pdate, rel, spec, kind, level, merged=False, total=False, **extra
    ) -> dict:
        """Write one report-style sheet, record its file, and plant its title rows (and its
        merged header, its total row, when it has them): the layout of what was written."""
        wb = new_workbook(self.out / rel, pdate)
        lay = write_sheet(wb, spec)
        wb.close()
        self._source(period, rel, lay, kind, level, **extra)
        self.planted.add(rel, lay["sheet"], lay["title_rows"], kind, "title_rows", "skipped")
        if merged:
            self.planted.add(
                rel, lay["sheet"], lay["header_rows"][0], kind, "merged_header", "repaired"
            )
        if total:
            self.planted.add(rel, lay["sheet"], lay["total_row"], kind, "total_row", "skipped")
        return lay

    def run(self) -> dict:
        self._truong(0)
        for r in (0, 1):
            for commune in COMMUNES:
                self._commune_staff(r, commune)
            self._thpt_staff(r)
            self._counts(r)
        self._ha_tang(0)
        self._hoc_ba(1)
        from analysis.sample.certs import write_certs

        out = self._planted()
        out["certs"] = write_certs(self)  # 2026-01-16: signatures only from the lists
        return out

    def _truong(self, r: int) -> None:
        period, pdate = REFORM_PERIODS[r], REFORM_DATES[r]
        s = self.schools
        n = len(s)
        cols = [
            Col("STT", list(range(1, n + 1)), width=6),
            Col("Mã trường", s["school_code"].tolist(), width=12),
            Col("Tên trường", s["school_name"].tolist(), width=36),
            Col("Cấp học", s["level"].tolist(), width=12),
            Col("Loại hình", s["ownership"].tolist(), width=12),
            Col("Tỉnh/Thành phố", [PROVINCE] * n, width=18),
            Col("Xã/Phường", s["commune"].tolist(), width=18),
            Col("Số lớp", s["n_classes"].astype(int).tolist(), width=8),
            Col("Số học sinh", s["n_pupils"].astype(int).tolist(), width=10),
            Col("Số HS có mã định danh", s["n_pupils_with_id"].astype(int).tolist(), width=12),
            Col("Số HS đã xác thực", s["n_pupils_verified"].astype(int).tolist(), width=12),
        ]
        spec = SheetSpec(
            "Danh sách trường",
            cols,
            titles=[
                "SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI",
                f"DANH SÁCH TRƯỜNG NĂM HỌC {SCHOOL_YEAR}",
                "(Các phường Long Biên, Bồ Đề, Việt Hưng, Phúc Lợi, Hồng Hà: "
                "các trường thuộc quận Long Biên cũ)",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            total={
                2: "Tổng cộng",
                7: int(s["n_classes"].sum()),
                8: int(s["n_pupils"].sum()),
                9: int(s["n_pupils_with_id"].sum()),
                10: int(s["n_pupils_verified"].sum()),
            },
        )
        rel = f"{period}/DanhSachTruong_HaNoi_KhuVucLongBien_NH{SCHOOL_YEAR}.xlsx"
        lay = self._write(period, pdate, rel, spec, "truong", None, total=True)
        sh = lay["sheet"]
        multi = np.flatnonzero((s["levels"] != s["level"]).to_numpy())
        self.planted.add(
            rel,
            sh,
            lay["first_row"] + multi,
            "truong",
            "multi_level_rows",
            "counted_once",
            note="trường nhiều cấp học: một dòng cho mỗi cấp (cùng Mã trường, Tên trường); "
            "tính một trường, lớp và học sinh theo từng cấp",
        )

    def _staff_spec(self, r: int, rows: pd.DataFrame, st: pd.DataFrame, titles, multi_col):
        sig = np.select([st["signed"], st["pending"]], ["yes", "pending"], "no")
        prov = np.where(st["signed"] | st["pending"], rows["provider"].astype(object), None)
        emp = np.where(st["active"], ACTIVE, rows["leave_status"].to_numpy())
        name = rows["school_code"].map(
            dict(zip(self.schools["school_code"], self.schools["school_name"], strict=False))
        )
        birth = pd.to_datetime(rows["birth_date"]).dt.date.tolist()
        cols = [
            Col("STT", list(range(1, len(rows) + 1)), width=6),
            Col("Mã định danh", rows["staff_id"].tolist(), width=13),
            Col("Họ và tên", rows["full_name"].tolist(), width=24),
            Col("Ngày sinh", birth, kind="date", width=11),
            Col("Số CCCD", rows["id_number"].tolist(), width=14),
            Col("Số điện thoại", rows["phone"].tolist(), width=12),
            Col("Email", rows["email"].tolist(), width=26),
            Col("Chức vụ", rows["position"].tolist(), width=18),
        ]
        if multi_col:
            cols.append(Col("Cấp học", rows["level"].tolist(), width=10))
        cols += [
            Col("Mã trường", rows["school_code"].tolist(), width=11),
            Col("Tên trường", name.tolist(), width=30),
            Col("UBND Xã", rows["commune"].tolist(), width=18),
            Col("Trạng thái CB", emp.tolist(), width=14),
            Col("Trạng thái", [SIG_WORDS[x] for x in sig], group="Chữ ký số", width=13),
            Col("Nhà cung cấp", prov.tolist(), group="Chữ ký số"),
            Col(
                "Ngày cấp",
                _as_dates(st["issued"].to_numpy(), st["signed"].to_numpy()),
                group="Chữ ký số",
                kind="date",
                width=11,
            ),
            Col(
                "Ngày hết hạn",
                _as_dates(st["expires"].to_numpy(), st["signed"].to_numpy()),
                group="Chữ ký số",
                kind="date",
                width=11,
            ),
        ]
        return SheetSpec("DanhSachCBGVNV", cols, titles=titles)

    def _rows_at(self, r: int, mask: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
        q = self.persons
        st = reform_status(q, r)
        keep = mask & st["listed"].to_numpy()
        commune = dict(zip(self.schools["school_code"], self.schools["commune"], strict=False))
        rows = q[keep].assign(commune=q.loc[keep, "school_code"].map(commune))
        return rows.reset_index(drop=True), st[keep].reset_index(drop=True)

    def _commune_staff(self, r: int, commune: str) -> None:
        period, pdate = REFORM_PERIODS[r], REFORM_DATES[r]
        codes = set(self.schools.loc[self.schools["commune"] == commune, "school_code"])
        q = self.persons
        mask = q["school_code"].isin(codes).to_numpy() & q["level"].isin([TH, THCS]).to_numpy()
        rows, st = self._rows_at(r, mask)
        spec = self._staff_spec(
            r,
            rows,
            st,
            [
                f"UBND {commune.upper()}",
                "PHÒNG VĂN HÓA - XÃ HỘI",
                "DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN CẤP TIỂU HỌC, TRUNG HỌC CƠ SỞ",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            multi_col=True,
        )
        rel = f"{period}/CSDL_CBGVNV_{SLUG[commune]}_{ymd(period)}.xlsx"
        self._write_staff(period, pdate, rel, spec, rows, st, level=None, commune=commune)

    def _thpt_staff(self, r: int) -> None:
        period, pdate = REFORM_PERIODS[r], REFORM_DATES[r]
        q = self.persons
        mask = (q["level"] == THPT).to_numpy() & (q["school_code"] != self.counts_code).to_numpy()
        rows, st = self._rows_at(r, mask)
        spec = self._staff_spec(
            r,
            rows,
            st,
            [
                "SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI",
                "DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN CẤP TRUNG HỌC PHỔ THÔNG",
                "(Các trường THPT khu vực Long Biên)",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            multi_col=False,
        )
        rel = f"{period}/CSDL_CBGVNV_THPT_KhuVucLongBien_{ymd(period)}.xlsx"
        self._write_staff(period, pdate, rel, spec, rows, st, level=THPT, commune=None)

    def _write_staff(self, period, pdate, rel, spec, rows, st, level, commune) -> None:
        lay = self._write(period, pdate, rel, spec, "cbgvnv", level, merged=True, commune=commune)
        first, sh, P = lay["first_row"], lay["sheet"], self.planted
        act = st["active"].to_numpy()
        P.add(rel, sh, first + np.flatnonzero(~act), "cbgvnv", "left_staff", "skipped")
        pend = act & st["pending"].to_numpy() & ~st["signed"].to_numpy()
        P.add(rel, sh, first + np.flatnonzero(pend), "cbgvnv", "pending", "skipped")

    def _counts(self, r: int) -> None:
        """The Sở's signature counts form: the school that sent no staff list."""
        period, pdate = REFORM_PERIODS[r], REFORM_DATES[r]
        q = self.persons
        st = reform_status(q, r)
        m = (q["school_code"] == self.counts_code).to_numpy() & st["active"].to_numpy()
        n_staff, n_signed = int(m.sum()), int((m & st["signed"].to_numpy()).sum())
        rate = f"{100 * n_signed / n_staff:.1f}".replace(".", ",") + "%"
        cols = [
            Col("STT", [1], width=6),
            Col("Mã trường", [self.counts_code], width=11),
            Col("Tên trường", [COUNTS_SCHOOL], width=32),
            Col("Tổng số CBGVNV", [n_staff], width=12),
            Col("Số CBGVNV đã có chữ ký số", [n_signed], width=14),
            Col("Tỷ lệ (%)", [rate], width=10),
        ]
        spec = SheetSpec(
            "Phụ lục",
            cols,
            titles=[
                "SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI",
                "TỔNG HỢP SỐ CBGVNV ĐÃ CÓ CHỮ KÝ SỐ CÁ NHÂN (TRƯỜNG CHƯA GỬI DANH SÁCH)",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            total={2: "Tổng cộng", 3: n_staff, 4: n_signed, 5: rate},
        )
        rel = f"{period}/TongHop_CKS_THPT_{ymd(period)}.xlsx"
        lay = self._write(period, pdate, rel, spec, "tonghop_cks", THPT, total=True)
        at = (period, rel, lay["sheet"], lay["first_row"])
        self.counts_rows.append(counts_row(*at, self.counts_code, THPT, n_staff, n_signed, False))

    def _ha_tang(self, r: int) -> None:
        period, pdate = REFORM_PERIODS[r], REFORM_DATES[r]
        inf = self.infra
        cols, total = infra_columns(inf, inf["school_code"], inf["speed_mbps"])
        spec = SheetSpec(
            "Hạ tầng CNTT",
            cols,
            titles=[
                "THỐNG KÊ HẠ TẦNG CÔNG NGHỆ THÔNG TIN CÁC TRƯỜNG - KHU VỰC LONG BIÊN",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            total=total,
        )
        rel = f"{period}/HaTang_CNTT_KhuVucLongBien_{ymd(period)}.xlsx"
        self._write(period, pdate, rel, spec, "ha_tang", None, merged=True, total=True)

    def _hoc_ba(self, r: int) -> None:
        period, pdate = REFORM_PERIODS[r], REFORM_DATES[r]
        cl = self.classes
        cols, total = record_columns(cl, cl["school_name"], cl["level"])
        spec = SheetSpec(
            "TienDo",
            cols,
            titles=[
                "TIẾN ĐỘ KÝ SỐ HỌC BẠ CẤP TIỂU HỌC, TRUNG HỌC CƠ SỞ",
                f"NĂM HỌC {SCHOOL_YEAR} - KHU VỰC LONG BIÊN",
                f"(Số liệu tính đến ngày {dmy(pdate)})",
            ],
            total=total,
        )
        rel = f"{period}/TienDo_KySo_HocBa_TH_THCS_{ymd(period)}.xlsx"
        self._write(period, pdate, rel, spec, "hoc_ba", None, merged=True, total=True)

    # -- what was planted ------------------------------------------------------------------

    def _expected(self) -> dict:
        s = self.schools
        q = self.persons
        out: dict = {}
        for r, period in enumerate(REFORM_PERIODS):
            st = reform_status(q, r)
            act = st["active"].to_numpy()
            frame = pd.DataFrame(
                {
                    "level": q["level"],
                    "n_staff": act,
                    "n_signed": act & st["signed"].to_numpy(),
                    "n_pending": act
                    & st["pending"].to_numpy()
                    & ~st["signed"].to_numpy()
                    & (q["school_code"] != self.counts_code).to_numpy(),
                }
            )
            per = frame.groupby("level")[["n_staff", "n_signed", "n_pending"]].sum()
            lv_stats = {level: self._level_stats(r, level, per) for level in LEVEL_ORDER}
            multi = s[s["levels"] != s["level"]]
            lv_stats[MULTI_LEVEL] = {
                "n_schools": int(multi["school_code"].nunique()),
                "levels": sorted(set(multi["level"]), key=LEVEL_ORDER.index),
            }
            lv_stats[TOTAL] = {
                "n_schools": int(s["school_code"].nunique()),
                "n_classes": int(s["n_classes"].sum()),
                "n_pupils": int(s["n_pupils"].sum()),
                "n_staff": int(per["n_staff"].sum()),
                "n_signed": int(per["n_signed"].sum()),
                "n_fibre": int(self.infra["n_fibre"].sum()),
                "n_computers": int(self.infra["n_computers"].sum()),
            }
            by_commune = {}
            for commune in COMMUNES:
                codes = set(s.loc[s["commune"] == commune, "school_code"])
                m = q["school_code"].isin(codes).to_numpy()
                by_commune[commune] = {
                    "n_schools": len(codes),
                    "n_staff": int(act[m].sum()),
                    "n_signed": int((act & st["signed"].to_numpy())[m].sum()),
                }
            lv_stats["by_commune"] = by_commune
            out[period] = lv_stats
        return out

    def _level_stats(self, r: int, level: str, per: pd.DataFrame) -> dict:
        """One level's expected figures at reform period ``r`` (a school counted once where
        it teaches one level; record signing at the last period)."""
        s = self.schools
        rows = s[s["level"] == level]
        single = rows[rows["levels"] == level]
        d = {"n_schools": int(single["school_code"].nunique()), **pupil_totals(rows)}
        if level == MN:
            d.update(n_staff=None, n_signed=None, n_pending=None)
        else:
            keys = ("n_staff", "n_signed", "n_pending")
            d.update({k: int(per.loc[level, k]) for k in keys})
        cl = self.classes[self.classes["level"] == level]
        if r == 1 and len(cl):
            d.update(record_totals(cl))
        return d

    def _planted(self) -> dict:
        s = self.schools
        q = self.persons
        multi = s[s["levels"] != s["level"]]
        first = s.drop_duplicates("school_code")
        moved = q[q["moved"]]
        return {
            "periods": list(REFORM_PERIODS),
            "infra_period": REFORM_PERIODS[0],
            "school_year": SCHOOL_YEAR,
            "province": PROVINCE,
            "communes": list(COMMUNES),
            "ward_commune": WARD_COMMUNE,
            "rules": {
                "units": "sau 1/7/2025 danh sách trường ghi Tỉnh/Thành phố và Xã/Phường (phường "
                "mới); trường giữ nguyên Mã trường; trường ở phường cũ bị chia theo địa chỉ của "
                "trường (school_commune), còn lại theo phường nhận phần lớn (ward_commune)",
                "multi_level": "trường nhiều cấp học: một dòng cho mỗi cấp; tính một trường "
                "('Trường nhiều cấp học'), lớp, học sinh, CBGVNV theo từng cấp (cột Cấp học)",
                "n_schools": "n_schools của một cấp chỉ gồm trường đơn cấp; trường nhiều cấp học "
                "tính riêng",
                "certificates": "chứng thư hết hạn được gia hạn ngay hôm sau: người đã có chữ ký "
                "số vẫn có ở các kỳ sau",
            },
            "expected": self._expected(),
            "schools": [
                {
                    "school_code": r.school_code,
                    "school_name": r.school_name,
                    "level": MULTI_LEVEL if r.levels != r.level else r.level,
                    "levels": r.levels,
                    "ownership": r.ownership,
                    "commune": r.commune,
                    "ward_2024": r.ward_2024,
                }
                for r in first.itertuples(index=False)
            ],
            "multi_level": {
                "school_code": str(multi["school_code"].iloc[0]),
                "school_name": str(multi["school_name"].iloc[0]),
                "rows": [
                    {"level": r.level, "n_classes": int(r.n_classes), "n_pupils": int(r.n_pupils)}
                    for r in multi.itertuples(index=False)
                ],
            },
            "thpt_codes": sorted(s.loc[s["level"] == THPT, "school_code"]),
            "moved_staff": [
                {"staff_id": r.staff_id, "school_code": r.school_code}
                for r in moved.itertuples(index=False)
            ],
            "counts_rows": self.counts_rows,
            "files": sorted(self.files),
            "sources": self.sources,
            "defects": self.planted.defects,
        }


def write_reform(out, seed: int, world: World | None = None) -> dict:
    """Write the 2025-2026 periods into ``out``; return the ``reform`` part of the planted
    record (periods, expected totals, schools, files, sources, defects)."""
    from pathlib import Path

    from analysis.sample.world import build_world

    return _Reform(Path(out), seed, world or build_world(seed)).run()
