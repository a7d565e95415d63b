#!/usr/bin/env python3
"""Build communes-france.csv from @etalab/decoupage-administratif's communes.json.

Usage (from the repository root):

    npm install @etalab/decoupage-administratif@6.0.0
    python3 mappings/reference/communes-france.py \
        node_modules/@etalab/decoupage-administratif/data/communes.json \
        > mappings/reference/communes-france.csv

Output: `code_insee,commune_actuelle`, one line per code, sorted by code, LF line
endings. `commune_actuelle` is empty when the code is itself a current commune
(France métropolitaine and the five DROM, 971-976) or an arrondissement municipal
of Paris, Lyon or Marseille; otherwise it is the code of the current commune the
old code now belongs to. Precedence, for a code listed more than once:

1. current commune or arrondissement municipal (empty);
2. commune déléguée or associée: its `chefLieu`, as INSEE's current COG states it;
3. a code in a current commune's `anciensCodes` (the package's walk back through
   INSEE's history of changes: mergers, and renumberings when a commune changed
   département, e.g. Corsica 20xxx -> 2A/2B in 1976, Seine / Seine-et-Oise in 1968).

The communes of the collectivités d'outre-mer (975, 977, 978, 984, 986-989), which
the package also lists with zone "com", are left out: INSEE keeps them outside the
COG's commune list. Pass --with-com to include them as current communes.

Standard library only.
"""

import json
import sys

CURRENT = "commune-actuelle"
ARRONDISSEMENT = "arrondissement-municipal"
ATTACHED = ("commune-deleguee", "commune-associee")


def build(communes, with_com=False):
    current = {
        c["code"]
        for c in communes
        if c["type"] == CURRENT and (with_com or c.get("zone") != "com")
    }
    mapping = {code: "" for code in current}
    for c in communes:
        if c["type"] == ARRONDISSEMENT:
            mapping[c["code"]] = ""
    # Déléguées and associées: the current COG's own statement of their parent.
    for c in communes:
        if c["type"] in ATTACHED and c["code"] not in mapping:
            parent = c["chefLieu"]
            if parent not in current:
                raise SystemExit(f"{c['code']}: chefLieu {parent} is not a current commune")
            mapping[c["code"]] = parent
    # Older codes, from the package's history walk; never override the above.
    old = {}
    for c in communes:
        if c["code"] not in current or c["type"] != CURRENT:
            continue
        for code in c.get("anciensCodes", []):
            if code in mapping:
                continue
            if code in old and old[code] != c["code"]:
                raise SystemExit(f"{code}: old code of both {old[code]} and {c['code']}")
            old[code] = c["code"]
    mapping.update(old)
    return mapping


def main(argv):
    args = [a for a in argv[1:] if a != "--with-com"]
    if len(args) != 1:
        raise SystemExit(f"usage: {argv[0]} [--with-com] path/to/communes.json > communes-france.csv")
    with open(args[0], encoding="utf-8") as f:
        communes = json.load(f)
    mapping = build(communes, with_com="--with-com" in argv[1:])
    out = ["code_insee,commune_actuelle\n"]
    out.extend(f"{code},{mapping[code]}\n" for code in sorted(mapping))
    sys.stdout.buffer.write("".join(out).encode("ascii"))


if __name__ == "__main__":
    main(sys.argv)
