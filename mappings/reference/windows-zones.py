#!/usr/bin/env python3
"""Writes windows-zones.csv: each Windows time zone name and the IANA zone
CLDR maps it to for the world (territory 001), from the CLDR JSON
distribution's supplemental/windowsZones.json (npm package cldr-core).

    python3 windows-zones.py path/to/cldr-core/supplemental/windowsZones.json > windows-zones.csv
"""
import csv
import json
import sys

data = json.load(open(sys.argv[1], encoding="utf-8"))
version = data["supplemental"]["version"]["_cldrVersion"]
rows = sorted(
    (z["mapZone"]["_other"], z["mapZone"]["_type"].split()[0])
    for z in data["supplemental"]["windowsZones"]["mapTimezones"]
    if z["mapZone"]["_territory"] == "001"
)
out = csv.writer(sys.stdout, lineterminator="\n")
out.writerow(["windows", "iana"])
out.writerows(rows)
print(f"# CLDR {version}, {len(rows)} zones", file=sys.stderr)
