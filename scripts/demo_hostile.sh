#!/usr/bin/env bash
# Each class of issue 12 on the repository's hostile corpus (tests/hostile), through the real
# command line: a raw folder with the fictional district's school list and one hostile file,
# cleaned by `python -m analysis clean`; prints the command's line and what quality.json and
# quarantine.csv say about that file. Usage: bash scripts/demo_hostile.sh [python]
set -u
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
P=2025-03-14
H=tests/hostile
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export HOCBASO_PSEUDONYM_KEY=${HOCBASO_PSEUDONYM_KEY:-6465 6d6f}

case_() {  # name, then files (fixture[:name inside the period])
  local name=$1; shift
  local raw=$work/$name/raw
  mkdir -p "$raw/$P"
  cp "$H/district/xlsx/DanhSachTruong.xlsx" "$raw/$P/"
  for f in "$@"; do
    local src=${f%%:*} dst=${f#*:}
    [ "$dst" = "$f" ] && dst=$(basename "$src")
    mkdir -p "$(dirname "$raw/$P/$dst")"
    cp "$src" "$raw/$P/$dst"
  done
  echo "== $name"
  (ulimit -v 4000000  # 4 GB: a reader that allocates the declared sheet size fails here
   "$PY" -m analysis clean --period $P --raw-dir "$raw" --processed-dir "$work/$name/proc" \
     > "$work/$name.out" 2>&1; echo "   exit $?" >> "$work/$name.out")
  cat "$work/$name.out"
  local q=$work/$name/proc/$P
  [ -f "$q/quality.json" ] && "$PY" - "$q" <<'PYEOF'
import json, sys, csv
q = json.load(open(sys.argv[1] + "/quality.json", encoding="utf-8"))
for i in q["inputs"]:
    if "DanhSachTruong" in i["file"]:
        continue
    nd = sum(i["non_data"].values())
    ok = i["rows_read"] == i["kept"] + i["quarantined"] + nd
    print(f"   {i['file']} [{i['sheet']}] {i['kind']}: read {i['rows_read']} = kept {i['kept']}"
          f" + quarantined {i['quarantined']} + non-data {nd} ({'balanced' if ok else 'NOT balanced'})")
for u in q.get("unread_files", []):
    print(f"   not read: {u['file']}: {u['reason']}")
for w in q["warnings"]:
    print(f"   warning {w['code']}: {w['message'][:150]}")
rows = list(csv.DictReader(open(sys.argv[1] + "/quarantine.csv", encoding="utf-8-sig")))
for r in rows[:4]:
    print(f"   quarantine {r['reason']} row {r['source_row']}: {r['message'][:150]}")
if len(rows) > 4:
    print(f"   ... {len(rows)} quarantined rows in all")
PYEOF
}

case_ 1-level-binding "$H/level_binding/CBGVNV_cap_hoc_trong_ten.csv"
case_ 2-leading-zeros "$H/code_width/DanhSachTruong_ma_so.xlsx:DanhSachTruong.xlsx" "$H/code_width/CBGVNV_theo_ma.csv"
case_ 3-csv-cr-only "$H/staff_text/CBGVNV_mac_cr.csv"
case_ 3-csv-mixed "$H/staff_text/CBGVNV_mixed_endings.csv"
case_ 4-subfolder-ods-txt "$H/subfolder/Gửi bổ sung/TH_SaoMai_bo_sung.csv:Gửi bổ sung/TH_SaoMai_bo_sung.csv" \
  "$H/district/ods/CBGVNV.ods" "$H/staff_text/CBGVNV_unicode_text.txt" \
  "$H/not_read/huong_dan.pdf" "$H/not_read/~\$lock.xlsx" "$H/not_read/Thumbs.db"
case_ 5-formula-no-value "$H/formulas/CKS_cong_thuc.xlsx"
case_ 6-stray-cell-XFD1048576 "$H/xlsx_dimension/CBGVNV_stray_XFD1048576.xlsx"
case_ 6-dimension-A1-C4 "$H/xlsx_dimension/CBGVNV_dimension_A1_C4.xlsx"
case_ 7-html-as-xls-bom-meta "$H/html_xls/CBGVNV_web_export_bom_meta.xls"
case_ 8-injection "$H/injection/CBGVNV_injection.csv"
case_ 9-free-text "$H/free_text/CBGVNV_free_text.xlsx"
case_ 10-header-row-25 "$H/bad_files/CBGVNV_header_row25.csv"
case_ 10-csv-named-xlsx "$H/bad_files/CBGVNV_csv_named.xlsx"
case_ 10-unknown-encoding "$H/bad_files/CBGVNV_utf32.csv"
