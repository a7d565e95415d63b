#!/usr/bin/env python3
"""Build rome.csv, rome-appellations.csv and rome-parents.csv from the ROME open data.

The ROME (Répertoire Opérationnel des Métiers et des Emplois) is published by
France Travail (ex-Pôle emploi) under its "Licence Ouverte ROME" (listed as
Licence Ouverte / Open Licence, `fr-lo`, on data.gouv.fr): reuse is free,
commercial use included, provided the source is credited with France Travail's
name and the date of the data, e.g.
"Source : France Travail (ex-Pôle emploi), ROME 4.0 version 60 - 25M09 du 18/09/2025".

Source of the files checked in
------------------------------
ROME 4.0 version 60 ("25M09", published 18/09/2025), the two CSV files of
France Travail's export "RefRomeCsv", as committed unchanged in the public
GitHub repository tomjoy75/code_rome:

    repository  https://github.com/tomjoy75/code_rome
    commit      e6dd795280434f3c3b764a2860dd56f7c99983b0 (still so at 5d8f533d1c795cb2f041e121d3abfbe1f70923e3)
    paths       data/RefRomeCsv/unix_referentiel_code_rome_v460_utf8.csv
                  sha256 32da059c24c8f117983b47ac364b2471d50ff288af0003453c1f09108e8419d8
                data/RefRomeCsv/unix_referentiel_appellation_v460_utf8.csv
                  sha256 c73b219b7f89957cbd298efab1366a952ae3b2723965a01d520766104dabeb5d

To get them again:

    git clone https://github.com/tomjoy75/code_rome /tmp/code_rome
    git -C /tmp/code_rome show e6dd795280434f3c3b764a2860dd56f7c99983b0:data/RefRomeCsv/unix_referentiel_code_rome_v460_utf8.csv > code_rome.csv
    git -C /tmp/code_rome show e6dd795280434f3c3b764a2860dd56f7c99983b0:data/RefRomeCsv/unix_referentiel_appellation_v460_utf8.csv > appellation.csv
    python3 mappings/reference/rome.py code_rome.csv appellation.csv

A newer version straight from France Travail
--------------------------------------------
France Travail publishes the whole referential, without key or account, as a
zip of UTF-8 CSV files ("Toutes les données du ROME", csv, on
https://www.data.gouv.fr/datasets/repertoire-operationnel-des-metiers-et-des-emplois-rome):

    https://api.francetravail.fr/api-nomenclatureemploi/v1/open-data/csv   (RefRomeCsv.zip; GET only)

Its `version.txt` gives the version number and date. Version 61 ("26M06",
published 15/06/2026, 1,911 codes, 14,301 appellations) followed version 60.
The script reads the zip directly:

    python3 mappings/reference/rome.py RefRomeCsv.zip

and then update the version and the checksums above and in README.md.

Usage
-----
    python3 rome.py CODE_ROME_CSV APPELLATION_CSV [OUTDIR]
    python3 rome.py REF_ROME_CSV_ZIP [OUTDIR]

OUTDIR defaults to this script's folder. Needs only Python 3's standard library.

Outputs (UTF-8, LF line ends, fields quoted only when needed, per RFC 4180):

* rome.csv              `code,libelle`: every code of unix_referentiel_code_rome
                        (`code_rome`, `libelle_rome`), sorted by code.
* rome-appellations.csv `code_rome,code_appellation,libelle,libelle_court`: every
                        row of unix_referentiel_appellation (`code_rome`, `code_ogr`,
                        `libelle_appellation_long`, `libelle_appellation_court`),
                        sorted by code_rome, then by code_appellation as a number.
* rome-parents.csv      `code,code_rome_parent`: for every code, the code of the
                        "fiche métier" it derives from (`code_rome_parent` of
                        unix_referentiel_code_rome). Since ROME 4.0 the referential
                        adds finer "emploi" fiches under the 532 fiches of ROME V3;
                        the 532 codes whose parent is themselves are those fiches.

Labels are written exactly as published (nothing trimmed or normalised).
The script fails if a column is missing, a code is malformed or repeated, or an
appellation points to an unknown code.
"""

import csv
import io
import os
import re
import sys
import zipfile

CODE_RE = re.compile(r"[A-N][0-9]{4}")
OGR_RE = re.compile(r"[0-9]+")

CODE_COLUMNS = ("code_rome", "libelle_rome", "code_rome_parent")
APPELLATION_COLUMNS = (
    "code_ogr",
    "libelle_appellation_long",
    "libelle_appellation_court",
    "code_rome",
)


def fail(message):
    sys.exit(f"rome.py: {message}")


def read_rows(name, data, columns):
    """Parse a CSV held as bytes; check that the expected columns are there."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        fail(f"{name} is not UTF-8: {e}")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    missing = [c for c in columns if c not in (reader.fieldnames or [])]
    if missing:
        fail(f"{name} lacks the column(s) {', '.join(missing)}")
    rows = list(reader)
    if not rows:
        fail(f"{name} has no rows")
    return rows


def load(args):
    """Return (name, bytes) of the code file and of the appellation file."""
    if len(args) >= 1 and args[0].endswith(".zip"):
        with zipfile.ZipFile(args[0]) as z:
            names = z.namelist()

            def member(stem):
                found = [
                    n
                    for n in names
                    if re.search(rf"(^|/)unix_{stem}_v[0-9]+_utf8\.csv$", n)
                ]
                if len(found) != 1:
                    fail(f"{args[0]}: expected one unix_{stem}_v*_utf8.csv, found {found}")
                return found[0], z.read(found[0])

            return member("referentiel_code_rome"), member("referentiel_appellation"), args[1:]
    if len(args) < 2:
        sys.exit(__doc__.split("Usage\n-----\n")[1].split("\n\n")[0])
    files = []
    for path in args[:2]:
        with open(path, "rb") as f:
            files.append((path, f.read()))
    return files[0], files[1], args[2:]


def write_csv(path, header, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        w.writerow(header)
        w.writerows(rows)


def main(argv):
    (code_name, code_data), (app_name, app_data), rest = load(argv[1:])
    outdir = rest[0] if rest else os.path.dirname(os.path.abspath(__file__))

    codes = {}
    parents = {}
    for r in read_rows(code_name, code_data, CODE_COLUMNS):
        code, label, parent = r["code_rome"], r["libelle_rome"], r["code_rome_parent"]
        if not CODE_RE.fullmatch(code):
            fail(f"{code_name}: malformed ROME code {code!r}")
        if code in codes:
            fail(f"{code_name}: code {code} appears twice")
        if not label:
            fail(f"{code_name}: code {code} has no label")
        codes[code] = label
        parents[code] = parent
    for code, parent in parents.items():
        if parent not in codes:
            fail(f"{code_name}: code {code} has an unknown parent {parent!r}")

    appellations = []
    seen = set()
    for r in read_rows(app_name, app_data, APPELLATION_COLUMNS):
        ogr, code = r["code_ogr"], r["code_rome"]
        if not OGR_RE.fullmatch(ogr):
            fail(f"{app_name}: malformed appellation code {ogr!r}")
        if ogr in seen:
            fail(f"{app_name}: appellation {ogr} appears twice")
        seen.add(ogr)
        if code not in codes:
            fail(f"{app_name}: appellation {ogr} points to unknown code {code!r}")
        if not r["libelle_appellation_long"]:
            fail(f"{app_name}: appellation {ogr} has no label")
        appellations.append(
            (code, ogr, r["libelle_appellation_long"], r["libelle_appellation_court"])
        )
    appellations.sort(key=lambda a: (a[0], int(a[1])))

    write_csv(
        os.path.join(outdir, "rome.csv"),
        ("code", "libelle"),
        sorted(codes.items()),
    )
    write_csv(
        os.path.join(outdir, "rome-appellations.csv"),
        ("code_rome", "code_appellation", "libelle", "libelle_court"),
        appellations,
    )
    write_csv(
        os.path.join(outdir, "rome-parents.csv"),
        ("code", "code_rome_parent"),
        sorted(parents.items()),
    )
    roots = sum(1 for c, p in parents.items() if c == p)
    print(
        f"{len(codes)} codes ({roots} fiches V3, parents of the rest), "
        f"{len(appellations)} appellations",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main(sys.argv)
