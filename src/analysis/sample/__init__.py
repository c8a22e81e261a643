"""The deterministic sample data sets: ``python -m analysis sample``.

Builds the synthetic district of :mod:`analysis.sample.world` (Long Biên, 2023-2024) from a
seed and renders it into the messy raw exports a district office receives, one folder a
reporting period under ``data/raw/``, plus ``data/raw/school_aliases.csv``,
``data/raw/DU_LIEU_MAU.txt`` and ``data/sample_planted.json`` (what was planted where, and the
totals a correct cleaning must find). Same seed, same files: no clock, one seeded generator.

``python -m analysis sample --large N --out DIR [--format csv|xlsx]`` writes a large synthetic
set instead (benchmarks, never committed): see :func:`analysis.sample.large.write_large`.
``python -m analysis sample --province DIR [--format xlsx|csv]`` writes a synthetic Hà Nội-size
province after the reform (benchmarks, never committed, never into ``data/``): see
:func:`analysis.sample.province.write_province`. The school year 2025-2026 (the periods after
1/7/2025, :mod:`analysis.sample.reform`) is part of the sample; ``--no-reform`` leaves it out.

Options: ``--out DIR`` (default ``data/raw``), ``--seed N`` (default :data:`DEFAULT_SEED`),
``--planted PATH`` (default ``<out>/../sample_planted.json``). The generator overwrites only
the files it writes and never deletes anything.

Modules: :mod:`.world` (the world as clean tables), :mod:`.generator` (:func:`generate`, the
2023-2024 run), :mod:`.cast` (the schools and names with a special role), :mod:`.district`
(the district's exports), :mod:`.messy` (the schools' files in legacy encodings and forms),
:mod:`.planted` (the planted record), :mod:`.text` (cell values as the exports write them),
:mod:`.xlsx` (the sheet writer), :mod:`.reform` (the school year 2025-2026), :mod:`.certs`
(the providers' subscriber lists), :mod:`.large` and :mod:`.province` (benchmark sets).
"""

from __future__ import annotations

import sys
from pathlib import Path

from analysis import cli, paths
from analysis.core.vocab import TH, TOTAL
from analysis.sample.generator import DEFAULT_SEED, PLANTED_FILE, generate
from analysis.sample.large import write_large
from analysis.sample.province import write_province
from analysis.sample.text import vn_thousands
from analysis.sample.world import (
    PERIODS,
    REF,
)

__all__ = ["DEFAULT_SEED", "PLANTED_FILE", "generate", "main"]


def _dir_size(root: Path, files: list[str]) -> int:
    return sum((root / f).stat().st_size for f in files if (root / f).is_file())


def _province(args) -> int:
    """``--province DIR``: a Hà Nội-size province (never into ``data/``)."""
    target = Path(args.province).resolve()
    data = paths.DATA_DIR.resolve()
    if target == data or data in target.parents:
        print(
            f"--province không ghi vào {paths.DATA_DIR} (dữ liệu mẫu của dự án): chọn một "
            "thư mục khác, ví dụ /tmp/tinh_mau.",
            file=sys.stderr,
        )
        return 2
    seed = {} if args.seed is None else {"seed": args.seed}
    info = write_province(target, fmt=args.format or "xlsx", **seed)
    print(
        f"Đã sinh tỉnh mẫu vào {target}: {info['n_communes']} xã/phường, "
        f"{vn_thousands(info['n_schools'])} trường ({info['n_multi_level']} trường nhiều "
        f"cấp học), {vn_thousands(info['n_staff'])} CBGVNV, {len(info['files'])} file."
    )
    return 0


def _large(args, out: Path) -> int:
    """``--large N``: a large synthetic set for the benchmarks."""
    if args.large <= 0:
        print("--large cần một số dòng dương, ví dụ --large 1660000", file=sys.stderr)
        return 2
    info = write_large(out, args.large, fmt=args.format or "csv", seed=args.seed)
    print(
        f"Đã sinh {info['n_staff']:,} dòng CBGVNV, {info['n_schools']:,} trường, "
        f"{info['n_districts']} quận/huyện vào {out} ({len(info['files'])} file)."
    )
    return 0


def _report(planted: dict, out: Path) -> None:
    """What the sample run wrote, and the published figures it reproduces."""
    files = planted["files"] + planted.get("reform", {}).get("files", [])
    size = _dir_size(out, files) / 1e6
    print(
        f"Đã sinh dữ liệu mẫu vào {out}: {len(files)} file ({size:.1f} MB), "
        f"{len(planted['defects'])} lỗi cài sẵn."
    )
    ref = planted["expected"][PERIODS[REF]][TH]
    print(f"Kỳ {PERIODS[REF]}, Tiểu học: {ref['n_signed']}/{ref['n_staff']} CBGVNV có chữ ký số.")
    if "reform" in planted:
        last = planted["reform"]["periods"][-1]
        tot = planted["reform"]["expected"][last][TOTAL]
        print(
            f"Năm học 2025-2026 (kỳ {', '.join(planted['reform']['periods'])}): "
            f"{tot['n_schools']} trường, kỳ {last}: {tot['n_signed']}/{tot['n_staff']} "
            "CBGVNV có chữ ký số."
        )
        c = planted["reform"].get("certs")
        if c:
            e = c["expected"].values()
            print(
                f"Kỳ {c['period']} (chữ ký số theo danh sách thuê bao của nhà cung cấp): "
                f"{sum(x['n_signed'] for x in e)}/{sum(x['n_staff'] for x in e)} CBGVNV có "
                f"chữ ký số, {c['institutions']['ready']} trường có chữ ký số tổ chức."
            )


def main(argv: list[str] | None = None) -> int:
    """``python -m analysis sample`` without the stops wrapper (the options: ``analysis.cli``)."""
    return cli.run_command("sample", argv)


def command(args) -> int:
    """Write the sample data set (or, with ``--province``/``--large``, a benchmark set)."""
    out = Path(args.out)
    if args.seed is None and args.province is None:
        args.seed = DEFAULT_SEED
    if args.province is not None:
        return _province(args)
    if args.large is not None:
        return _large(args, out)
    planted = generate(out, args.seed, args.planted, reform=not args.no_reform)
    _report(planted, out)
    return 0
