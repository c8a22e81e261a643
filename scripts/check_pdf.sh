#!/bin/sh
# Convert a period's Word report to PDF with LibreOffice, render its pages (pdftoppm -r 60)
# and check that the tables' figures survived and the page count is plausible.
#   scripts/check_pdf.sh 2024-04-19 [--pages-dir /tmp/trang]
# Needs: apt-get install -y --no-install-recommends libreoffice-writer-nogui poppler-utils
set -eu
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
PY="$ROOT/.venv/bin/python"
[ -x "$PY" ] || PY=python3
exec "$PY" -m analysis check-pdf "$@"
