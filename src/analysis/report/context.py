"""The template's context: every value the Word report shows, as ready-formatted strings.

``build_context`` is the recipe: the heading and wording (from the settings, placeholders
filled), then one function per section of the report: ``_scale`` (I, scale), ``_signatures``
and ``_appendix`` (II.1 and the appendix), ``_infrastructure`` (II.2), ``_status`` /
``_records`` / ``_certificates`` (II.3-II.5, in ``report.status``), ``_change``, ``_by_role``,
``_by_provider``, ``_by_commune`` (the appendix's further tables), ``_figures``;
``table_numbers`` numbers the tables shown. Returns a ``ReportContent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis import paths
from analysis.core import vocab
from analysis.core.fmt import date_line, fmt_date, fmt_int, fmt_pct
from analysis.report.settings import (
    DRAFT_DOTS,
    DRAFT_MARK,
    WORDING_LABELS,
    ReportError,
    missing_settings,
)
from analysis.report.status import _certificates, _records, _status
from analysis.report.wording import (
    appendix_ref,
    as_number,
    fill,
    fmt_plain_int,
    fmt_points,
    fmt_signed_int,
    fmt_speed,
    level_rows,
    title_lines,
    unit_values,
)
from analysis.report.xlsx import SAMPLE_TEXT, sort_by_name

#: The number line of a district's report (Phòng GD&ĐT), as the template writes it.
DISTRICT_NUMBER = "Số: …/BC-PGDĐT"


#: The report's table names a role with its code: "Giáo viên (GV)".
ROLE_LABELS = {code: f"{name} ({code})" for code, name in vocab.ROLE_NAMES.items()}


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
    total = scale[scale["level"] == vocab.TOTAL]
    if total.empty:
        sums = body[["n_schools", "n_classes", "n_pupils"]].sum()
        total_row = row({"level": vocab.TOTAL, **sums.to_dict()})
    else:
        total_row = row(total.iloc[0].to_dict())
    return rows, total_row


def _signatures(
    tables: Mapping[str, pd.DataFrame], level: str, notes: list[str]
) -> tuple[dict, dict | None]:
    by_level = level_rows(tables.get("coverage_by_level"), level)
    blank = {k: "–" for k in ("n_signed", "n_staff", "n_signed_plain", "n_staff_plain")}
    blank["coverage"] = "–"
    if by_level.empty or not (as_number(by_level.iloc[0]["n_staff"]) or 0) > 0:
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
    raw["coverage"] = as_number(r["coverage"])
    return sig, raw


def _appendix(
    tables: Mapping[str, pd.DataFrame], level: str, raw: dict | None, notes: list[str]
) -> tuple[list[dict], dict]:
    schools = level_rows(tables.get("coverage_by_school"), level)
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
    ratio = total_signed / total_staff if as_number(total_staff) else None
    total = {
        "n_staff": fmt_int(total_staff),
        "n_signed": fmt_int(total_signed),
        "coverage": fmt_pct(ratio),
    }
    if raw and (as_number(total_staff), as_number(total_signed)) != (
        raw["n_staff"],
        raw["n_signed"],
    ):
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
    if (
        summary is None
        or summary.empty
        or not (as_number(summary.iloc[0]["n_schools_reporting"]) or 0)
    ):
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
        total = scale.loc[scale["level"] == vocab.TOTAL, "n_schools"]
        if (
            len(total)
            and as_number(total.iloc[0])
            and as_number(total.iloc[0]) > as_number(r["n_schools_reporting"])
        ):
            notes.append(
                f"Hạ tầng CNTT: chỉ {out['n_schools']}/{fmt_int(total.iloc[0])} trường có số "
                "liệu; các con số cơ sở vật chất là tổng của các trường đã báo cáo."
            )
    return out


def _change(tables: Mapping[str, pd.DataFrame], level: str) -> tuple[list[dict], str]:
    change = level_rows(tables.get("coverage_change"), level)
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
    roles = level_rows(tables.get("coverage_by_role"), level)
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
    providers = level_rows(tables.get("coverage_by_provider"), level)
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
            "coverage": fmt_pct(r["coverage"]) if as_number(r["coverage"]) is not None else "–",
            "n_missing": fmt_int(r["n_missing"]),
        }

    body = df[df["commune"] != vocab.TOTAL]
    rows = [{"stt": str(i), **row(r)} for i, (_, r) in enumerate(body.iterrows(), start=1)]
    total = df[df["commune"] == vocab.TOTAL]
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


def _report_level(settings: Mapping) -> str:
    """The level the report is about (``level`` of the settings, Tiểu học by default)."""
    level = settings.get("level", "Tiểu học")
    if level not in vocab.LEVELS:
        raise ReportError(
            f"Cài đặt báo cáo: level = {level!r} không hợp lệ; "
            f"dùng một trong {', '.join(vocab.LEVELS)}."
        )
    return level


def _placeholder_values(settings: Mapping, day, level: str) -> dict[str, str]:
    """The values of the ``{name}`` placeholders (``wording.fill``); ``prev_date`` comes later."""
    values = {
        "district": settings.get("district", ""),
        "level": level,
        "level_upper": level.upper(),
        "as_of": fmt_date(day),
        "year": str(day.year),
        **unit_values(settings.get("_unit")),
    }
    values["place"] = fill(settings.get("place", "") or values["district"], values)
    return values


def _coverage_sections(tables, level: str, values: dict, notes: list[str]) -> dict:
    """Sections I-II.2 and the appendix's tables: scale, signatures, the appendix by school,
    infrastructure, the change since the previous period (sets ``values["prev_date"]``)."""
    scale, scale_total = _scale(tables, notes)
    sig, raw = _signatures(tables, level, notes)
    appendix, appendix_total = _appendix(tables, level, raw, notes)
    infra = _infrastructure(tables, notes)
    change, values["prev_date"] = _change(tables, level)
    return {
        "scale": scale,
        "scale_total": scale_total,
        "sig": sig,
        "infra": infra,
        "appendix": appendix,
        "appendix_total": appendix_total,
        "change": change,
    }


def _breakdown_sections(tables, level: str, values: Mapping) -> dict:
    """Record signing, certificates and the breakdowns by role, provider and commune."""
    records = _records(tables, values["as_of"])
    certificates = _certificates(tables, values["as_of"], 5 if records else 4)
    by_role, by_provider = _by_role(tables, level), _by_provider(tables, level)
    by_commune, by_commune_total, by_commune_line = _by_commune(tables, values)
    return {
        "records": records,
        "certificates": certificates,
        "by_role": by_role,
        "by_provider": by_provider,
        "by_commune": by_commune,
        "by_commune_total": by_commune_total,
        "by_commune_line": by_commune_line,
    }


def _headline(sig: Mapping, level: str, as_of: str) -> str:
    return (
        f"Tính đến {as_of}, tổng số CBGVNV: {sig['n_signed']}/"
        f"{sig['n_staff']} (đạt {sig['coverage']}) cán bộ giáo viên, nhân viên các "
        f"trường {level} đã được trang bị ký số cá nhân."
    )


def _draft_note(settings: Mapping, period: str, notes: list[str]) -> list[str]:
    """The required settings missing everywhere (the report is then a draft), with a note."""
    missing = missing_settings(settings)
    if missing:
        labels = ", ".join(f"{WORDING_LABELS[k]} ({k})" for k in missing)
        notes.append(
            f"Báo cáo là {DRAFT_MARK}: chưa có {labels} trong file cài đặt nào (văn bản để dấu "
            f"chấm). Điền vào data/raw/{period}/bao_cao.toml rồi chạy lại."
        )
    return missing


def _heading(settings: Mapping, text: Mapping, values: Mapping, day, sample, missing) -> dict:
    """The document's heading: the marks, the agencies, the number, the date line, subject."""
    number = text.get("number", "") or DISTRICT_NUMBER
    return {
        "sample": bool(sample),
        "sample_mark": SAMPLE_TEXT,
        "draft": bool(missing),
        "draft_mark": DRAFT_MARK,
        "district": values["district"],
        "parent_agency": text.get("parent_agency", ""),
        "issuing_agency": text.get("issuing_agency", ""),
        "number": number,
        "number_custom": number != DISTRICT_NUMBER,
        "unit": dict(settings.get("_unit") or {"kind": "district"}),
        "date_line": date_line(values["place"], day),
        "subject": text.get("subject", ""),
    }


def _office_wording(text: Mapping, lists: Mapping) -> dict:
    """The office's own words; a missing one is left as dots, as in a draft."""
    directives = [line for line in lists.get("directives", []) if line.strip()]
    return {
        "directives": directives or [DRAFT_DOTS * 2],  # one line of dots
        "infrastructure_intro": text.get("infrastructure_intro", ""),
        "infrastructure_lines": lists.get("infrastructure_lines", []),
        "closing": text.get("closing", ""),
        "recipients": lists.get("recipients", []),
        "signer_mode": text.get("signer_mode", ""),
        "signer_title": text.get("signer_title", ""),
        "signer_name": text.get("signer_name", "").strip() or DRAFT_DOTS,
    }


def _titles(titles: Mapping, text: Mapping, values: Mapping) -> dict:
    """The appendix's titles (from the settings' ``[titles]``, placeholders filled)."""
    return {
        "appendix_title": title_lines(fill(titles.get("appendix", ""), values)),
        "appendix_ref": appendix_ref(text, values["as_of"]),
        "commune_title": "Chữ ký số cá nhân của CBGVNV theo xã/phường, tính đến "
        + values["as_of"]
        + " (tỷ lệ thấp nhất trước)",
        "change_title": fill(titles.get("change", ""), values),
        "role_title": fill(titles.get("role", ""), values),
        "provider_title": fill(titles.get("provider", ""), values),
        "figures_title": fill(titles.get("figures", ""), values),
    }


def _table_numbers(sections: Mapping) -> dict:
    certificates = sections["certificates"]
    return table_numbers(
        bool(sections["records"]),
        bool(sections["change"]),
        bool(sections["by_role"]),
        bool(sections["by_provider"]),
        bool(sections["by_commune"]),
        seal=bool(certificates and certificates["rows"]),
    )


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
    level = _report_level(settings)
    values = _placeholder_values(settings, day, level)
    text = {k: fill(v, values) for k, v in settings.items() if isinstance(v, str)}
    lists = {k: [fill(x, values) for x in v] for k, v in settings.items() if isinstance(v, list)}
    sections = _coverage_sections(tables, level, values, notes)
    captions = settings.get("figure_captions", {})
    figures = _figures(Path(figures_dir) if figures_dir else None, captions, values, notes)
    sections |= _breakdown_sections(tables, level, values)
    headline = _headline(sections["sig"], level, values["as_of"])
    missing = _draft_note(settings, period, notes)
    context = {
        **_heading(settings, text, values, day, sample, missing),
        **_office_wording(text, lists),
        **_titles(dict(settings.get("titles", {})), text, values),
        **sections,
        "as_of": values["as_of"],
        "level": level,
        "table_no": _table_numbers(sections),
        "status": _status(tables, period),
        "headline": headline,
    }
    return ReportContent(context, figures, notes, headline)
