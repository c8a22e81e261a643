"""The report stage: the Word report (docxtpl template) and the Excel workbook (xlsxwriter).

Inputs are the metric tables and figures of a period (``outputs/<period>/tables``,
``outputs/<period>/figures``), ``quality.json`` / ``quarantine.csv`` of the processed folder,
and the report settings (the wording that is not data):

1. ``data/raw/<period>/bao_cao.toml``  (this period's own wording),
2. the latest earlier period's ``bao_cao.toml`` (each key from the latest file that has it),
3. ``data/raw/bao_cao.toml``           (district-wide wording),
4. ``src/analysis/report/templates/bao_cao_mac_dinh.toml`` (package defaults: the unit's heading,
   recipients, signer's title, layout; no wording of the office's own).

Keys are merged in that order (the most specific wins); ``settings["_sources"]`` records the file
of every key, the notebook and the run log print the file of each group, and
``tables/report_settings.json`` (read by the manifest and the batch's summary line) keeps it. A
setting of the office's own (section I, the signer's name) missing everywhere is left as dots
and the document is marked ``DỰ THẢO`` on every page: never a placeholder in brackets, a path or
a key name in the document.

Public API::

    load_settings(raw_root, period) -> (settings, source, notes)
    build_context(tables, settings, period, sample, figures_dir=None) -> ReportContent
    build_report(cfg, settings=None, template=None) -> ReportResult   # .docx + .xlsx
    write_docx(cfg, ...), write_workbook(cfg, ...)
    main(argv) -> int                                                  # python -m analysis.report
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import sys
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.core import parallel, vocab
from analysis.core.fmt import date_line, fmt_date, fmt_int, fmt_num, fmt_pct
from analysis.report.docx import TemplateError, render_docx
from analysis.report.xlsx import sort_by_name, write_xlsx

log = logging.getLogger(__name__)

SETTINGS_FILE = "bao_cao.toml"
DEFAULTS_PATH = paths.TEMPLATES_DIR / "bao_cao_mac_dinh.toml"
DEFAULT_TEMPLATE = paths.TEMPLATES_DIR / "bao_cao_mac_dinh.docx"
SAMPLE_MARK = "DỮ LIỆU MẪU — không phải số liệu thật"
#: The number line of a district's report (Phòng GD&ĐT), as the template writes it.
DISTRICT_NUMBER = "Số: …/BC-PGDĐT"
TOTAL = vocab.TOTAL
LEVELS = vocab.LEVELS
ROLE_LABELS = {
    "CBQL": "Cán bộ quản lý (CBQL)",
    "GV": "Giáo viên (GV)",
    "NV": "Nhân viên (NV)",
}

#: Every settings key and its type (lists hold strings, tables map strings to strings).
SETTING_TYPES: dict[str, type | tuple[type, ...]] = {
    "district": str,
    "place": str,
    "parent_agency": str,
    "issuing_agency": str,
    "subject": str,
    "level": str,
    "target_pct": (int, float),
    "directives": list,
    "infrastructure_intro": str,
    "infrastructure_lines": list,
    "closing": str,
    "recipients": list,
    "signer_mode": str,
    "signer_title": str,
    "signer_name": str,
    "template": str,
    "titles": dict,
    "figure_captions": dict,
    # the province's name when the school list has no Tỉnh/Thành phố column
    "province": str,
    "number": str,
    # [xa."<tên xã>"]: a commune's own wording; [don_vi.<unit>]: the package's unit defaults
    "xa": dict,
    "don_vi": dict,
}
#: Tables of tables: every inner table holds settings keys (checked like a file's own keys).
NESTED_KEYS = ("xa", "don_vi")
#: Keys that depend on the unit: a province's or commune's report never takes them from the
#: top level of a district's period (before 1/7/2025), nor a commune of a fan-out from the
#: top level at all (the province's wording): only from its ``[xa."<tên xã>"]`` table.
UNIT_KEYS = (
    "district",
    "place",
    "parent_agency",
    "issuing_agency",
    "number",
    "subject",
    "directives",
    "infrastructure_intro",
    "infrastructure_lines",
    "closing",
    "recipients",
    "signer_mode",
    "signer_title",
    "signer_name",
)
#: The office's own words: taking any of these from the package defaults is reported.
WORDING_KEYS = (
    "subject",
    "directives",
    "infrastructure_intro",
    "infrastructure_lines",
    "closing",
    "recipients",
    "signer_mode",
    "signer_title",
    "signer_name",
)
WORDING_LABELS = {
    "subject": "trích yếu",
    "directives": "công tác chỉ đạo",
    "infrastructure_intro": "đoạn mở đầu hạ tầng thông tin",
    "infrastructure_lines": "các ý về hạ tầng thông tin",
    "closing": "câu kết",
    "recipients": "nơi nhận",
    "signer_mode": "quyền hạn ký",
    "signer_title": "chức vụ người ký",
    "signer_name": "người ký",
}


class ReportError(ValueError):
    """Bad settings or missing inputs of the report stage (Vietnamese message)."""


# ------------------------------------------------------------------------------ settings


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ReportError(
            f"File cài đặt báo cáo {path} bị lỗi cú pháp TOML ({exc}). Mở file bằng trình soạn "
            "thảo văn bản (lưu dạng UTF-8), sửa dòng được nêu — chuỗi phải nằm trong dấu "
            'ngoặc kép "...", danh sách trong [...] — rồi chạy lại.'
        ) from exc
    except UnicodeDecodeError as exc:
        raise ReportError(
            f"File cài đặt báo cáo {path} không phải văn bản UTF-8. Lưu lại file với mã hóa "
            "UTF-8 rồi chạy lại."
        ) from exc
    return data


def _check_settings(data: dict, path: Path, notes: list[str], table: str = "") -> dict:
    """Type-check one settings file; unknown keys are kept out and reported (likely typos).
    ``table``: the inner table being checked (``xa."Phường Bồ Đề"``), for the messages."""
    out = {}
    where = f"{path} (bảng [{table}])" if table else str(path)
    for key in sorted(data):
        value = data[key]
        if key not in SETTING_TYPES or (table and key in NESTED_KEYS):
            notes.append(
                f"Khóa '{key}' trong {where} không được dùng (có thể gõ sai tên); "
                f"các khóa hợp lệ: {', '.join(SETTING_TYPES)}."
            )
            continue
        if key in NESTED_KEYS:
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                raise ReportError(
                    f"File cài đặt báo cáo {path}: '{key}' phải là các bảng dạng "
                    f'[{key}."Phường Bồ Đề"], mỗi bảng gồm các dòng khóa = giá trị. Sửa lại '
                    "rồi chạy lại."
                )
            out[key] = {
                unicodedata.normalize("NFC", name): _check_settings(
                    inner, path, notes, f'{key}."{name}"'
                )
                for name, inner in sorted(value.items())
            }
            continue
        expected = SETTING_TYPES[key]
        ok = isinstance(value, expected) and not isinstance(value, bool)
        if ok and expected is list:
            ok = all(isinstance(item, str) for item in value)
        if ok and expected is dict:
            ok = all(isinstance(v, str) for v in value.values())
        if not ok:
            kind = {
                str: 'một chuỗi trong ngoặc kép, ví dụ "Long Biên"',
                list: 'một danh sách chuỗi, ví dụ ["Sở GDĐT Hà Nội;", "Lưu: VT."]',
                dict: 'một bảng [tên] gồm các dòng khóa = "chuỗi"',
            }.get(expected, "một số, ví dụ 100")
            raise ReportError(
                f"File cài đặt báo cáo {where}: khóa '{key}' phải là {kind}, "
                f"nhưng đang là {value!r}. Sửa lại rồi chạy lại."
            )
        if isinstance(value, str):
            value = unicodedata.normalize("NFC", value)
        elif isinstance(value, list):
            value = [unicodedata.normalize("NFC", item) for item in value]
        elif isinstance(value, dict):
            value = {k: unicodedata.normalize("NFC", v) for k, v in value.items()}
        if key == "template" and value:
            template = Path(value)
            value = str(template if template.is_absolute() else (path.parent / template))
        out[key] = value
    return out


def _merge(base: dict, top: dict) -> dict:
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


#: Groups of settings, as the run log and the manifest name them (which file served each).
SETTING_GROUPS: dict[str, tuple[str, ...]] = {
    "đầu văn bản": ("district", "place", "parent_agency", "issuing_agency", "subject", "level"),
    "chỉ tiêu": ("target_pct",),
    "công tác chỉ đạo": ("directives",),
    "hạ tầng thông tin": ("infrastructure_intro", "infrastructure_lines"),
    "câu kết, nơi nhận": ("closing", "recipients"),
    "người ký": ("signer_mode", "signer_title", "signer_name"),
    "trình bày": ("template", "titles", "figure_captions"),
}
#: Settings without which the document is a draft (``DỰ THẢO``): no default can stand in.
REQUIRED_KEYS = ("directives", "signer_name")
#: How a missing setting is left in the document, as an officer leaves it in a draft.
DRAFT_DOTS = "…" * 14  # about 6,9 cm at 14 pt: one line in the signer's cell
DEFAULTS_LABEL = "mặc định của phần mềm"
DRAFT_MARK = "DỰ THẢO"
#: The file of the run's settings summary (``outputs/<period>/tables/``): the manifest and the
#: batch's summary line read it.
SETTINGS_JSON = "report_settings.json"


def _blank(value) -> bool:
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return not any(item.strip() for item in value)
    return value is None


def _label(path: Path, raw_root: Path) -> str:
    """A settings file as the run log names it: relative to the raw folder when inside it."""
    try:
        return path.relative_to(raw_root).as_posix()
    except ValueError:
        return str(path)


def settings_layers(raw_root: Path | str, period: str, since: str = "") -> list[Path]:
    """The settings files of ``period``, least specific first: the district file
    (``<raw>/bao_cao.toml``), then every earlier period's own file (oldest first: the latest
    earlier period's wording wins), then the period's own file. Only existing files; with
    ``since`` (a date), earlier periods before it are left out."""
    raw_root = Path(raw_root)
    layers = [raw_root / SETTINGS_FILE]
    layers += [
        raw_root / p / SETTINGS_FILE for p in paths.list_periods(raw_root) if since <= p < period
    ]
    layers.append(raw_root / period / SETTINGS_FILE)
    return [path for path in layers if path.is_file()]


def _own_table(tables: Mapping, name: str) -> dict:
    """The ``[xa."<name>"]`` table whose name is ``name`` (prefix, case, diacritics aside)."""
    from analysis.core.units import name_key

    wanted = name_key(name)
    for key, table in tables.items():
        if name_key(key) == wanted:
            return table
    return {}


def _unit_dict(unit) -> dict:
    if unit is None:
        return {"kind": "district", "name": "", "province": ""}
    if isinstance(unit, Mapping):
        return {"kind": unit.get("kind", "district"), "name": unit.get("name", ""),
                "province": unit.get("province", "")}  # fmt: skip
    return {"kind": unit.kind, "name": unit.name, "province": unit.province}


def load_settings(
    raw_root: Path | str,
    period: str,
    defaults_path: Path | str = DEFAULTS_PATH,
    unit=None,
    fan_out: bool = False,
) -> tuple[dict, str, list[str]]:
    """The report settings of ``period``: ``(settings, source, notes)``.

    Each key comes from the most specific file that has it: the period's ``bao_cao.toml``,
    else the latest earlier period's, else the district's ``<raw>/bao_cao.toml``, else the
    package defaults (the unit's defaults: heading, recipients, signer's title, layout). The
    office's own words have no default (``REQUIRED_KEYS``): missing everywhere, the setting is
    blank and the document becomes a draft. ``settings["_sources"]`` maps every key to the file
    that served it (raw-relative, or ``DEFAULTS_LABEL``). ``source`` names the most specific
    file used; ``notes`` (Vietnamese) say which files served and what is missing. A missing
    file is never an error; a broken one is (with the file, the key and what to do).

    ``unit`` (``units.Unit`` or ``{"kind", "name", "province"}``; None: a district) is the
    report's unit (data contract §7). The package's ``[don_vi.<kind>]`` table gives the unit's
    heading, number, place, closing, recipients and signer's title. For a province or a
    commune, the files of periods before 1/7/2025 (a district's wording) are left out. A
    commune's ``[xa."<tên xã>"]`` table of any file wins over that file's top level; with
    ``fan_out`` (one report per commune of a province's data) the top level's wording
    (``UNIT_KEYS``: the province's) is not taken at all, only the commune's own table.
    """
    from analysis.core.units import REFORM_DATE

    raw_root = Path(raw_root)
    defaults_path = Path(defaults_path)
    notes: list[str] = []
    unit_info = _unit_dict(unit)
    kind = unit_info["kind"]
    settings = _check_settings(_read_toml(defaults_path), defaults_path, notes)
    sources = {key: DEFAULTS_LABEL for key in settings if key not in NESTED_KEYS}
    unit_defaults = settings.pop("don_vi", {}).get(kind, {})
    settings.pop("xa", None)
    settings = _merge(settings, unit_defaults)
    period_path = raw_root / period / SETTINGS_FILE
    since = REFORM_DATE.isoformat() if kind != "district" else ""
    layers = settings_layers(raw_root, period, since)
    skipped = [p for p in settings_layers(raw_root, period) if p not in layers]
    if skipped:
        notes.append(
            f"Báo cáo của {kind == 'province' and 'tỉnh/thành phố' or 'xã/phường'} không dùng "
            f"lời văn của các kỳ trước 1/7/2025 (cấp quận/huyện): bỏ qua "
            f"{', '.join(_label(p, raw_root) for p in skipped)}."
        )
    for path in layers:
        layer = _check_settings(_read_toml(path), path, notes)
        own = _own_table(layer.pop("xa", {}), unit_info["name"]) if kind == "commune" else {}
        layer.pop("don_vi", None)
        if fan_out:
            layer = {k: v for k, v in layer.items() if k not in UNIT_KEYS}
        layer = _merge(layer, own)
        settings = _merge(settings, layer)
        sources.update({key: _label(path, raw_root) for key in layer})
    source = str(layers[-1]) if layers else f"{DEFAULTS_LABEL} ({defaults_path})"
    settings["district"] = settings.get("district", "")
    settings["_sources"] = sources
    if not unit_info["province"] and settings.get("province"):  # a list without Tỉnh/Thành phố
        unit_info["province"] = settings["province"]
        if kind == "province":
            unit_info["name"] = settings["province"]
    settings["_unit"] = unit_info
    served = sorted({sources[k] for k in sources if sources[k] != DEFAULTS_LABEL})
    if not period_path.is_file():
        if served:
            notes.insert(
                0,
                f"Kỳ {period} chưa có file cài đặt riêng ({period_path}): lời văn lấy từ "
                f"{', '.join(served)}. Kiểm tra lại (nhất là công tác chỉ đạo) trước khi gửi; "
                "muốn sửa thì chép file đó vào thư mục của kỳ rồi sửa.",
            )
        else:
            notes.insert(
                0,
                f"Kỳ {period} không có file cài đặt báo cáo ({period_path}), các kỳ trước cũng "
                "không có: lời văn lấy từ mặc định của phần mềm.",
            )
    return settings, source, notes


def target_ratio(raw_root: Path | str, period: str, override="") -> float:
    """The coverage target as a ratio, from one source: the settings' ``target_pct``
    (``bao_cao.toml``, carried forward like every setting), unless a notebook is given an
    explicit ``override`` (a number of percent)."""
    if override not in ("", None):
        value = override
    else:
        settings, _, _ = load_settings(raw_root, period)
        value = settings.get("target_pct", 100)
    try:
        ratio = float(value) / 100
    except (TypeError, ValueError) as exc:
        raise ReportError(
            f"Chỉ tiêu target_pct = {value!r} không phải một số phần trăm (ví dụ 100)."
        ) from exc
    if not 0 < ratio <= 1:
        raise ReportError(f"Chỉ tiêu target_pct = {value!r} phải nằm trong khoảng (0, 100].")
    return ratio


def missing_settings(settings: Mapping) -> list[str]:
    """The required settings that are blank (the document is then a draft)."""
    return [key for key in REQUIRED_KEYS if _blank(settings.get(key))]


def served_by_group(settings: Mapping) -> dict[str, str]:
    """``{group: file(s)}``: which settings file served each group (``SETTING_GROUPS``)."""
    sources = settings.get("_sources", {})
    out = {}
    for group, keys in SETTING_GROUPS.items():
        files = []
        for key in keys:
            label = sources.get(key, DEFAULTS_LABEL)
            if label not in files:
                files.append(label)
        out[group] = "; ".join(files)
    return out


def settings_record(settings: Mapping) -> dict:
    """What ``report_settings.json`` holds: files per group and per key, missing settings,
    and the unit (``unit``: kind and name) of a province's or commune's report."""
    missing = missing_settings(settings)
    record = {
        "draft": bool(missing),
        "missing": missing,
        "groups": served_by_group(settings),
        "keys": dict(sorted(settings.get("_sources", {}).items())),
    }
    unit = settings.get("_unit") or {}
    if unit.get("kind", "district") != "district":
        record["unit"] = {"kind": unit["kind"], "name": unit.get("name", "")}
    return record


# ------------------------------------------------------------------------------ helpers

_PLACEHOLDER = re.compile(
    r"\{(district|place|level|level_upper|as_of|year|prev_date|province|province_short|"
    r"province_of|commune|commune_short|commune_of)\}"
)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace the known ``{name}`` placeholders of a settings string (others are left)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text)


def _num(value) -> float | None:
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return None
    return float(value)


def fmt_plain_int(value) -> str:
    """An integer without grouping, as the reference writes counts in running text: 1248."""
    value = _num(value)
    return "–" if value is None else str(int(round(value)))


def fmt_speed(value) -> str:
    """70.0 -> '70'; 12.5 -> '12,5'."""
    value = _num(value)
    if value is None:
        return "–"
    return fmt_int(value) if float(value).is_integer() else fmt_num(value, 1)


def fmt_points(delta) -> str:
    """A change of a ratio in percentage points, signed: 0.032 -> '+3,2'."""
    value = _num(delta)
    if value is None:
        return "–"
    text = fmt_num(abs(value) * 100, 1)
    return ("+" if value > 0 else "−" if value < 0 else "") + text


def fmt_signed_int(delta) -> str:
    value = _num(delta)
    if value is None:
        return "–"
    return ("+" if value > 0 else "−" if value < 0 else "") + fmt_int(abs(value))


def _level_rows(df: pd.DataFrame | None, level: str) -> pd.DataFrame:
    if df is None or df.empty or "level" not in df.columns:
        return pd.DataFrame()
    return df[df["level"] == level]


# ------------------------------------------------------------------------------ inputs


def read_metric_tables(tables_dir: Path | str) -> dict[str, pd.DataFrame]:
    """Every metric table present in ``tables_dir`` (absent ones are simply left out)."""
    from analysis import metrics

    return metrics.read_tables(tables_dir)


def read_quality(processed_dir: Path | str) -> tuple[dict, pd.DataFrame | None]:
    """``quality.json`` (or ``{}``) and ``quarantine.csv`` (or None) of a processed folder."""
    processed_dir = Path(processed_dir)
    quality_path = processed_dir / "quality.json"
    quality = {}
    if quality_path.is_file():
        quality = json.loads(quality_path.read_text(encoding="utf-8"))
    quarantine_path = processed_dir / "quarantine.csv"
    quarantine = None
    if quarantine_path.is_file():
        quarantine = pd.read_csv(quarantine_path, dtype=str, keep_default_na=False)
    return quality, quarantine


# ------------------------------------------------------------------------------ context


@dataclass
class ReportContent:
    """What the template is filled with, the figures to insert and notes for the run log."""

    context: dict
    figures: list[dict]
    notes: list[str]
    headline: str


def _scale(tables: Mapping[str, pd.DataFrame], notes: list[str]) -> tuple[list[dict], dict]:
    scale = tables.get("scale_by_level")
    empty = {"n_schools": "–", "n_classes": "–", "n_pupils": "–"}
    if scale is None or scale.empty:
        notes.append(
            "Chưa có bảng quy mô trường, lớp (scale_by_level): bảng quy mô trong báo cáo để "
            "trống. Chạy notebook 30_scale_infrastructure của kỳ này trước."
        )
        return [], empty

    def row(r) -> dict:
        return {
            "level": r["level"],
            "n_schools": fmt_int(r["n_schools"]),
            "n_classes": fmt_int(r["n_classes"]),
            "n_pupils": fmt_int(r["n_pupils"]),
        }

    body = scale[scale["level"].isin(vocab.SCHOOL_LEVELS)]
    body = body.assign(_o=body["level"].map(vocab.rank)).sort_values("_o")
    rows = [row(r) for r in body.to_dict("records")]
    total = scale[scale["level"] == TOTAL]
    if total.empty:
        sums = body[["n_schools", "n_classes", "n_pupils"]].sum()
        total_row = row({"level": TOTAL, **sums.to_dict()})
    else:
        total_row = row(total.iloc[0].to_dict())
    return rows, total_row


def _signatures(
    tables: Mapping[str, pd.DataFrame], level: str, notes: list[str]
) -> tuple[dict, dict | None]:
    by_level = _level_rows(tables.get("coverage_by_level"), level)
    blank = {k: "–" for k in ("n_signed", "n_staff", "n_signed_plain", "n_staff_plain")}
    blank["coverage"] = "–"
    if by_level.empty or not (_num(by_level.iloc[0]["n_staff"]) or 0) > 0:
        notes.append(
            f"Chưa có số liệu chữ ký số của cấp {level} (coverage_by_level): câu về chữ ký số "
            "trong báo cáo để trống “–”."
        )
        return blank, None
    r = by_level.iloc[0]
    sig = {
        "n_signed": fmt_int(r["n_signed"]),
        "n_staff": fmt_int(r["n_staff"]),
        "n_signed_plain": fmt_plain_int(r["n_signed"]),
        "n_staff_plain": fmt_plain_int(r["n_staff"]),
        "coverage": fmt_pct(r["coverage"]),
        "n_unsigned": fmt_int(r["n_staff"] - r["n_signed"]),
    }
    raw = {"n_signed": int(r["n_signed"]), "n_staff": int(r["n_staff"])}
    raw["coverage"] = _num(r["coverage"])
    return sig, raw


def _appendix(
    tables: Mapping[str, pd.DataFrame], level: str, raw: dict | None, notes: list[str]
) -> tuple[list[dict], dict]:
    schools = _level_rows(tables.get("coverage_by_school"), level)
    if schools.empty:
        notes.append(f"Chưa có bảng chữ ký số theo trường cấp {level}: phụ lục để trống.")
        return [], {"n_staff": "–", "n_signed": "–", "coverage": "–"}
    schools = sort_by_name(schools).reset_index(drop=True)
    staff = pd.to_numeric(schools["n_staff"])
    signed = pd.to_numeric(schools["n_signed"])
    table = pd.DataFrame(
        {
            "stt": [str(i) for i in range(1, len(schools) + 1)],
            "school_name": schools["school_name"].astype("str"),
            "n_staff": staff.map(fmt_int),
            "n_signed": signed.map(fmt_int),
            "coverage": pd.to_numeric(schools["coverage"]).map(fmt_pct),
        }
    )
    total_staff, total_signed = staff.sum(min_count=1), signed.sum(min_count=1)
    ratio = total_signed / total_staff if _num(total_staff) else None
    total = {
        "n_staff": fmt_int(total_staff),
        "n_signed": fmt_int(total_signed),
        "coverage": fmt_pct(ratio),
    }
    if raw and (_num(total_staff), _num(total_signed)) != (raw["n_staff"], raw["n_signed"]):
        notes.append(
            f"Tổng của phụ lục ({fmt_int(total_signed)}/{fmt_int(total_staff)}) khác số liệu cấp "
            f"{level} ({fmt_int(raw['n_signed'])}/{fmt_int(raw['n_staff'])}): kiểm tra lại các "
            "bảng chỉ số của kỳ này."
        )
    missing = int(staff.isna().sum())
    if missing:
        notes.append(f"Phụ lục: {missing} trường cấp {level} chưa có số liệu chữ ký số (ghi “–”).")
    return table.to_dict("records"), total


def _infrastructure(tables: Mapping[str, pd.DataFrame], notes: list[str]) -> dict:
    summary = tables.get("infrastructure_summary")
    if summary is None or summary.empty or not (_num(summary.iloc[0]["n_schools_reporting"]) or 0):
        notes.append(
            "Chưa có số liệu hạ tầng CNTT (infrastructure_summary): các dòng cơ sở vật chất "
            "ghi “–”."
        )
        return {"n_fibre": "–", "speed_min": "–", "n_computers": "–", "n_schools": "–"}
    r = summary.iloc[0]
    out = {
        "n_fibre": fmt_int(r["n_fibre"]),
        "speed_min": fmt_speed(r["speed_min"]),
        "speed_median": fmt_speed(r["speed_median"]),
        "n_computers": fmt_int(r["n_computers"]),
        "n_schools": fmt_int(r["n_schools_reporting"]),
    }
    scale = tables.get("scale_by_level")
    if scale is not None and not scale.empty:
        total = scale.loc[scale["level"] == TOTAL, "n_schools"]
        if (
            len(total)
            and _num(total.iloc[0])
            and _num(total.iloc[0]) > _num(r["n_schools_reporting"])
        ):
            notes.append(
                f"Hạ tầng CNTT: chỉ {out['n_schools']}/{fmt_int(total.iloc[0])} trường có số "
                "liệu; các con số cơ sở vật chất là tổng của các trường đã báo cáo."
            )
    return out


def _change(tables: Mapping[str, pd.DataFrame], level: str) -> tuple[list[dict], str]:
    change = _level_rows(tables.get("coverage_change"), level)
    if change.empty or change["prev_period"].isna().all():
        return [], ""
    change = sort_by_name(change).reset_index(drop=True)
    prev = pd.to_datetime(change["prev_period"], errors="coerce").dropna()
    prev_date = fmt_date(prev.max().date()) if len(prev) else ""
    table = pd.DataFrame(
        {
            "stt": [str(i) for i in range(1, len(change) + 1)],
            "school_name": change["school_name"].astype("str"),
            "coverage_prev": pd.to_numeric(change["coverage_prev"]).map(fmt_pct),
            "coverage": pd.to_numeric(change["coverage"]).map(fmt_pct),
            "delta_coverage": pd.to_numeric(change["delta_coverage"]).map(fmt_points),
            "delta_signed": pd.to_numeric(change["delta_signed"]).map(fmt_signed_int),
        }
    )
    return table.to_dict("records"), prev_date


def _by_role(tables: Mapping[str, pd.DataFrame], level: str) -> list[dict]:
    roles = _level_rows(tables.get("coverage_by_role"), level)
    if roles.empty:
        return []
    order = {r: i for i, r in enumerate(ROLE_LABELS)}
    roles = roles.assign(_o=roles["role"].map(order).fillna(len(order))).sort_values("_o")
    table = pd.DataFrame(
        {
            "role": roles["role"].map(lambda r: ROLE_LABELS.get(r, r)),
            "n_staff": pd.to_numeric(roles["n_staff"]).map(fmt_int),
            "n_signed": pd.to_numeric(roles["n_signed"]).map(fmt_int),
            "coverage": pd.to_numeric(roles["coverage"]).map(fmt_pct),
        }
    )
    return table.to_dict("records")


def _by_provider(tables: Mapping[str, pd.DataFrame], level: str) -> list[dict]:
    providers = _level_rows(tables.get("coverage_by_provider"), level)
    if providers.empty:
        return []
    table = pd.DataFrame(
        {
            "provider": providers["provider"].fillna("Không rõ nhà cung cấp").astype("str"),
            "n_signed": pd.to_numeric(providers["n_signed"]).map(fmt_int),
            "share": pd.to_numeric(providers["share"]).map(fmt_pct),
        }
    )
    return table.to_dict("records")


def _short_name(name: str, level: str) -> str:
    """'Trường Tiểu học Thượng Thanh' -> 'Thượng Thanh' inside a list of one level's schools."""
    for prefix in (f"Trường {level} ", "Trường "):
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _days_text(days: int) -> str:
    return f"{fmt_int(abs(days))} ngày"


def _status(tables: Mapping[str, pd.DataFrame], period: str, notes: list[str]) -> list[dict]:
    """What the head reads first (section II.3), per level with signature data: ``{"level",
    "heading", "lines"}`` (heading "Cấp Tiểu học", or "Trường nhiều cấp học" for the staff of
    multi-level schools whose level is not given); each line a computed sentence: coverage and
    its change in points; staff still without a signature and at how many schools; the schools
    furthest behind, with counts; the window's end (30/6) at the recent pace, in words, and the
    signatures a week each lagging school needs; certificates expiring before the window
    ends."""
    from analysis.metrics import signing_window_end

    day = paths.parse_period(period)
    end = signing_window_end(day)
    end_text = fmt_date(end)
    out = []
    by_level = tables.get("coverage_by_level")
    if by_level is None or by_level.empty:
        return out
    history = tables.get("coverage_history")
    for level in vocab.SCHOOL_LEVELS:  # "Trường nhiều cấp học": staff of no single level
        row = _level_rows(by_level, level)
        if row.empty or not (_num(row.iloc[0]["n_staff"]) or 0) > 0:
            continue
        r = row.iloc[0]
        staff, signed = int(r["n_staff"]), int(r["n_signed"])
        unsigned = staff - signed
        lines = []
        text = (
            f"Đã có chữ ký số cá nhân: {fmt_int(signed)}/{fmt_int(staff)} CBGVNV "
            f"({fmt_pct(r['coverage'])})"
        )
        past = _level_rows(history, level)
        if not past.empty:
            past = past[past["period"].astype("str") < period].sort_values("period")
        if past is not None and not past.empty and pd.notna(past.iloc[-1]["coverage"]):
            prev = past.iloc[-1]
            delta = float(r["coverage"]) - float(prev["coverage"])
            prev_day = fmt_date(paths.parse_period(str(prev["period"])))
            verb = "tăng" if delta > 0 else "giảm" if delta < 0 else "không đổi"
            amount = f" {fmt_num(abs(delta) * 100, 1)} điểm %" if delta else ""
            text += f", {verb}{amount} so với kỳ trước ({prev_day})"
        schools = _level_rows(tables.get("coverage_by_school"), level)
        reporting = schools[pd.to_numeric(schools["n_staff"]).notna()] if len(schools) else schools
        if unsigned and len(reporting):
            left = pd.to_numeric(reporting["n_staff"]) - pd.to_numeric(reporting["n_signed"])
            text += (
                f"; còn {fmt_int(unsigned)} người chưa có, tại {fmt_int((left > 0).sum())}/"
                f"{fmt_int(len(reporting))} trường."
            )
        else:
            text += "." if unsigned else "; mọi CBGVNV đã có chữ ký số."
        lines.append(text)
        if unsigned and len(reporting) and "rank_in_level" in reporting.columns:
            ranked = reporting[pd.to_numeric(reporting["rank_in_level"]).notna()]
            low = ranked.sort_values("rank_in_level", kind="mergesort").head(3)
            low = low[pd.to_numeric(low["n_signed"]) < pd.to_numeric(low["n_staff"])]
            if len(low):
                named = "; ".join(
                    f"{_short_name(s.school_name, level)} {fmt_int(s.n_signed)}/"
                    f"{fmt_int(s.n_staff)} ({fmt_pct(s.coverage)}), còn "
                    f"{fmt_int(s.n_staff - s.n_signed)} người"
                    for s in low.itertuples(index=False)
                )
                lines.append(f"Các trường thấp nhất: {named}.")
        if unsigned:
            lines += _deadline_lines(tables, level, period, end)
        expiring = _level_rows(tables.get("expiring"), level)
        if len(expiring):
            n_exp = pd.to_numeric(expiring["n_expiring_window"]).fillna(0)
            if n_exp.sum() > 0:
                lines.append(
                    f"{fmt_int(n_exp.sum())} chứng thư số của CBGVNV đã có chữ ký số (tại "
                    f"{fmt_int((n_exp > 0).sum())} trường) hết hạn trước {end_text}: cần gia "
                    "hạn trước khi ký học bạ."
                )
            else:
                lines.append(f"Không có chứng thư số nào hết hạn trước {end_text}.")
        heading = level if level == vocab.MULTI_LEVEL else f"Cấp {level}"
        out.append({"level": level, "heading": heading, "lines": lines})
    return out


def _deadline_lines(tables: Mapping[str, pd.DataFrame], level: str, period: str, end) -> list[str]:
    """The window's end at the recent pace: the district trend's date against 30/6, then the
    saturating per-school projection and what each lagging school needs a week."""
    lines = []
    end_text = fmt_date(end)
    proj = _level_rows(tables.get("projection"), level)
    date_100 = proj.iloc[0]["date_100"] if len(proj) else None
    if isinstance(date_100, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", date_100):
        reach = paths.parse_period(date_100)
        n_points = proj.iloc[0]["n_points"]
        gap = (reach - end).days
        when = (
            f"muộn hơn hạn {end_text} {_days_text(gap)}"
            if gap > 0
            else f"trước hạn {end_text} {_days_text(gap)}"
            if gap < 0
            else f"đúng hạn {end_text}"
        )
        lines.append(
            f"Theo xu hướng chung của {fmt_int(n_points)} kỳ, toàn cấp đạt 100% vào khoảng "
            f"{fmt_date(reach)}, {when}."
        )
    elif len(proj) and isinstance(proj.iloc[0]["note"], str) and proj.iloc[0]["note"]:
        note = proj.iloc[0]["note"]
        if note not in ("None", "nan"):
            lines.append(note)
    pace = _level_rows(tables.get("signing_pace"), level)
    if pace.empty or pace["prev_period"].isna().all():
        return lines
    late = pace[~pace["on_track"].astype(bool)]
    prev = pace["prev_period"].dropna().astype("str").max()
    prev_text = fmt_date(paths.parse_period(prev))
    if late.empty:
        lines.append(
            f"Tính theo tốc độ riêng của từng trường từ kỳ trước ({prev_text}), mọi trường "
            f"xong trước {end_text}."
        )
        return lines
    left = int(pd.to_numeric(late["left_at_window_end"]).sum())
    late = late.assign(_left=pd.to_numeric(late["left_at_window_end"]))
    late = late.sort_values("_left", ascending=False, kind="mergesort")
    shown = late.head(5)
    named = "; ".join(
        f"{_short_name(s.school_name, level)} cần "
        f"{fmt_int(math.ceil(s.needed_per_week - 1e-9))}/tuần (hiện "
        f"{fmt_num(s.signed_per_week if pd.notna(s.signed_per_week) else 0, 1)}/tuần)"
        for s in shown.itertuples(index=False)
    )
    more = f" và {fmt_int(len(late) - len(shown))} trường khác" if len(late) > len(shown) else ""
    lines.append(
        f"Tính theo tốc độ riêng của từng trường từ kỳ trước ({prev_text}), đến {end_text} "
        f"vẫn còn khoảng {fmt_int(left)} người chưa có, tại {fmt_int(len(late))} trường. Số "
        f"chữ ký mỗi tuần các trường này cần để kịp hạn: {named}{more}."
    )
    return lines


def _records(tables: Mapping[str, pd.DataFrame], as_of: str) -> dict | None:
    """Record signing (``hoc_ba``), when the period has it: per level a sentence (records
    signed by the homeroom teacher, approved by the principal; the grades; the schools
    furthest behind), and the table by grade of each level with its total row."""
    by_level = tables.get("records_by_level")
    if by_level is None or by_level.empty:
        return None
    by_grade = tables.get("records_by_grade")
    by_school = tables.get("records_by_school")
    lines, rows = [], []
    for level in LEVELS:
        row = _level_rows(by_level, level)
        if row.empty or not (_num(row.iloc[0]["n_records"]) or 0) > 0:
            continue
        r = row.iloc[0]
        text = (
            f"Cấp {level}: đến {as_of}, {fmt_int(r['n_signed_teacher'])}/"
            f"{fmt_int(r['n_records'])} học bạ ({fmt_pct(r['rate_teacher'])}) đã được giáo viên "
            f"chủ nhiệm ký số, {fmt_int(r['n_signed_principal'])} ({fmt_pct(r['rate_principal'])})"
            " đã được hiệu trưởng duyệt ký"
        )
        grades = _level_rows(by_grade, level)
        if len(grades):
            grades = grades.sort_values("grade", kind="mergesort")
            low = grades.sort_values("rate_principal", kind="mergesort").iloc[0]
            text += (
                f"; khối thấp nhất: lớp {fmt_int(low['grade'])} (hiệu trưởng đã duyệt "
                f"{fmt_pct(low['rate_principal'])})"
            )
        schools = _level_rows(by_school, level)
        if len(schools):
            schools = schools[pd.to_numeric(schools["n_records"]).fillna(0) > 0]
            low = schools.sort_values("rate_principal", kind="mergesort").head(3)
            named = "; ".join(
                f"{_short_name(s.school_name, level)} {fmt_int(s.n_signed_principal)}/"
                f"{fmt_int(s.n_records)} ({fmt_pct(s.rate_principal)})"
                for s in low.itertuples(index=False)
            )
            if named:
                text += f". Các trường hiệu trưởng duyệt ký ít nhất: {named}"
        lines.append(text + ".")
        for g in grades.itertuples(index=False) if len(grades) else ():
            rows.append(
                {
                    "label": f"{level}, lớp {fmt_int(g.grade)}",
                    "n_records": fmt_int(g.n_records),
                    "n_signed_teacher": fmt_int(g.n_signed_teacher),
                    "rate_teacher": fmt_pct(g.rate_teacher),
                    "n_signed_principal": fmt_int(g.n_signed_principal),
                    "rate_principal": fmt_pct(g.rate_principal),
                }
            )
    if not lines:
        return None
    total = _level_rows(by_level, TOTAL)
    t = total.iloc[0] if len(total) else None
    total_row = {
        "n_records": fmt_int(t["n_records"]) if t is not None else "–",
        "n_signed_teacher": fmt_int(t["n_signed_teacher"]) if t is not None else "–",
        "rate_teacher": fmt_pct(t["rate_teacher"]) if t is not None else "–",
        "n_signed_principal": fmt_int(t["n_signed_principal"]) if t is not None else "–",
        "rate_principal": fmt_pct(t["rate_principal"]) if t is not None else "–",
    }
    return {"lines": lines, "rows": rows, "total": total_row}


#: The type of signature (``staff.cert_type``) in the report's words.
CERT_TYPE_WORDS = {"token": "USB Token", "remote": "ký số từ xa", "hsm": "HSM",
                   "unknown": "chưa rõ loại"}  # fmt: skip
#: How many schools without a certificate of their own the report names.
SHOWN_SCHOOLS = 10


def _certificates(tables: Mapping[str, pd.DataFrame], as_of: str, number: int) -> dict | None:
    """The school's own certificate (con dấu số) and the providers' lists, when the period has
    them (``metrics.certificate_tables``): a sentence and a table by level for the first, a
    sentence on the certificates matched / not matched to any staff and one on the type of
    signature for the second. None without either."""
    from analysis.metrics import ALL

    ready = tables.get("institution_readiness")
    without = tables.get("schools_without_seal")
    by_provider = tables.get("certificates_by_provider")
    types = tables.get("signature_type_by_provider")
    out: dict = {"number": str(number), "seal_line": "", "rows": [], "total": {}, "ca_lines": []}
    if ready is not None and len(ready):
        total = ready[(ready["level"] == TOTAL) & (ready["commune"] == TOTAL)].iloc[0]
        n_without = int(total["n_schools"]) - int(total["n_ready"])
        line = (
            f"{fmt_int(total['n_ready'])}/{fmt_int(total['n_schools'])} trường "
            f"({fmt_pct(total['share'])}) đã có chữ ký số của cơ quan (con dấu số) còn hiệu lực "
            f"tính đến {as_of}"
        )
        if n_without and without is not None and len(without):
            names = [str(x) for x in without["school_name"].tolist()]
            shown = ", ".join(names[:SHOWN_SCHOOLS])
            more = len(names) - SHOWN_SCHOOLS
            line += f"; còn {fmt_int(n_without)} trường chưa có: {shown}"
            if more > 0:
                line += f" và {fmt_int(more)} trường khác (danh sách trong bảng biểu Excel)"
        elif not n_without:
            line += "; tất cả các trường đã có"
        out["seal_line"] = line + "."
        levels = ready[(ready["commune"] == ALL) & ~ready["level"].isin([ALL, TOTAL])]
        out["rows"] = [
            {
                "level": str(r.level),
                "n_schools": fmt_int(r.n_schools),
                "n_ready": fmt_int(r.n_ready),
                "n_without": fmt_int(int(r.n_schools) - int(r.n_ready)),
                "share": fmt_pct(r.share),
            }
            for r in levels.itertuples(index=False)
        ]
        out["total"] = {
            "n_schools": fmt_int(total["n_schools"]),
            "n_ready": fmt_int(total["n_ready"]),
            "n_without": fmt_int(n_without),
            "share": fmt_pct(total["share"]),
        }
    if by_provider is not None and len(by_provider):
        body = by_provider[by_provider["provider"] != TOTAL]
        t = by_provider[by_provider["provider"] == TOTAL].iloc[0]
        per = "; ".join(
            f"{r.provider}: {fmt_int(r.n_matched)} khớp, {fmt_int(r.n_unmatched)} không khớp"
            for r in body.itertuples(index=False)
        )
        out["ca_lines"].append(
            f"Danh sách thuê bao của các nhà cung cấp có {fmt_int(t['n_certificates'])} chứng "
            f"thư số: {fmt_int(t['n_matched'])} khớp với CBGVNV (theo số CCCD), "
            f"{fmt_int(t['n_unmatched'])} không khớp CBGVNV nào ({per})."
        )
    if types is not None and len(types):
        parts = []
        for provider, grp in types.groupby("provider", sort=False):
            kinds = ", ".join(
                f"{fmt_int(r.n_staff)} {CERT_TYPE_WORDS.get(r.cert_type, r.cert_type)}"
                for r in grp.itertuples(index=False)
            )
            parts.append(f"{provider}: {kinds}")
        out["ca_lines"].append(
            "Loại chữ ký số của CBGVNV đã có chữ ký số theo danh sách thuê bao: "
            + "; ".join(parts)
            + "."
        )
    if not out["seal_line"] and not out["ca_lines"]:
        return None
    return out


def table_numbers(
    records: bool,
    change: bool,
    role: bool,
    provider: bool,
    commune: bool = False,
    seal: bool = False,
) -> dict:
    """``Bảng n`` of every table the report prints, in the order they appear (a table left out
    takes no number)."""
    out, n = {}, 0
    for name, shown in (("scale", True), ("commune", commune), ("records", records),
                        ("seal", seal), ("appendix", True), ("change", change), ("role", role),
                        ("provider", provider)):  # fmt: skip
        if shown:
            n += 1
            out[name] = n
    return out


#: Words kept on one line in a title (a break between them reads badly: "CÁ / NHÂN").
_KEEP_TOGETHER = ("chữ ký số", "cá nhân", "cán bộ", "giáo viên", "nhân viên", "tiểu học",
                  "mầm non", "các trường", "giáo dục", "đào tạo", "báo cáo số")  # fmt: skip
TITLE_PT = 14
TITLE_WIDTH_CM = 16.5


def title_lines(
    text: str,
    pt: float = TITLE_PT,
    width_cm: float = TITLE_WIDTH_CM,
    bold: bool = True,
    italic: bool = False,
) -> str:
    """A bold centred title broken where it reads well: one line if it fits, else two lines
    as even as possible, never inside a phrase of ``_KEEP_TOGETHER`` (measured in Times New
    Roman, ``analysis.fontmetrics``). The line break is a "\n" (docxtpl makes it a w:br)."""
    from analysis.report.fontmetrics import text_width_cm

    def width(line: str) -> float:
        return text_width_cm(line, pt, bold=bold, italic=italic)

    if not text or width(text) <= width_cm:
        return text
    words = text.split(" ")
    forbidden = set()
    for phrase in _KEEP_TOGETHER:
        parts = phrase.split(" ")
        for i in range(len(words) - len(parts) + 1):
            if [w.strip(",()").casefold() for w in words[i : i + len(parts)]] == parts:
                forbidden |= set(range(i + 1, i + len(parts)))
    best = None
    for cut in range(1, len(words)):
        if cut in forbidden:
            continue
        first, second = " ".join(words[:cut]), " ".join(words[cut:])
        longest = max(width(first), width(second))
        if best is None or longest < best[0]:
            best = (longest, first, second)
    return text if best is None else f"{best[1]}\n{best[2]}"


def _number_code(number: str) -> str:
    """ "Số: …/BC-SGDĐT" -> "…/BC-SGDĐT" (the number as the appendix cites it)."""
    code = re.sub(r"^\s*Số\s*:?\s*", "", number or "").strip()
    return code or "…/BC-PGDĐT"


def _lower_first(value: str) -> str:
    return value[:1].lower() + value[1:] if value else value


def unit_values(unit: Mapping | None) -> dict[str, str]:
    """The placeholders of the report's unit: ``province``, ``province_short``, ``province_of``
    ("thành phố Hà Nội"), ``commune``, ``commune_short``, ``commune_of`` ("phường Bồ Đề")."""
    from analysis.core.units import short_name

    unit = unit or {}
    province = (unit.get("province") or "").strip()
    commune = (unit.get("name") or "").strip() if unit.get("kind") == "commune" else ""
    return {
        "province": province,
        "province_short": short_name(province),
        "province_of": _lower_first(province),
        "commune": commune,
        "commune_short": short_name(commune),
        "commune_of": _lower_first(commune),
    }


def unit_label(settings: Mapping) -> str:
    """How the workbook's titles name the unit: "quận Long Biên" (a district: ``district``
    of the settings), "phường Bồ Đề", "thành phố Hà Nội"."""
    unit = settings.get("_unit") or {}
    kind = unit.get("kind", "district")
    if kind == "district":
        district = settings.get("district", "")
        return f"quận {district}" if district else ""
    return _lower_first((unit.get("name") or "").strip())


def appendix_ref(text: Mapping[str, str], as_of: str) -> str:
    """'(Kèm theo Báo cáo số …/BC-PGDĐT ngày 19/4/2024 của Phòng Giáo dục và Đào tạo quận
    Long Biên)': the report's date and its issuer (issuing agency + the parent's unit)."""
    issuer = text.get("issuing_agency", "").strip()
    parent = text.get("parent_agency", "").strip()
    unit = re.sub(r"^(UBND|Ủy ban nhân dân)\s+", "", parent, flags=re.IGNORECASE)
    if unit and unit != parent:
        issuer = f"{issuer} {unit}".strip()
    by = f" của {issuer}" if issuer else ""
    text = f"(Kèm theo Báo cáo số {_number_code(text.get('number', ''))} ngày {as_of}{by})"
    return title_lines(text, 14, TITLE_WIDTH_CM, bold=False, italic=True)


#: Figures shown only when their table exists (a province's report), first of the figures.
UNIT_FIGURES = {
    "coverage_by_commune": "Tỷ lệ CBGVNV có chữ ký số cá nhân theo xã/phường, tính đến {as_of}",
}


def _by_commune(tables: Mapping[str, pd.DataFrame], values: Mapping[str, str]):
    """A province's table by commune: rows (lowest coverage first), the total, one sentence."""
    df = tables.get("coverage_by_commune")
    if df is None or df.empty:
        return [], {}, ""

    def row(r) -> dict:
        return {
            "commune": str(r["commune"]),
            "n_schools_reporting": f"{fmt_int(r['n_schools_reporting'])}/{fmt_int(r['n_schools'])}",
            "n_staff": fmt_int(r["n_staff"]),
            "n_signed": fmt_int(r["n_signed"]),
            "coverage": fmt_pct(r["coverage"]) if _num(r["coverage"]) is not None else "–",
            "n_missing": fmt_int(r["n_missing"]),
        }

    body = df[df["commune"] != TOTAL]
    rows = [{"stt": str(i), **row(r)} for i, (_, r) in enumerate(body.iterrows(), start=1)]
    total = df[df["commune"] == TOTAL]
    total_row = row(total.iloc[0]) if len(total) else {}
    known = body[body["coverage"].notna()]
    line = f"Theo xã/phường ({fmt_int(len(body))} xã/phường)"
    if len(known):
        low = known.iloc[0]
        line += (
            f": thấp nhất là {low['commune']} ({fmt_pct(low['coverage'])}, còn "
            f"{fmt_int(low['n_missing'])} CBGVNV chưa có chữ ký số); toàn "
            f"{values.get('province_of') or 'tỉnh/thành phố'} còn "
            f"{total_row.get('n_missing', '0')} CBGVNV chưa có chữ ký số."
        )
    else:
        line += ": chưa có số liệu chữ ký số."
    return rows, total_row, line


def _figures(figures_dir: Path | None, captions: Mapping[str, str], values, notes) -> list[dict]:
    if figures_dir is None:
        return []
    figures, missing = [], []
    for name, caption in UNIT_FIGURES.items():
        png = Path(figures_dir) / f"{name}.png"
        if png.is_file():
            caption = captions.get(name, caption)
            figures.append({"path": png, "caption": fill(caption, values), "name": name})
    for name, caption in captions.items():
        if name in UNIT_FIGURES:
            continue
        png = Path(figures_dir) / f"{name}.png"
        if png.is_file():
            figures.append({"path": png, "caption": fill(caption, values), "name": name})
        else:
            missing.append(name)
    for number, fig in enumerate(figures, start=1):
        fig["number"] = number
    if missing:
        notes.append(f"Chưa có hình (bỏ qua trong báo cáo): {', '.join(missing)}.")
    return figures


def build_context(
    tables: Mapping[str, pd.DataFrame],
    settings: Mapping,
    period: str,
    sample: bool,
    figures_dir: Path | str | None = None,
) -> ReportContent:
    """Everything the template shows, as ready-formatted Vietnamese strings.

    Template variables: ``sample``, ``sample_mark``, ``parent_agency``, ``issuing_agency``,
    ``district``, ``date_line``, ``subject``, ``directives`` (list), ``scale`` (rows: level,
    n_schools, n_classes, n_pupils), ``scale_total``, ``infrastructure_intro``,
    ``infrastructure_lines``, ``as_of`` (19/4/2024), ``level``, ``sig`` (n_signed, n_staff,
    n_signed_plain, n_staff_plain, coverage, n_unsigned), ``infra`` (n_fibre, speed_min,
    n_computers), ``closing``, ``recipients``, ``signer_mode``, ``signer_title``,
    ``signer_name``, ``appendix_title``, ``appendix`` (rows: stt, school_name, n_staff, n_signed,
    coverage), ``appendix_total``, ``change`` / ``change_title``, ``by_role`` / ``role_title``,
    ``by_provider`` / ``provider_title``, ``status`` (section II.3, per level with data:
    ``{"level", "heading", "lines"}``), ``records`` (II.4, with ``hoc_ba``), ``certificates``
    (the school's own certificate and the providers' lists, when present: ``number``,
    ``seal_line``, ``rows``/``total`` by level, ``ca_lines``), ``figures`` / ``figures_title``.
    """
    day = paths.parse_period(period)
    notes: list[str] = []
    level = settings.get("level", "Tiểu học")
    if level not in LEVELS:
        raise ReportError(
            f"Cài đặt báo cáo: level = {level!r} không hợp lệ; dùng một trong {', '.join(LEVELS)}."
        )
    values = {
        "district": settings.get("district", ""),
        "level": level,
        "level_upper": level.upper(),
        "as_of": fmt_date(day),
        "year": str(day.year),
        **unit_values(settings.get("_unit")),
    }
    values["place"] = fill(settings.get("place", "") or values["district"], values)
    text = {k: fill(v, values) for k, v in settings.items() if isinstance(v, str)}
    lists = {k: [fill(x, values) for x in v] for k, v in settings.items() if isinstance(v, list)}
    titles = dict(settings.get("titles", {}))

    scale, scale_total = _scale(tables, notes)
    sig, raw = _signatures(tables, level, notes)
    appendix, appendix_total = _appendix(tables, level, raw, notes)
    infra = _infrastructure(tables, notes)
    change, prev_date = _change(tables, level)
    values["prev_date"] = prev_date
    figures = _figures(
        Path(figures_dir) if figures_dir else None,
        settings.get("figure_captions", {}),
        values,
        notes,
    )
    records = _records(tables, values["as_of"])
    certificates = _certificates(tables, values["as_of"], 5 if records else 4)
    by_role, by_provider = _by_role(tables, level), _by_provider(tables, level)
    by_commune, by_commune_total, by_commune_line = _by_commune(tables, values)
    headline = (
        f"Tính đến {values['as_of']}, tổng số CBGVNV: {sig['n_signed']}/"
        f"{sig['n_staff']} (đạt {sig['coverage']}) cán bộ giáo viên, nhân viên các "
        f"trường {level} đã được trang bị ký số cá nhân."
    )
    # A setting missing everywhere is left as an officer leaves it in a draft: dots.
    missing = missing_settings(settings)
    directives = [line for line in lists.get("directives", []) if line.strip()]
    signer_name = text.get("signer_name", "").strip()
    if missing:
        labels = ", ".join(f"{WORDING_LABELS[k]} ({k})" for k in missing)
        notes.append(
            f"Báo cáo là {DRAFT_MARK}: chưa có {labels} trong file cài đặt nào (văn bản để dấu "
            f"chấm). Điền vào data/raw/{period}/bao_cao.toml rồi chạy lại."
        )
    context = {
        "sample": bool(sample),
        "sample_mark": SAMPLE_MARK,
        "draft": bool(missing),
        "draft_mark": DRAFT_MARK,
        "district": values["district"],
        "parent_agency": text.get("parent_agency", ""),
        "issuing_agency": text.get("issuing_agency", ""),
        "number": text.get("number", "") or DISTRICT_NUMBER,
        "number_custom": (text.get("number", "") or DISTRICT_NUMBER) != DISTRICT_NUMBER,
        "unit": dict(settings.get("_unit") or {"kind": "district"}),
        "date_line": date_line(values["place"], day),
        "subject": text.get("subject", ""),
        "directives": directives or [DRAFT_DOTS * 2],  # one line of dots
        "scale": scale,
        "scale_total": scale_total,
        "infrastructure_intro": text.get("infrastructure_intro", ""),
        "infrastructure_lines": lists.get("infrastructure_lines", []),
        "as_of": values["as_of"],
        "level": level,
        "sig": sig,
        "infra": infra,
        "closing": text.get("closing", ""),
        "recipients": lists.get("recipients", []),
        "signer_mode": text.get("signer_mode", ""),
        "signer_title": text.get("signer_title", ""),
        "signer_name": signer_name or DRAFT_DOTS,
        "appendix_title": title_lines(fill(titles.get("appendix", ""), values)),
        "appendix_ref": appendix_ref(text, values["as_of"]),
        "table_no": table_numbers(
            bool(records),
            bool(change),
            bool(by_role),
            bool(by_provider),
            bool(by_commune),
            seal=bool(certificates and certificates["rows"]),
        ),
        "by_commune": by_commune,
        "by_commune_total": by_commune_total,
        "by_commune_line": by_commune_line,
        "commune_title": "Chữ ký số cá nhân của CBGVNV theo xã/phường, tính đến "
        + values["as_of"]
        + " (tỷ lệ thấp nhất trước)",
        "appendix": appendix,
        "appendix_total": appendix_total,
        "change": change,
        "change_title": fill(titles.get("change", ""), values),
        "by_role": by_role,
        "role_title": fill(titles.get("role", ""), values),
        "by_provider": by_provider,
        "provider_title": fill(titles.get("provider", ""), values),
        "status": _status(tables, period, notes),
        "records": records,
        "certificates": certificates,
        "figures_title": fill(titles.get("figures", ""), values),
        "headline": headline,
    }
    return ReportContent(context, figures, notes, headline)


# ------------------------------------------------------------------------------ outputs


def served_lines(settings: Mapping) -> list[str]:
    """One line per settings group: the file(s) that served it."""
    return [f"  {group}: {files}" for group, files in served_by_group(settings).items()]


def settings_summary(source: str, notes: list[str], settings: Mapping | None = None) -> str:
    """What the notebook prints after ``load_settings``: the source, the file of each group
    of settings, and every note."""
    lines = [f"Cài đặt lời văn lấy từ: {source}"]
    if settings is not None:
        lines += served_lines(settings)
    lines += [f"Lưu ý: {note}" for note in notes] or ["Không có lưu ý."]
    return "\n".join(lines)


def write_settings_record(settings: Mapping, tables_dir: Path | str) -> Path:
    """``tables/report_settings.json``: which file served each group of settings and whether
    the report is a draft (read by the manifest and by the batch's summary line)."""
    path = Path(tables_dir) / SETTINGS_JSON
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(settings_record(settings), ensure_ascii=False, indent=2, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path


@dataclass
class ReportResult:
    docx: Path
    xlsx: Path
    settings_source: str
    notes: list[str] = field(default_factory=list)
    headline: str = ""
    scale: pd.DataFrame | None = None  # the report's scale table, as printed
    appendix: pd.DataFrame | None = None  # the appendix table, as printed
    draft: bool = False  # a required setting is missing: the document is marked DỰ THẢO
    served: dict = field(default_factory=dict)  # settings group -> file(s) that served it

    def summary(self) -> str:
        lines = [
            f"Báo cáo Word:  {self.docx}" + (f" ({DRAFT_MARK})" if self.draft else ""),
            f"Bảng biểu Excel: {self.xlsx}",
            f"Cài đặt lời văn: {self.settings_source}",
            *(f"  {group}: {files}" for group, files in self.served.items()),
            f"Câu chính: {self.headline}",
        ]
        lines += [f"Lưu ý: {note}" for note in self.notes]
        return "\n".join(lines)


def report_unit(cfg: paths.RunConfig, chosen: str = ""):
    """The report's unit (``units.Unit``): ``chosen`` ("province", "commune", "district"), else
    what the period's school list says (``units.infer_unit``: before 1/7/2025 the district;
    after, one commune or the province)."""
    from analysis.core import units

    path = cfg.processed / "schools.parquet"
    columns = ["province", "commune", "district"]
    schools = pd.read_parquet(path) if path.is_file() else pd.DataFrame(columns=columns)
    for col in columns:
        if col not in schools.columns:
            schools[col] = pd.Series(dtype="str")
    return units.infer_unit(schools, cfg.period, chosen)


def docx_path(cfg: paths.RunConfig) -> Path:
    return cfg.out / f"bao_cao_{cfg.period}.docx"


def xlsx_path(cfg: paths.RunConfig) -> Path:
    return cfg.out / f"bang_bieu_{cfg.period}.xlsx"


def _is_sample(cfg: paths.RunConfig, quality: Mapping) -> bool:
    return bool(quality.get("sample", False)) or cfg.sample


def choose_template(settings: Mapping, template: Path | str | None = None) -> Path:
    """The ``template=`` argument, else the settings' ``template``, else the default."""
    if template:
        return Path(template)
    if settings.get("template"):
        return Path(settings["template"])
    return DEFAULT_TEMPLATE


def write_docx(
    cfg: paths.RunConfig,
    settings: Mapping | None = None,
    template: Path | str | None = None,
    out_path: Path | str | None = None,
) -> tuple[Path, ReportContent]:
    """Render the Word report of ``cfg.period``; returns its path and the content used."""
    if settings is None:
        settings, _, _ = load_settings(cfg.raw_root, cfg.period)
    tables = read_metric_tables(cfg.tables)
    quality, _ = read_quality(cfg.processed)
    content = build_context(tables, settings, cfg.period, _is_sample(cfg, quality), cfg.figures)
    title = content.context["subject"] or "Báo cáo"
    path = render_docx(
        choose_template(settings, template),
        content.context,
        content.figures,
        out_path or docx_path(cfg),
        cfg.period_date,
        f"Báo cáo {title}",
    )
    return path, content


def write_workbook(
    cfg: paths.RunConfig, out_path: Path | str | None = None, settings: Mapping | None = None
) -> Path:
    """Write the formatted Excel workbook of ``cfg.period``."""
    tables = read_metric_tables(cfg.tables)
    quality, quarantine = read_quality(cfg.processed)
    district = (settings or {}).get("district", "")
    return write_xlsx(
        tables,
        quality,
        quarantine,
        out_path or xlsx_path(cfg),
        cfg.period_date,
        _is_sample(cfg, quality),
        district=district,
        unit_label=unit_label(settings or {}),
    )


def _workbook_job(cfg: paths.RunConfig, settings: Mapping) -> Path:
    return write_workbook(cfg, settings=settings)


def build_report(
    cfg: paths.RunConfig,
    settings: Mapping | None = None,
    template: Path | str | None = None,
    source: str | None = None,
    notes: list[str] | None = None,
) -> ReportResult:
    """The period's report: ``bao_cao_<period>.docx`` and ``bang_bieu_<period>.xlsx``.

    Settings are loaded when not given. Every note (settings fallbacks, missing tables or
    figures) is logged as a warning and returned for the notebook to print.
    """
    if settings is None:
        settings, source, notes = load_settings(cfg.raw_root, cfg.period, unit=report_unit(cfg))
    notes = list(notes or [])
    # The workbook and the Word report are independent: with a second process allowed
    # (``analysis.parallel``), the workbook is written by a forked worker meanwhile. A worker
    # that fails leaves the workbook to this process, which then raises the error itself.
    pending = parallel.start(_workbook_job, [[cfg]] if parallel.jobs() > 1 else [], (settings,))
    try:
        docx, content = write_docx(cfg, settings, template)
    finally:
        done = pending.results()
    xlsx = done[0][0] if done else None
    if not isinstance(xlsx, Path):
        xlsx = write_workbook(cfg, settings=settings)
    notes += content.notes
    write_settings_record(settings, cfg.tables)
    for note in notes:
        log.warning(note)
    ctx = content.context
    scale = pd.DataFrame([*ctx["scale"], {"level": TOTAL, **ctx["scale_total"]}])
    scale = scale.rename(
        columns={"level": "Cấp học", "n_schools": "Số trường", "n_classes": "Số lớp",
                 "n_pupils": "Số HS"}
    )  # fmt: skip
    appendix = pd.DataFrame(
        [*ctx["appendix"], {"stt": "", "school_name": TOTAL, **ctx["appendix_total"]}]
    ).rename(
        columns={"stt": "STT", "school_name": "Tên trường", "n_staff": "Tổng số CBGVNV",
                 "n_signed": "Số đã có CKS", "coverage": "Tỷ lệ"}
    )  # fmt: skip
    return ReportResult(
        docx,
        xlsx,
        source or "(cài đặt truyền vào)",
        notes,
        content.headline,
        scale,
        appendix,
        draft=content.context["draft"],
        served=served_by_group(settings),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m analysis.report",
        description="Viết báo cáo Word và bảng biểu Excel của một kỳ từ các bảng chỉ số.",
    )
    parser.add_argument("--period", default="", help="kỳ báo cáo YYYY-MM-DD (mặc định: mới nhất)")
    parser.add_argument("--raw-dir", default="", help="thư mục dữ liệu thô (mặc định data/raw)")
    parser.add_argument("--processed-dir", default="", help="mặc định data/processed")
    parser.add_argument("--output-dir", default="", help="mặc định outputs")
    parser.add_argument("--template", default="", help="mẫu Word riêng (.docx)")
    parser.add_argument(
        "--unit",
        default="",
        choices=["", "province", "commune", "district"],
        help="đơn vị báo cáo (mặc định: suy ra từ dữ liệu)",
    )
    args = parser.parse_args(argv)
    from analysis.core.units import UnitChoiceError

    try:
        cfg = paths.RunConfig.from_params(
            args.period, args.raw_dir, args.processed_dir, args.output_dir
        )
        settings, source, notes = load_settings(
            cfg.raw_root, cfg.period, unit=report_unit(cfg, args.unit)
        )
        result = build_report(
            cfg, settings, template=args.template or None, source=source, notes=notes
        )
    except (
        ReportError,
        TemplateError,
        UnitChoiceError,
        paths.PeriodError,
        FileNotFoundError,
    ) as exc:
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
