"""The sample's period 2026-01-16: signatures only from the providers' lists (issue 15).

The same staff as on 2025-12-12 (:func:`analysis.sample.reform.reform_status` at its last
period: nobody joins or leaves in between) come as CSDL ngành exports (one per phường and the
Sở's THPT export) WITHOUT a ``Chữ ký số`` column, with ``Số định danh cá nhân``. Whether a
person is signed on 2026-01-16 comes only from the providers' subscriber lists
(``ca_thue_bao``): Viettel-CA (provider in a column), VNPT-CA (provider only in the title rows
and the file name, other column names) and one list of the other providers (column); the
schools' own certificates (``chu_ky_so_to_chuc``, VGCA) in a list of their own.

Synthetic CCCDs: every ``Số định danh cá nhân`` of this period is ``"099"`` followed by nine
digits derived from the person's Mã định danh (:func:`synthetic_cccd`, stable across
periods). 099 is no province code (real CCCDs start with 001-096), so none is a plausible real
number. Planted (their file/row in ``sample_planted.json["certs"]``): revoked, expired and
not-yet-valid certificates of unsigned staff, certificates matching no staff, a CCCD stored
as a number (its leading zero lost), an old 9-digit CMND (``"099"`` + six digits: in the export
and the list alike), one person with two certificates (an older expired one), and personal
canaries (names, phone numbers) in the lists' personal and free-text columns.

Its own random stream (``[seed, 2026, 1]``): the earlier periods' files never change.
"""

from __future__ import annotations

from datetime import date
from hashlib import blake2b

import numpy as np
import pandas as pd

from analysis.core.vocab import TH, THCS, THPT
from analysis.sample.planted import Planted
from analysis.sample.text import dmy, epoch_days, from_epoch_days
from analysis.sample.xlsx import Col, SheetSpec, new_workbook, write_sheet

PERIOD = "2026-01-16"
PDATE = date(2026, 1, 16)
#: Fake personal data planted in the lists' free-text columns: none may leave cleaning.
CANARY_NAMES = ("Hà Thị Canary Một", "Lò Văn Canary Hai", "Mạc Thị Canary Ba")
CANARY_PHONES = ("0999000111", "0999000222", "0999000333")
LIST_PROVIDERS = {"Viettel": "Viettel-CA", "VNPT": "VNPT-CA"}


def synthetic_cccd(staff_id: str) -> str:
    """A 12-digit synthetic CCCD for a person: ``099`` + 9 digits of a hash of Mã định danh."""
    h = int.from_bytes(blake2b(f"sample-cccd:{staff_id}".encode(), digest_size=8).digest())
    return f"099{h % 1_000_000_000:09d}"


def _list_sheet(g: str, plain: list) -> tuple[list[Col], list[str], str, str]:
    """One provider group's list as its provider writes it: columns, titles, file, sheet."""
    types = ("USB Token", "Ký số từ xa", "SmartCA")
    if g == "VNPT":
        cols = [
            Col("STT", list(range(1, len(plain) + 1)), width=6),
            Col("Tên thuê bao", [x[2] for x in plain], width=24),
            Col("CCCD/CMND", [x[3] for x in plain], width=14),
            Col("Số serial", [x[4] for x in plain], width=14),
            Col("Từ ngày", [from_epoch_days(x[1][2]) for x in plain], kind="date"),
            Col("Đến ngày", [from_epoch_days(x[1][3]) for x in plain], kind="date"),
            Col("Tình trạng", [x[1][4] for x in plain], width=14),
            Col("Loại chứng thư", [types[k % 3] for k in range(len(plain))]),
            Col("Cơ quan", [x[5] for x in plain], width=30),
            Col("Ghi chú", [x[7] for x in plain], width=30),
        ]
        titles = [
            "TỔNG CÔNG TY DỊCH VỤ VIỄN THÔNG (VNPT-VinaPhone)",
            "DANH SÁCH THUÊ BAO CHỨNG THƯ SỐ VNPT-CA NGÀNH GIÁO DỤC",
        ]
        rel = f"{PERIOD}/VNPT-CA_DanhSachThueBao_T01_2026.xlsx"
        name = "ThueBao"
    else:
        provider = [LIST_PROVIDERS.get(x[1][1], x[1][1] + "-CA") for x in plain]
        cols = [
            Col("STT", list(range(1, len(plain) + 1)), width=6),
            Col("Số CCCD", [x[3] for x in plain], width=14),
            Col("Họ và tên", [x[2] for x in plain], width=24),
            Col("Số điện thoại", [x[6] for x in plain], width=12),
            Col("Serial chứng thư", [x[4] for x in plain], width=14),
            Col("Ngày hiệu lực", [from_epoch_days(x[1][2]) for x in plain], kind="date"),
            Col("Ngày hết hạn", [from_epoch_days(x[1][3]) for x in plain], kind="date"),
            Col("Trạng thái", [x[1][4] for x in plain], width=14),
            Col("Gói dịch vụ", [types[k % 3] for k in range(len(plain))]),
            Col("Nhà cung cấp", provider),
            Col("Đơn vị", [x[5] for x in plain], width=30),
            Col("Ghi chú", [x[7] for x in plain], width=30),
        ]
        titles = ["DANH SÁCH THUÊ BAO CHỨNG THƯ SỐ"]
        slug = "Viettel-CA" if g == "Viettel" else "NhaCungCapKhac"
        rel = f"{PERIOD}/ThueBao_CKS_{slug}_T01_2026.xlsx"
        name = "DanhSach"
    return cols, titles, rel, name


class _Certs:
    def __init__(self, reform) -> None:
        from analysis.sample.reform import reform_status

        self.R = reform
        self.out = reform.out
        self.rng = np.random.default_rng([reform.seed, 2026, 1])
        self.planted = Planted()
        self.files: list[str] = []
        q = reform.persons
        st = reform_status(q, 1)
        listed = st["listed"].to_numpy()
        self.q = q[listed].reset_index(drop=True)
        self.st = st[listed].reset_index(drop=True)
        n = len(self.q)
        cccd = [synthetic_cccd(s) for s in self.q["staff_id"]]
        seen: set[str] = set()
        for i, c in enumerate(cccd):  # deterministic fix of a (rare) collision
            while c in seen:
                c = f"099{(int(c[3:]) + 1) % 1_000_000_000:09d}"
            seen.add(c)
            cccd[i] = c
        self.cccd = np.array(cccd, dtype=object)
        # certificates renew on expiry: roll them to the new period
        signed = self.st["signed"].to_numpy()
        iss = self.st["issued"].to_numpy().copy()
        span = self.q["years"].to_numpy() * 365
        exp = self.st["expires"].to_numpy().copy()
        for _ in range(3):
            old = signed & (exp < epoch_days(PDATE))
            iss = np.where(old, exp + 1, iss)
            exp = np.where(old, iss + span - 1, exp)
        self.iss, self.exp = iss, exp
        active = self.st["active"].to_numpy()
        self.signed = signed & active
        self.cmnd_i = int(np.flatnonzero(self.signed & (self.q["level"] == TH).to_numpy())[3])
        self.cccd[self.cmnd_i] = "099" + self.cccd[self.cmnd_i][-6:]  # an old 9-digit CMND
        self.n = n

    # -- the staff exports ----------------------------------------------------------------
    def staff(self) -> None:
        from analysis.sample.reform import COMMUNES, SLUG

        s = self.R.schools
        commune = dict(zip(s["school_code"], s["commune"], strict=False))
        name = dict(zip(s["school_code"], s["school_name"], strict=False))
        q = self.q
        com = q["school_code"].map(commune).to_numpy()
        for c in COMMUNES:
            m = (com == c) & q["level"].isin([TH, THCS]).to_numpy()
            self._staff_file(
                f"{PERIOD}/CSDL_GiaoVien_{SLUG[c]}_20260116.xlsx",
                m,
                name,
                commune,
                [f"UBND {c.upper()}", "DANH SÁCH CÁN BỘ, GIÁO VIÊN, NHÂN VIÊN"],
            )
        m = (q["level"] == THPT).to_numpy()
        self._staff_file(
            f"{PERIOD}/CSDL_GiaoVien_THPT_KhuVucLongBien_20260116.xlsx",
            m,
            name,
            commune,
            ["SỞ GIÁO DỤC VÀ ĐÀO TẠO HÀ NỘI", "DANH SÁCH CÁN BỘ THPT"],
        )

    def _staff_file(self, rel, mask, name, commune, titles) -> None:
        from analysis.sample.world import ACTIVE

        idx = np.flatnonzero(mask)
        q, st = self.q.iloc[idx], self.st.iloc[idx]
        emp = np.where(st["active"], ACTIVE, q["leave_status"].to_numpy())
        cols = [
            Col("STT", list(range(1, len(q) + 1)), width=6),
            Col("Mã định danh\nBộ GD&ĐT", q["staff_id"].tolist(), width=13),
            Col("Họ tên", q["full_name"].tolist(), width=24),
            Col("Ngày sinh", pd.to_datetime(q["birth_date"]).dt.date.tolist(), kind="date"),
            Col("Số định danh\ncá nhân", self.cccd[idx].tolist(), width=14),
            Col("Email", q["email"].tolist(), width=26),
            Col("Số điện\nthoại", q["phone"].tolist(), width=12),
            Col("Trạng thái CB", emp.tolist(), width=14),
            Col("Vị trí\nviệc làm", q["position"].tolist(), width=18),
            Col("Cấp học", q["level"].tolist(), width=10),
            Col("Mã trường", q["school_code"].tolist(), width=11),
            Col("Tên trường", q["school_code"].map(name).tolist(), width=30),
            Col("UBND Xã", q["school_code"].map(commune).tolist(), width=18),
        ]
        titles = [*titles, f"(Xuất từ CSDL ngành ngày {dmy(PDATE)})"]
        wb = new_workbook(self.out / rel, PDATE)
        lay = write_sheet(wb, SheetSpec("CanBo", cols, titles=titles))
        wb.close()
        self.files.append(rel)
        sh, first = lay["sheet"], lay["first_row"]
        self.planted.add(rel, sh, lay["title_rows"], "cbgvnv", "title_rows", "skipped")
        act = st["active"].to_numpy()
        self.planted.add(rel, sh, first + np.flatnonzero(~act), "cbgvnv", "left_staff", "skipped")
        if self.cmnd_i in idx:
            pos = int(np.flatnonzero(idx == self.cmnd_i)[0])
            self.planted.add(rel, sh, [first + pos], "cbgvnv", "cmnd_9_digits", "joined")

    # -- the providers' lists ---------------------------------------------------------------
    def lists(self) -> dict:
        """The providers' subscriber lists (Viettel, VNPT, the others), in a shuffled order:
        what they say per level and the planted cases."""
        q = self.q
        prov = q["provider"].astype(object).to_numpy()
        prov = np.where(pd.isna(prov), np.where(q["level"] == THCS, "VNPT", "Viettel"), prov)
        active = self.st["active"].to_numpy()
        rows, two = self._certificates(prov, active)
        # a CCCD stored as a number: a signed THCS person of VNPT's list
        lost = [r for r in rows if r[-1] == "signed" and r[1] == "VNPT"][5][0]
        order = self.rng.permutation(len(rows))
        rows = [rows[k] for k in order]
        out = {"signed_by_level": {}, "cases": self._write_lists(rows, lost)}
        # what the lists say, per level: active staff with an active certificate on the period
        lv = q["level"].to_numpy()
        for level in (TH, THCS, THPT):
            m = lv == level
            out["signed_by_level"][level] = {
                "n_staff": int((active & m).sum()),
                "n_signed": int((self.signed & m).sum()),
            }
        out["n_certificates"] = len(rows)
        out["n_unmatched"] = 9
        out["two_certificates_staff_id"] = str(q["staff_id"].iloc[two])
        out["cccd_as_number_staff_id"] = str(q["staff_id"].iloc[lost])
        out["cmnd_staff_id"] = str(q["staff_id"].iloc[self.cmnd_i])
        return out

    def _certificates(self, prov: np.ndarray, active: np.ndarray) -> tuple[list, int]:
        """The certificates the lists hold: every signer's, 24 of unsigned staff (revoked,
        expired, not yet valid), a second expired one of a signer, 9 of nobody on the staff;
        rows ``[i or -1-k, provider, from, to, status, case]``, and the second one's person."""
        rng = self.rng
        rows = []
        for i in np.flatnonzero(self.signed):
            rows.append([i, prov[i], int(self.iss[i]), int(self.exp[i]), "Hoạt động", "signed"])
        uns = np.flatnonzero(active & ~self.signed)
        pick = rng.permutation(uns)
        d = epoch_days(PDATE)
        for j, i in enumerate(pick[:24]):
            kind = ("revoked", "expired", "not_yet_valid")[j % 3]
            if kind == "revoked":
                rows.append([i, prov[i], d - 200, d + 500, "Thu hồi", kind])
            elif kind == "expired":
                rows.append(
                    [i, prov[i], d - 1100, d - 5, "Hoạt động" if j % 2 else "Hết hạn", kind]
                )
            else:
                rows.append([i, prov[i], d + 10, d + 740, "Hoạt động", kind])
        # one person with two certificates: an older expired one beside the active one
        two = int(np.flatnonzero(self.signed)[7])
        rows.append(
            [
                two,
                prov[two],
                int(self.iss[two]) - 1095,
                int(self.iss[two]) - 1,
                "Hết hạn",
                "second_certificate",
            ]
        )
        # certificates matching no staff (people of other sectors, staff not in the lists)
        for j in range(9):
            rows.append([-1 - j, ("Viettel", "VNPT", "FPT")[j % 3], d - 100, d + 600])
            rows[-1] += ["Hoạt động", "unmatched"]
        return rows, two

    def _write_lists(self, rows: list, lost: int) -> dict:
        """Write the lists, one per provider group, each row with its subscriber's name, CCCD,
        serial, unit and phone (a few notes name canaries): the planted cases per group."""
        q = self.q
        cases: dict = {}
        codes = self.R.schools.drop_duplicates("school_code")
        groups = {"Viettel": [], "VNPT": [], "other": []}
        for r in rows:
            groups[r[1] if r[1] in ("Viettel", "VNPT") else "other"].append(r)
        school_name = dict(
            zip(self.R.schools["school_code"], self.R.schools["school_name"], strict=False)
        )
        unmatched_names = [f"{x} Ngoài Ngành" for x in ("Trương Văn", "Kiều Thị", "Lạc Văn")]
        serial = 0
        for g, rs in groups.items():
            table = []
            for r in rs:
                i = r[0]
                serial += 1
                ser = f"{'VT' if g == 'Viettel' else 'VN' if g == 'VNPT' else 'CA'}{serial:07d}"
                if i >= 0:
                    nm, cc = q["full_name"].iloc[i], self.cccd[i]
                    unit = school_name[q["school_code"].iloc[i]]
                    phone = q["phone"].iloc[i]
                    if i == lost:
                        cc = int(cc)  # Excel dropped the leading zero
                else:
                    k = -1 - i
                    nm = unmatched_names[k % 3] + f" {k}"
                    cc = f"0980000{k:05d}"
                    unit = str(codes["school_name"].iloc[(k * 17) % len(codes)])
                    phone = f"0988{k:06d}"
                note = ""
                if serial % 29 == 0:
                    c = (serial // 29) % 3
                    note = f"Liên hệ {CANARY_NAMES[c]} {CANARY_PHONES[c]}"
                table.append((i, r, nm, cc, ser, unit, phone, note))
            cases.update(self._write_list(g, table))
        return cases

    def _write_list(self, g, table) -> dict:
        """Write one provider group's list and plant its cases: their counts."""
        plain = table
        cases: dict = {}
        cols, titles, rel, name = _list_sheet(g, plain)
        wb = new_workbook(self.out / rel, PDATE)
        lay = write_sheet(wb, SheetSpec(name, cols, titles=titles))
        wb.close()
        self.files.append(rel)
        first = lay["first_row"]
        for k, x in enumerate(plain):
            case = x[1][5]
            if case != "signed" or isinstance(x[3], int):
                label = "cccd_as_number" if isinstance(x[3], int) else case
                self.planted.add(rel, lay["sheet"], [first + k], "ca_thue_bao", label, "counted")
                cases[label] = cases.get(label, 0) + 1
        return {f"{g}:{k}": v for k, v in cases.items()}

    # -- the schools' own certificates ------------------------------------------------------
    def institutions(self) -> dict:
        s = self.R.schools.drop_duplicates("school_code").reset_index(drop=True)
        pub = np.flatnonzero((s["ownership"] == "Công lập").to_numpy())
        none = set(pub[[5, 40, 90]].tolist())
        expired = int(pub[20])
        rows = [i for i in pub if i not in none]
        d = epoch_days(PDATE)
        frm = [from_epoch_days(d - 400 if i != expired else d - 1200) for i in rows]
        to = [from_epoch_days(d + 700 if i != expired else d - 30) for i in rows]
        cols = [
            Col("STT", list(range(1, len(rows) + 1)), width=6),
            Col("Mã trường", s["school_code"].iloc[rows].tolist(), width=12),
            Col("Tên trường", s["school_name"].iloc[rows].tolist(), width=36),
            Col("Serial chứng thư", [f"VGCA{k:06d}" for k in range(len(rows))], width=14),
            Col("Ngày hiệu lực", frm, kind="date"),
            Col("Ngày hết hạn", to, kind="date"),
            Col("Trạng thái", ["Hết hạn" if i == expired else "Hoạt động" for i in rows]),
            Col("Loại", ["Chữ ký số cơ quan, tổ chức"] * len(rows), width=24),
        ]
        rel = f"{PERIOD}/VGCA_ChuKySo_ToChuc_T01_2026.xlsx"
        wb = new_workbook(self.out / rel, PDATE)
        spec = SheetSpec(
            "ToChuc",
            cols,
            titles=["BAN CƠ YẾU CHÍNH PHỦ", "DANH SÁCH CHỨNG THƯ SỐ CƠ QUAN, TỔ CHỨC"],
        )
        write_sheet(wb, spec)
        wb.close()
        self.files.append(rel)
        ready = [str(s["school_code"].iloc[i]) for i in rows if i != expired]
        return {
            "schools": len(rows),
            "ready": len(ready),
            "not_held": sorted(str(s["school_code"].iloc[i]) for i in none),
            "expired": str(s["school_code"].iloc[expired]),
        }

    def run(self) -> dict:
        self.staff()
        lists = self.lists()
        inst = self.institutions()
        return {
            "period": PERIOD,
            "cccd_rule": "Số định danh cá nhân tổng hợp: '099' + 9 chữ số (không phải mã tỉnh "
            "thật); CMND cũ: '099' + 6 chữ số",
            "expected": lists["signed_by_level"],
            "lists": {k: v for k, v in lists.items() if k != "signed_by_level"},
            "institutions": inst,
            "canaries": {"names": list(CANARY_NAMES), "phones": list(CANARY_PHONES)},
            "files": sorted(self.files),
            "defects": self.planted.defects,
        }


def write_certs(reform) -> dict:
    """Write the period 2026-01-16 from a built :class:`analysis.sample.reform._Reform`."""
    return _Certs(reform).run()
