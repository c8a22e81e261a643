"""The report settings (``bao_cao.toml``): the wording that is not data, and where it came from.

Each key comes from the most specific file that has it (``load_settings``):

1. ``data/raw/<period>/bao_cao.toml``  (this period's own wording),
2. the latest earlier period's ``bao_cao.toml`` (the carry-forward: ``settings_layers``),
3. ``data/raw/bao_cao.toml``           (district-wide wording),
4. ``templates/bao_cao_mac_dinh.toml`` (package defaults: the unit's heading, recipients,
   signer's title, layout; no wording of the office's own).

Every file is type-checked (``_check_settings``); ``settings["_sources"]`` records the file of
every key, ``served_by_group`` / ``settings_summary`` say which file served each group, and
``write_settings_record`` keeps it in ``tables/report_settings.json``. A required setting
(``REQUIRED_KEYS``) missing everywhere makes the report a draft (``missing_settings``).
"""

from __future__ import annotations

import json
import tomllib
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from analysis import paths
from analysis.core import io

SETTINGS_FILE = "bao_cao.toml"


DEFAULTS_PATH = paths.TEMPLATES_DIR / "bao_cao_mac_dinh.toml"


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


#: The office's own words, as the draft note names them (a required one missing makes a draft).
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
#: Keys that depend on the unit (the heading, then the office's own words): a province's or
#: commune's report never takes them from the top level of a district's period (before
#: 1/7/2025), nor a commune of a fan-out from the top level at all (the province's wording):
#: only from its ``[xa."<tên xã>"]`` table.
UNIT_KEYS = ("district", "place", "parent_agency", "issuing_agency", "number", *WORDING_LABELS)


class ReportError(ValueError):
    """Bad settings or missing inputs of the report stage (Vietnamese message)."""


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
        elif key in NESTED_KEYS:
            out[key] = _check_nested(key, value, path, notes)
        else:
            out[key] = _check_value(key, value, path, where)
    return out


def _check_nested(key: str, value, path: Path, notes: list[str]) -> dict:
    """A table of tables (``[xa."Phường Bồ Đề"]``): every inner table checked like a file."""
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ReportError(
            f"File cài đặt báo cáo {path}: '{key}' phải là các bảng dạng "
            f'[{key}."Phường Bồ Đề"], mỗi bảng gồm các dòng khóa = giá trị. Sửa lại '
            "rồi chạy lại."
        )
    return {
        unicodedata.normalize("NFC", name): _check_settings(inner, path, notes, f'{key}."{name}"')
        for name, inner in sorted(value.items())
    }


def _check_value(key: str, value, path: Path, where: str):
    """One setting of its type (``SETTING_TYPES``), its text in NFC; a ``template`` path is
    made absolute against the settings file's folder."""
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
    return value


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
    raw_root = Path(raw_root)
    defaults_path = Path(defaults_path)
    notes: list[str] = []
    unit_info = _unit_dict(unit)
    settings, sources = _package_defaults(defaults_path, unit_info["kind"], notes)
    layers = _unit_layers(raw_root, period, unit_info["kind"], notes)
    for path in layers:
        layer = _layer(path, unit_info, fan_out, notes)
        settings = _merge(settings, layer)
        sources.update({key: _label(path, raw_root) for key in layer})
    source = str(layers[-1]) if layers else f"{DEFAULTS_LABEL} ({defaults_path})"
    settings["district"] = settings.get("district", "")
    settings["_sources"] = sources
    settings["_unit"] = _with_province(unit_info, settings)
    note = _period_file_note(period, raw_root / period / SETTINGS_FILE, sources)
    if note:
        notes.insert(0, note)
    return settings, source, notes


def _package_defaults(defaults_path: Path, kind: str, notes: list[str]) -> tuple[dict, dict]:
    """The package defaults with the unit's ``[don_vi.<kind>]`` table over them, and the
    source of each key (``DEFAULTS_LABEL``)."""
    settings = _check_settings(_read_toml(defaults_path), defaults_path, notes)
    sources = {key: DEFAULTS_LABEL for key in settings if key not in NESTED_KEYS}
    unit_defaults = settings.pop("don_vi", {}).get(kind, {})
    settings.pop("xa", None)
    return _merge(settings, unit_defaults), sources


def _unit_layers(raw_root: Path, period: str, kind: str, notes: list[str]) -> list[Path]:
    """The settings files a unit's report reads: a province's or a commune's leaves out the
    periods before 1/7/2025 (a district's wording), with a note naming them."""
    from analysis.core.units import REFORM_DATE

    since = REFORM_DATE.isoformat() if kind != "district" else ""
    layers = settings_layers(raw_root, period, since)
    skipped = [p for p in settings_layers(raw_root, period) if p not in layers]
    if skipped:
        notes.append(
            f"Báo cáo của {kind == 'province' and 'tỉnh/thành phố' or 'xã/phường'} không dùng "
            f"lời văn của các kỳ trước 1/7/2025 (cấp quận/huyện): bỏ qua "
            f"{', '.join(_label(p, raw_root) for p in skipped)}."
        )
    return layers


def _layer(path: Path, unit_info: Mapping, fan_out: bool, notes: list[str]) -> dict:
    """One settings file as the unit reads it: a commune's own ``[xa."<tên xã>"]`` table over
    the top level; in a fan-out, the top level's ``UNIT_KEYS`` (the province's) left out."""
    layer = _check_settings(_read_toml(path), path, notes)
    # (a district's or a province's report keeps the ``xa`` tables as read)
    own = (
        _own_table(layer.pop("xa", {}), unit_info["name"]) if unit_info["kind"] == "commune" else {}
    )
    layer.pop("don_vi", None)
    if fan_out:
        layer = {k: v for k, v in layer.items() if k not in UNIT_KEYS}
    return _merge(layer, own)


def _with_province(unit_info: dict, settings: Mapping) -> dict:
    """The unit, its province taken from the settings when the school list has none."""
    if not unit_info["province"] and settings.get("province"):  # no Tỉnh/Thành phố column
        unit_info["province"] = settings["province"]
        if unit_info["kind"] == "province":
            unit_info["name"] = settings["province"]
    return unit_info


def _period_file_note(period: str, period_path: Path, sources: Mapping) -> str:
    """The note for a period without its own settings file: whose wording it carries."""
    if period_path.is_file():
        return ""
    served = sorted({sources[k] for k in sources if sources[k] != DEFAULTS_LABEL})
    if served:
        return (
            f"Kỳ {period} chưa có file cài đặt riêng ({period_path}): lời văn lấy từ "
            f"{', '.join(served)}. Kiểm tra lại (nhất là công tác chỉ đạo) trước khi gửi; "
            "muốn sửa thì chép file đó vào thư mục của kỳ rồi sửa."
        )
    return (
        f"Kỳ {period} không có file cài đặt báo cáo ({period_path}), các kỳ trước cũng "
        "không có: lời văn lấy từ mặc định của phần mềm."
    )


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
    text = json.dumps(settings_record(settings), ensure_ascii=False, indent=2, sort_keys=True)
    return io.write_bytes(Path(tables_dir) / SETTINGS_JSON, (text + "\n").encode("utf-8"))
