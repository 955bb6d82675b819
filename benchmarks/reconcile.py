"""Reconciliation benchmark: two 10,000,000-row datasets compared on 5 items (issue 12, Art 11(2)).

Prints one table: wall time and peak RSS of each variant, each run in its own child process (so
the RSS is that variant's alone), and the ratio to the hand-written DuckDB SQL measured in the
same run. Targets: our engine within 1.5x of the hand-written SQL, at least 5x faster than
pandas, and completing with DuckDB's memory limit at 2 GB (spilling to disk).

    .venv/bin/python benchmarks/reconcile.py                       # 10,000,000 rows a side
    .venv/bin/python benchmarks/reconcile.py --rows 1000000 --keep /tmp/rc   # smaller; keep the data

The data are generated inside DuckDB (no Python loop) as two Parquet files, keyed by valid
GB 11643 identity numbers, with five items: name, sex, birth date, address, phone. Planted by
key number i (m = i mod 100): m = 0 only in the primary source, m = 1 only in the secondary copy
(about 1 % missing each side); m = 2, 3 one item changed in the copy (2 % of keys, spread over
the five items); m = 10..19 written differently in the copy but equal after normalisation
(full-width digits, padded or doubled spaces, 2024年1月2日 / 20240102 / 2024/1/2 dates, 15-digit
identity numbers, lower-case x); every thousandth key of m = 4 (m = 6) has a broken check digit in
the copy (in the primary); every thousandth key of m = 5 occurs twice in the copy. Every variant's
counts are checked against the planted ones, so a fast wrong answer cannot pass.

Variants, all producing the same counts and the same discrepancy rows in a Parquet file:

* engine: ``govshare.quality.reconcile.reconcile`` with the default rules and ``key_kind="id_number"``;
* hand-written DuckDB SQL: the same normalisation and checks written directly as SQL (it uses the
  identity-number macros of ``core.identifiers``, which are plain SQL);
* pandas: the same comparison with vectorised pandas/NumPy (pyarrow-backed strings);
* engine with ``memory_limit='2GB'``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb

from govshare.core.identifiers import SAMPLE_REGIONS, install_macros

ITEMS = ["姓名", "性别", "出生日期", "住址", "联系电话"]
KEY = "公民身份号码"
AS_OF = dt.date(2026, 11, 26)
FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
HALFWIDTH = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


# --- data ----------------------------------------------------------------------------------------


def generate(n: int, folder: Path) -> dict[str, object]:
    """Write secondary.parquet and primary.parquet for keys 0..n-1; return the planted counts."""
    con = duckdb.connect()
    install_macros(con)
    regions = "[" + ",".join(f"'{r}'" for r in SAMPLE_REGIONS) + "]"
    r = len(SAMPLE_REGIONS)
    # Key i: region i mod r, birth day (i div r) mod 25,000 from 1940-01-01, sequence i div (r*25,000):
    # distinct for up to 2.2 billion keys.
    con.execute(f"""
        CREATE TEMP MACRO first17(i) AS ({regions}[(i % {r})::INT + 1]
            || strftime(DATE '1940-01-01' + ((i // {r}) % 25000)::INT, '%Y%m%d')
            || lpad(((i // ({r} * 25000)) % 1000)::VARCHAR, 3, '0'))""")
    con.execute(
        """
        CREATE TEMP TABLE base AS
        SELECT i, i % 100 AS m, (i // 100) % 5 AS which, (i // 100) % 10 AS tenth, id, h,
               ['张','王','李','赵','刘','陈','杨','黄','周','吴'][(h % 10)::INT + 1]
                 || ['伟','芳','娜','秀英','敏','静','丽','强','磊','军'][((h // 10) % 10)::INT + 1] AS name,
               CASE WHEN h % 2 = 0 THEN '男' ELSE '女' END AS sex,
               substr(id, 7, 4) || '-' || substr(id, 11, 2) || '-' || substr(id, 13, 2) AS birth,
               '江苏省南京市' || ['玄武区','秦淮区','建邺区','鼓楼区'][((h // 100) % 4)::INT + 1]
                 || ['中山路','北京东路','汉中路','广州路'][((h // 400) % 4)::INT + 1]
                 || ((h // 1600) % 500 + 1)::VARCHAR || '号' AS addr,
               '13' || lpad(((h // 7) % 1000000000)::VARCHAR, 9, '0') AS phone
        FROM (SELECT i, f || gs_id_check_char(f) AS id, hash(i * 7919) AS h
              FROM (SELECT i, first17(i) AS f FROM range(?) t(i)))""",
        [n],
    )
    # The copy: changed (m = 2, 3), differently written (m = 10..19), broken keys (m = 4), doubled rows (m = 5).
    copy_sql = f"""
        SELECT i, m, tenth,
          CASE WHEN m = 4 AND tenth = 0
                 THEN substr(id, 1, 17) || CASE WHEN substr(id, 18, 1) = '0' THEN '1' ELSE '0' END
               WHEN m = 15 AND substr(id, 7, 2) = '19' THEN substr(id, 1, 6) || substr(id, 9, 9)
               WHEN m = 16 THEN lower(id)
               WHEN m = 17 THEN ' ' || id || ' '
               ELSE id END AS "{KEY}",
          CASE WHEN m IN (2, 3) AND which = 0 THEN name || '某'
               WHEN m = 10 THEN '\u3000' || name || '  '
               ELSE name END AS "姓名",
          CASE WHEN m IN (2, 3) AND which = 1 THEN CASE WHEN sex = '男' THEN '女' ELSE '男' END
               ELSE sex END AS "性别",
          CASE WHEN m IN (2, 3) AND which = 2 THEN strftime(birth::DATE + 1, '%Y-%m-%d')
               WHEN m = 11 THEN strftime(birth::DATE, '%Y年%-m月%-d日')
               WHEN m = 12 THEN strftime(birth::DATE, '%Y%m%d')
               WHEN m = 13 THEN strftime(birth::DATE, '%Y/%-m/%-d')
               ELSE birth END AS "出生日期",
          CASE WHEN m IN (2, 3) AND which = 3 THEN replace(addr, '号', '0号')
               WHEN m = 14 THEN translate(addr, '0123456789', '０１２３４５６７８９')
               ELSE addr END AS "住址",
          CASE WHEN m IN (2, 3) AND which = 4
                 THEN substr(phone, 1, 10) || ((substr(phone, 11, 1)::INT + 1) % 10)::VARCHAR
               WHEN m = 18 THEN '  ' || phone
               ELSE phone END AS "联系电话"
        FROM base"""
    con.execute(f"""
        COPY (SELECT * EXCLUDE (i, m, tenth) FROM ({copy_sql}) WHERE m <> 0
              UNION ALL
              SELECT * EXCLUDE (i, m, tenth) FROM ({copy_sql}) WHERE m = 5 AND tenth = 0)
        TO '{folder / "secondary.parquet"}' (FORMAT parquet)""")
    con.execute(f"""
        COPY (SELECT CASE WHEN m = 6 AND tenth = 0
                          THEN substr(id, 1, 17) || CASE WHEN substr(id, 18, 1) = '0' THEN '1' ELSE '0' END
                          ELSE id END AS "{KEY}",
                     name AS "姓名", sex AS "性别", birth::DATE AS "出生日期", addr AS "住址", phone AS "联系电话"
              FROM base WHERE m <> 1)
        TO '{folder / "primary.parquet"}' (FORMAT parquet)""")
    c = dict(
        zip(
            ["m0", "m1", "inv_s", "inv_p", "dup", "rows"],
            con.execute("""SELECT count(*) FILTER (m = 0), count(*) FILTER (m = 1),
                              count(*) FILTER (m = 4 AND tenth = 0), count(*) FILTER (m = 6 AND tenth = 0),
                              count(*) FILTER (m = 5 AND tenth = 0), count(*) FROM base""").fetchone(),
            strict=True,
        )
    )
    per_item = [
        v
        for (v,) in con.execute(
            "SELECT count(*) FILTER (m IN (2, 3) AND which = w) FROM base, range(5) t(w) GROUP BY w ORDER BY w"
        ).fetchall()
    ]
    con.close()
    expected = {
        "rows_secondary": c["rows"] - c["m0"] + c["dup"],
        "rows_primary": c["rows"] - c["m1"],
        "invalid_secondary": c["inv_s"],
        "invalid_primary": c["inv_p"],
        "duplicate_keys_secondary": c["dup"],
        "duplicate_keys_primary": 0,
        "missing_in_primary": c["m1"] + c["inv_p"],
        "missing_in_secondary": c["m0"] + c["inv_s"],
        "duplicate_not_compared": c["dup"],
        "compared": c["rows"] - c["m0"] - c["m1"] - c["inv_s"] - c["inv_p"] - c["dup"],
        "mismatched": per_item,
    }
    expected["discrepancy_rows"] = (
        expected["invalid_secondary"]
        + expected["invalid_primary"]
        + c["dup"]
        + expected["missing_in_primary"]
        + expected["missing_in_secondary"]
        + sum(per_item)
    )
    return expected


# --- variants (each runs in a child process: ``--variant NAME``) -----------------------------------

COUNT_KEYS = [
    "rows_secondary",
    "rows_primary",
    "invalid_secondary",
    "invalid_primary",
    "duplicate_keys_secondary",
    "duplicate_keys_primary",
    "missing_in_primary",
    "missing_in_secondary",
    "duplicate_not_compared",
    "compared",
    "mismatched",
    "discrepancy_rows",
]


def run_engine(folder: Path, out: Path, memory_limit: str, spill: Path) -> dict[str, object]:
    from govshare.quality.reconcile import Item, reconcile

    items = [Item(name, kind="date" if name == "出生日期" else "text") for name in ITEMS]
    r = reconcile(
        folder / "secondary.parquet",
        folder / "primary.parquet",
        key=KEY,
        items=items,
        key_kind="id_number",
        as_of=AS_OF,
        parquet_path=out,
        memory_limit=memory_limit,
        temp_directory=spill,
    )
    return {
        "rows_secondary": r.secondary.rows,
        "rows_primary": r.primary.rows,
        "invalid_secondary": r.secondary.invalid_rows,
        "invalid_primary": r.primary.invalid_rows,
        "duplicate_keys_secondary": r.secondary.duplicate_keys,
        "duplicate_keys_primary": r.primary.duplicate_keys,
        "missing_in_primary": r.missing_in_primary,
        "missing_in_secondary": r.missing_in_secondary,
        "duplicate_not_compared": r.duplicate_not_compared,
        "compared": r.compared,
        "mismatched": [i.mismatched for i in r.items],
        "discrepancy_rows": r.discrepancy_rows,
    }


_YMD = r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*日?"


def _text(x: str) -> str:
    # Written as a careful hand would: translate() is slow, so only values holding a full-width
    # character go through it, and one character-class test lets the values no rule would change
    # (nearly all) skip the chain.
    wide = (
        "CASE WHEN regexp_matches("
        + x
        + ", '[\\x{FF01}-\\x{FF5E}\\x{3000}]') THEN translate("
        + x
        + ", '"
        + FULLWIDTH
        + "', '"
        + HALFWIDTH.replace("'", "''")
        + "') ELSE "
        + x
        + " END"
    )
    chain = "upper(trim(regexp_replace(" + wide + ", '[\\s\\p{Z}]+', ' ', 'g')))"
    return (
        "CASE WHEN regexp_matches("
        + x
        + ", '[\\x{FF01}-\\x{FF5E}\\x{3000}\\s\\p{Z}\\p{Ll}\\p{Lt}]') THEN "
        + chain
        + " ELSE "
        + x
        + " END"
    )


def _date(x: str) -> str:
    return (
        "CASE WHEN length("
        + x
        + ") = 10 AND strftime(TRY_CAST("
        + x
        + " AS DATE), '%Y-%m-%d') = "
        + x
        + " THEN "
        + x
        + " WHEN regexp_full_match("
        + x
        + ", '"
        + _YMD
        + "([ T].*)?') THEN coalesce(strftime(TRY_CAST("
        "regexp_replace(" + x + ", '^" + _YMD + ".*$', '\\1-\\2-\\3') AS DATE), '%Y-%m-%d'), " + x + ") "
        "WHEN regexp_full_match("
        + x
        + ", '[0-9]{8}') THEN coalesce(strftime(TRY_CAST(TRY_STRPTIME("
        + x
        + ", '%Y%m%d') AS DATE), '%Y-%m-%d'), "
        + x
        + ") ELSE "
        + x
        + " END"
    )


def run_sql(folder: Path, out: Path, memory_limit: str, spill: Path) -> dict[str, object]:
    """The same comparison written by hand as DuckDB SQL."""
    con = duckdb.connect(config={"memory_limit": memory_limit, "temp_directory": str(spill)})
    install_macros(con)
    con.execute(f"CREATE TEMP MACRO norm_text(x) AS ({_text('x')})")
    cols = ['"姓名"', '"性别"', 'CAST("出生日期" AS VARCHAR)', '"住址"', '"联系电话"']
    for side, file in (("s", "secondary"), ("p", "primary")):
        raw = ", ".join(f"{c} AS r{i}, norm_text({c}) AS t{i}" for i, c in enumerate(cols))
        norm = ", ".join(f"r{i}, nullif({_date(f't{i}') if i == 2 else f't{i}'}, '') AS n{i}" for i in range(5))
        fields = ["raw_key"] + [f"n{i}" for i in range(5)] + [f"r{i}" for i in range(5)]
        packed = "{" + ", ".join(f"'{f}': {f}" for f in fields) + "}"  # a key's first row: one arg_min
        unpacked = ", ".join(f"v.{f} AS {f}" for f in fields)
        con.execute(f"""
            CREATE TEMP TABLE {side} AS
            SELECT k, c, row, {unpacked}, gs_id_reason(k, DATE '{AS_OF}') AS reason FROM (
              SELECT k, count(*) AS c, min(row) AS row, arg_min({packed}, row) AS v
              FROM (SELECT row, raw_key, nullif(gs_id_upgrade(tk), '') AS k, {norm}
                    FROM (SELECT file_row_number + 1 AS row, "{KEY}" AS raw_key, norm_text("{KEY}") AS tk, {raw}
                          FROM read_parquet('{folder / (file + ".parquet")}', file_row_number = true)))
              GROUP BY k)""")
    values = ", ".join(f"s.n{i} AS sn{i}, p.n{i} AS pn{i}, s.r{i} AS sr{i}, p.r{i} AS pr{i}" for i in range(5))
    differs = " OR ".join(f"s.n{i} IS DISTINCT FROM p.n{i}" for i in range(5))
    con.execute(f"""
        CREATE TEMP TABLE d AS
        SELECT coalesce(s.k, p.k) AS k,
               CASE WHEN p.k IS NULL THEN 'missing_in_primary' WHEN s.k IS NULL THEN 'missing_in_secondary'
                    WHEN s.c > 1 OR p.c > 1 THEN 'duplicate_not_compared' ELSE 'mismatch' END AS status,
               s.row AS srow, p.row AS prow, {values}
        FROM (SELECT * FROM s WHERE reason IS NULL) s FULL JOIN (SELECT * FROM p WHERE reason IS NULL) p ON s.k = p.k
        WHERE s.k IS NULL OR p.k IS NULL OR s.c > 1 OR p.c > 1 OR {differs}""")
    mismatches = " UNION ALL ".join(
        f"SELECT 7, {i}, 'mismatch', k, '{ITEMS[i]}', sr{i}, pr{i}, sn{i}, pn{i}, srow, prow, NULL, NULL FROM d "
        f"WHERE status = 'mismatch' AND sn{i} IS DISTINCT FROM pn{i}"
        for i in range(5)
    )
    con.execute(f"""
        COPY (SELECT * EXCLUDE (o, i) FROM (
            SELECT 1 AS o, 0 AS i, 'invalid_key_secondary' AS kind, raw_key AS key, NULL AS item,
                   NULL AS secondary_value, NULL AS primary_value, NULL AS secondary_normalized,
                   NULL AS primary_normalized, row AS secondary_row, NULL AS primary_row, c AS occurrences, reason
            FROM s WHERE reason IS NOT NULL
            UNION ALL SELECT 2, 0, 'invalid_key_primary', raw_key, NULL, NULL, NULL, NULL, NULL, NULL, row, c, reason
            FROM p WHERE reason IS NOT NULL
            UNION ALL SELECT 3, 0, 'duplicate_key_secondary', k, NULL, NULL, NULL, NULL, NULL, row, NULL, c, NULL
            FROM s WHERE reason IS NULL AND c > 1
            UNION ALL SELECT 4, 0, 'duplicate_key_primary', k, NULL, NULL, NULL, NULL, NULL, NULL, row, c, NULL
            FROM p WHERE reason IS NULL AND c > 1
            UNION ALL SELECT 5, 0, 'missing_in_primary', k, NULL, NULL, NULL, NULL, NULL, srow, NULL, NULL, NULL
            FROM d WHERE status = 'missing_in_primary'
            UNION ALL SELECT 6, 0, 'missing_in_secondary', k, NULL, NULL, NULL, NULL, NULL, NULL, prow, NULL, NULL
            FROM d WHERE status = 'missing_in_secondary'
            UNION ALL {mismatches})
          ORDER BY o, coalesce(secondary_row, primary_row), i)
        TO '{out}' (FORMAT parquet, COMPRESSION zstd)""")
    side = {
        t: con.execute(
            "SELECT sum(c), coalesce(sum(c) FILTER (reason IS NOT NULL), 0), "
            f"count(*) FILTER (reason IS NULL AND c > 1) FROM {t}"
        ).fetchone()
        for t in ("s", "p")
    }
    per_item = ", ".join(f"count(*) FILTER (status = 'mismatch' AND sn{i} IS DISTINCT FROM pn{i})" for i in range(5))
    mp, ms, dnc, *mism = con.execute(
        "SELECT count(*) FILTER (status = 'missing_in_primary'), count(*) FILTER (status = 'missing_in_secondary'), "
        f"count(*) FILTER (status = 'duplicate_not_compared'), {per_item} FROM d"
    ).fetchone()
    valid_s = con.execute("SELECT count(*) FROM s WHERE reason IS NULL").fetchone()[0]
    (written,) = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
    return {
        "rows_secondary": side["s"][0],
        "rows_primary": side["p"][0],
        "invalid_secondary": side["s"][1],
        "invalid_primary": side["p"][1],
        "duplicate_keys_secondary": side["s"][2],
        "duplicate_keys_primary": side["p"][2],
        "missing_in_primary": mp,
        "missing_in_secondary": ms,
        "duplicate_not_compared": dnc,
        "compared": valid_s - mp - dnc,
        "mismatched": list(mism),
        "discrepancy_rows": written,
    }


def run_pandas(folder: Path, out: Path, memory_limit: str, spill: Path) -> dict[str, object]:
    """The same comparison in pandas (vectorised string methods, NumPy for the check digits)."""
    import numpy as np
    import pandas as pd

    from govshare.core.identifiers import ID_CHECK_CHARS, ID_WEIGHTS, PROVINCE_PREFIXES

    table = str.maketrans(FULLWIDTH, HALFWIDTH)
    weights = np.array(ID_WEIGHTS, dtype=np.int64)
    checks = np.array(list(ID_CHECK_CHARS))

    def text(col: pd.Series) -> pd.Series:
        # The same shortcuts as the SQL: only values a rule would change go through the chain.
        todo = col.str.contains(r"[\uff01-\uff5e\u3000\s]", regex=True).fillna(False) | (col != col.str.upper())
        if not todo.any():
            return col
        part = col[todo]
        wide = part.str.contains("[\uff01-\uff5e\u3000]", regex=True).fillna(False)
        if wide.any():
            part = part.copy()
            part[wide] = part[wide].str.translate(table)
        col = col.copy()
        col[todo] = part.str.replace(r"\s+", " ", regex=True).str.strip().str.upper()
        return col

    def check_char(first17: pd.Series) -> np.ndarray:
        digits = np.frombuffer("".join(first17.tolist()).encode("ascii"), dtype=np.uint8).reshape(-1, 17)
        return checks[((digits.astype(np.int64) - 48) @ weights) % 11]

    def as_date(parts: pd.Series) -> pd.Series:
        return pd.to_datetime(parts, format="%Y-%m-%d", errors="coerce")

    def date(col: pd.Series) -> pd.Series:
        iso = (col.str.len() == 10) & (as_date(col).dt.strftime("%Y-%m-%d") == col).fillna(False)
        if iso.all():
            return col
        rest = col[~iso]
        g = rest.str.extract(r"^" + _YMD.replace("\\-", "-") + r"(?:[ T].*)?$")
        ok = g[0].notna()
        parsed = as_date((g[0] + "-" + g[1].str.zfill(2) + "-" + g[2].str.zfill(2)).where(ok))
        out = rest.where(~(ok & parsed.notna()), parsed.dt.strftime("%Y-%m-%d"))
        compact = rest.str.fullmatch(r"[0-9]{8}").fillna(False) & ~ok
        parsed8 = pd.to_datetime(rest.where(compact), format="%Y%m%d", errors="coerce")
        out = out.where(~(compact & parsed8.notna()), parsed8.dt.strftime("%Y-%m-%d"))
        col = col.copy()
        col[~iso] = out
        return col

    def upgrade(k: pd.Series) -> pd.Series:
        cand = k.str.fullmatch(r"[0-9]{15}").fillna(False)
        born = as_date(("19" + k.str[6:8] + "-" + k.str[8:10] + "-" + k.str[10:12]).where(cand))
        mask = cand & born.notna()
        if not mask.any():
            return k
        first17 = k[mask].str[:6] + "19" + k[mask].str[6:]
        k = k.copy()
        k[mask] = first17 + check_char(first17)
        return k

    def reason(k: pd.Series) -> pd.Series:
        n = k.str.len()
        blank = k.isna()
        old15 = (n == 15) & k.str.fullmatch(r"[0-9]{15}").fillna(False)
        length = n != 18
        chars = ~k.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False)
        region = ~k.str[:2].isin(PROVINCE_PREFIXES)
        born = pd.to_datetime(k.str[6:14].where(~(blank | length | chars)), format="%Y%m%d", errors="coerce")
        birth = born.isna() | (born < pd.Timestamp("1900-01-01")) | (born > pd.Timestamp(AS_OF))
        ok_so_far = ~(blank | old15 | length | chars | region | birth)
        bad_check = pd.Series(False, index=k.index)
        if ok_so_far.any():
            bad_check[ok_so_far] = k[ok_so_far].str[17].to_numpy() != check_char(k[ok_so_far].str[:17])
        conds = [blank, old15, length, chars, region, birth, bad_check]
        names = ["blank", "old_15", "length", "chars", "region", "birth_date", "check_digit"]
        return pd.Series(np.select([c.to_numpy(dtype=bool) for c in conds], names, default=""), index=k.index).replace(
            "", None
        )

    sides = {}
    for side, file in (("s", "secondary"), ("p", "primary")):
        df = pd.read_parquet(folder / f"{file}.parquet")
        if not pd.api.types.is_string_dtype(df["出生日期"]):
            df["出生日期"] = pd.to_datetime(df["出生日期"]).dt.strftime("%Y-%m-%d")
        df["row"] = np.arange(1, len(df) + 1)
        k = upgrade(text(df[KEY])).replace("", None)
        norm = pd.DataFrame({"row": df["row"], "raw_key": df[KEY], "k": k})
        for i, name in enumerate(ITEMS):
            t = text(df[name])
            norm[f"n{i}"] = (date(t) if name == "出生日期" else t).replace("", None)
            norm[f"r{i}"] = df[name]
        del df
        norm["reason"] = reason(norm["k"])
        sides[side] = norm

    out_parts = []
    result: dict[str, object] = {}
    valid_keys = {}
    unique = {}
    for side, label in (("s", "secondary"), ("p", "primary")):
        d = sides[side]
        bad = d[d["reason"].notna()]
        inv = (
            bad.groupby("k", dropna=False, sort=False)
            .agg(raw=("raw_key", "first"), row=("row", "min"), c=("row", "size"), reason=("reason", "first"))
            .reset_index()
        )
        good = d[d["reason"].isna()]
        sizes = good.groupby("k", sort=False)["row"].agg(["size", "min"])
        dups = sizes[sizes["size"] > 1]
        result[f"rows_{label}"] = len(d)
        result[f"invalid_{label}"] = len(bad)
        result[f"duplicate_keys_{label}"] = len(dups)
        row_col = f"{label}_row"
        out_parts.append(
            pd.DataFrame(
                {
                    "o": 1 if side == "s" else 2,
                    "kind": f"invalid_key_{label}",
                    "key": inv["raw"],
                    row_col: inv["row"],
                    "occurrences": inv["c"],
                    "reason": inv["reason"],
                }
            )
        )
        out_parts.append(
            pd.DataFrame(
                {
                    "o": 3 if side == "s" else 4,
                    "kind": f"duplicate_key_{label}",
                    "key": dups.index,
                    row_col: dups["min"].to_numpy(),
                    "occurrences": dups["size"].to_numpy(),
                }
            )
        )
        valid_keys[side] = sizes
        unique[side] = good[good["k"].isin(sizes.index[sizes["size"] == 1])]
    ks, kp = valid_keys["s"], valid_keys["p"]
    in_p = ks.index.isin(kp.index)
    in_s = kp.index.isin(ks.index)
    result["missing_in_primary"] = int((~in_p).sum())
    result["missing_in_secondary"] = int((~in_s).sum())
    both = ks.index[in_p]
    dnc = int(((ks.loc[both, "size"] > 1) | (kp.loc[both, "size"] > 1)).sum())
    result["duplicate_not_compared"] = dnc
    out_parts.append(
        pd.DataFrame(
            {"o": 5, "kind": "missing_in_primary", "key": ks.index[~in_p], "secondary_row": ks["min"].to_numpy()[~in_p]}
        )
    )
    out_parts.append(
        pd.DataFrame(
            {"o": 6, "kind": "missing_in_secondary", "key": kp.index[~in_s], "primary_row": kp["min"].to_numpy()[~in_s]}
        )
    )
    m = unique["s"].merge(unique["p"], on="k", suffixes=("_s", "_p"))
    result["compared"] = len(m)
    mism = []
    for i, name in enumerate(ITEMS):
        a, b = m[f"n{i}_s"], m[f"n{i}_p"]
        diff = ~((a == b).fillna(False) | (a.isna() & b.isna()))
        mism.append(int(diff.sum()))
        x = m[diff]
        out_parts.append(
            pd.DataFrame(
                {
                    "o": 7,
                    "i": i,
                    "kind": "mismatch",
                    "key": x["k"],
                    "item": name,
                    "secondary_value": x[f"r{i}_s"],
                    "primary_value": x[f"r{i}_p"],
                    "secondary_normalized": x[f"n{i}_s"],
                    "primary_normalized": x[f"n{i}_p"],
                    "secondary_row": x["row_s"],
                    "primary_row": x["row_p"],
                }
            )
        )
    result["mismatched"] = mism
    out_df = pd.concat(out_parts, ignore_index=True)
    out_df["i"] = out_df["i"].fillna(0)
    out_df["_r"] = out_df["secondary_row"].fillna(out_df["primary_row"])
    out_df = out_df.sort_values(["o", "_r", "i"]).drop(columns=["o", "i", "_r"])
    out_df.to_parquet(out, compression="zstd")
    result["discrepancy_rows"] = len(out_df)
    return result


VARIANTS = {"engine": run_engine, "sql": run_sql, "pandas": run_pandas}


def _disk_use(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(root, name)).st_size
    return total


def child(variant: str, folder: Path, out: Path, memory_limit: str) -> None:
    spill = Path(tempfile.mkdtemp(prefix=f"govshare-bench-spill-{variant}-", dir=folder))
    peak_spill = 0
    done = threading.Event()

    def watch() -> None:  # the most DuckDB wrote to its temporary directory (sampled every 0.5 s)
        nonlocal peak_spill
        while not done.wait(0.5):
            peak_spill = max(peak_spill, _disk_use(spill))

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        started = time.perf_counter()
        counts = VARIANTS[variant](folder, out, memory_limit, spill)
        seconds = time.perf_counter() - started
    finally:
        done.set()
        watcher.join()
        shutil.rmtree(spill, ignore_errors=True)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kilobytes on Linux
    print(json.dumps({"seconds": seconds, "rss": rss, "counts": counts, "spill": peak_spill}, default=int))


def run_child(variant: str, folder: Path, memory_limit: str) -> dict[str, object]:
    out = folder / f"out-{variant}-{memory_limit}.parquet"
    print(f"  running {variant} (memory_limit {memory_limit}) ...", file=sys.stderr, flush=True)
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--variant",
            variant,
            "--data",
            str(folder),
            "--memory-limit",
            memory_limit,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"failed": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(
        f"    {result['seconds']:.1f} s, peak RSS {result['rss'] / 2**30:.2f} GiB, spilled up to "
        f"{result['spill'] / 2**30:.2f} GiB",
        file=sys.stderr,
        flush=True,
    )
    out.unlink(missing_ok=True)
    return result


def dataset(folder: Path, rows: int) -> dict[str, object]:
    """The planted counts of the data in ``folder``, generating it unless it is there already."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = folder / "expected.json"
    if stamp.exists() and json.loads(stamp.read_text()).get("keys") == rows:
        print(f"reusing the data in {folder}", file=sys.stderr)
        return json.loads(stamp.read_text())["expected"]
    print(f"generating {rows:,} keys in {folder} ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    expected = generate(rows, folder)
    stamp.write_text(json.dumps({"keys": rows, "expected": expected}))
    print(f"  generated in {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
    return expected


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import pandas

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, Python {platform.python_version()}, DuckDB "
        f"{duckdb.__version__}, pandas {pandas.__version__}, {dt.date.today().isoformat()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="keys generated (rows a side, about)")
    parser.add_argument("--memory-limit", default="8GB", help="DuckDB memory limit of the engine and SQL runs")
    parser.add_argument("--keep", type=Path, help="folder for the data, kept and reused if it holds the same rows")
    parser.add_argument(
        "--pandas-rows",
        type=int,
        default=2_000_000,
        help="keys of the smaller dataset on which pandas (and the engine again) run: pandas did "
        "not fit 10,000,000 (past 18 GiB RSS after 18 minutes); 0 = full size",
    )
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        child(args.variant, args.data, args.out, args.memory_limit)
        return

    folder = args.keep or Path(tempfile.mkdtemp(prefix="govshare-bench-reconcile-"))
    folder.mkdir(parents=True, exist_ok=True)
    small_rows = args.pandas_rows if 0 < args.pandas_rows < args.rows else args.rows
    small = folder if small_rows == args.rows else folder / f"keys-{small_rows}"
    try:
        expected = dataset(folder, args.rows)
        expected_small = dataset(small, small_rows) if not args.skip_pandas else expected
        sizes = {f: (folder / f"{f}.parquet").stat().st_size for f in ("secondary", "primary")}

        load_before = os.getloadavg()
        runs = [
            ("hand-written DuckDB SQL", run_child("sql", folder, args.memory_limit), expected),
            ("our engine (quality.reconcile)", run_child("engine", folder, args.memory_limit), expected),
        ]
        runs.append(("our engine, DuckDB memory_limit 2GB", run_child("engine", folder, "2GB"), expected))
        if not args.skip_pandas:
            if small is not folder:
                runs.append(
                    (
                        f"our engine on {small_rows:,} keys",
                        run_child("engine", small, args.memory_limit),
                        expected_small,
                    )
                )
            runs.append(
                (f"pandas on {small_rows:,} keys", run_child("pandas", small, args.memory_limit), expected_small)
            )
        load_after = os.getloadavg()
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    base = runs[0][1].get("seconds")
    engine = runs[1][1].get("seconds")
    engine_small = next((r.get("seconds") for n, r, _e in runs if n.startswith("our engine on")), engine)
    header = (
        "variant",
        "wall time",
        "rows/s (both sides)",
        "peak RSS",
        "spilled",
        "ratio to hand-written SQL",
        "counts = planted",
        "target",
        "",
    )
    table = []
    for name, r, exp in runs:
        if "failed" in r:
            table.append((name, "FAILED", "", "", "", "", "", "", r["failed"][:80]))
            continue
        ok = r["counts"] == exp
        rate = (exp["rows_secondary"] + exp["rows_primary"]) / r["seconds"]
        ratio = f"{r['seconds'] / base:.2f}x" if exp is expected and base else ""
        target, met = "", ""
        if name.startswith("our engine (") and base:
            target, met = "≤ 1.5x", "met" if r["seconds"] / base <= 1.5 else "NOT met"
        elif name.startswith("pandas") and engine_small:
            speed = r["seconds"] / engine_small
            target, met = f"engine ≥ 5x faster (is {speed:.1f}x)", "met" if speed >= 5 else "NOT met"
        elif "2GB" in name:
            target, met = "completes", "met" if ok else "NOT met"
        table.append(
            (
                name,
                f"{r['seconds']:.1f} s",
                f"{rate:,.0f}",
                f"{r['rss'] / 2**30:.2f} GiB",
                f"{r['spill'] / 2**30:.2f} GiB",
                ratio,
                "yes" if ok else f"NO: {r['counts']}",
                target,
                met,
            )
        )
    widths = [max(len(str(row[i])) for row in [header, *table]) for i in range(len(header))]
    print(
        f"\n{expected['rows_secondary']:,} rows (secondary copy, {sizes['secondary'] / 2**20:.0f} MiB Parquet) "
        f"against {expected['rows_primary']:,} (primary source, {sizes['primary'] / 2**20:.0f} MiB); 5 items; "
        f"{expected['missing_in_primary']:,} missing in the primary, {expected['missing_in_secondary']:,} in the "
        f"copy, {sum(expected['mismatched']):,} item mismatches, {expected['discrepancy_rows']:,} discrepancy rows\n"
    )
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(f"\nmachine: {machine()}")
    print(
        f"load average (1, 5, 15 min) at start {load_before[0]:.1f} {load_before[1]:.1f} {load_before[2]:.1f}, "
        f"at end {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f} (other work shares the 2 cores)"
    )


if __name__ == "__main__":
    main()
