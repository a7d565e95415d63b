"""An independent reading of LHÉO files: what the gateway must serve of them.

Reads each `.xml` file of this folder with Python's own XML and HTML
parsers, as the LHÉO 2.2 dictionary describes the elements, and prints as
JSON, by file, each programme (<formation>): its number, title, objective
as plain text, and its places (<action>) with their postcode, town, the
current INSEE code of their commune (a former commune's through the Code
officiel géographique's history, `mappings/reference/communes-france.csv`),
whether they are in Normandy, and their sessions (start, end, recruiting).

    python3 reading.py [FOLDER]
"""

import calendar
import csv
import html.parser
import json
import pathlib
import sys
import xml.etree.ElementTree as ET

ROOT = pathlib.Path(__file__).resolve().parents[3]
NORMANDY = {"14", "27", "50", "61", "76"}


def current_communes():
    with open(ROOT / "mappings/reference/communes-france.csv", encoding="utf-8") as f:
        return {row["code_insee"]: row["commune_actuelle"] or row["code_insee"] for row in csv.DictReader(f)}


CURRENT = current_communes()


def local(tag):
    return tag.rsplit("}", 1)[-1]


def child(element, *path):
    """The first descendant along `path` (local names, any namespace)."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if local(c.tag) == name), None)
    return element


def children(element, name):
    return [c for c in element if local(c.tag) == name] if element is not None else []


def text(element):
    if element is None:
        return None
    t = " ".join("".join(element.itertext()).split())
    return t or None


def departement(code):
    if code.startswith("97"):
        return code[:3]
    if code.startswith("20"):
        return "2A" if code < "20200" else "2B"
    return code[:2]


def lheo_date(value, end=False):
    """A LHÉO date: 00000000 unknown, 99999999 open, AAAAMM00 a month."""
    if value is None or value in ("00000000", "99999999") or len(value) != 8:
        return None
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    if day == 0:
        day = calendar.monthrange(year, month)[1] if end else 1
    return f"{year:04d}-{month:02d}-{day:02d}"


class Plain(html.parser.HTMLParser):
    """Text without markup, a line after each block, scripts dropped."""

    BLOCKS = {"br", "p", "div", "li", "ul", "ol", "h1", "h2"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def plain(value):
    if value is None:
        return None
    p = Plain()
    p.feed(value)
    p.close()
    lines = (" ".join(l.replace("\xa0", " ").split()) for l in "".join(p.parts).split("\n"))
    return "\n".join(l for l in lines if l) or None


def place(action):
    address = child(action, "lieu-de-formation", "coordonnees", "adresse")
    postcode = text(child(address, "codepostal"))
    written = text(child(address, "code-INSEE-commune"))
    code = CURRENT.get(written.upper()) if written else None
    # A code of another département than the postcode's is not the place's.
    if code and postcode and departement(code) != departement(postcode):
        code = None
    where = departement(code) if code else departement(postcode) if postcode else None
    recruiting = {"1": True, "2": False, "3": False}
    return {
        "id": action.get("numero"),
        "postcode": postcode,
        "city": text(child(address, "ville")),
        "inseeCode": code,
        "inNormandy": None if where is None else where in NORMANDY,
        "sessions": [
            {
                "start": lheo_date(text(child(s, "periode", "debut"))),
                "end": lheo_date(text(child(s, "periode", "fin")), end=True),
                "recruiting": recruiting.get(text(child(s, "etat-recrutement"))),
            }
            for s in children(action, "session")
        ],
    }


def programme(formation):
    return {
        "partnerId": formation.get("numero"),
        "title": text(child(formation, "intitule-formation")),
        "objective": plain(text(child(formation, "objectif-formation"))),
        "places": [place(a) for a in children(formation, "action")],
    }


def main():
    folder = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    read = {}
    for path in sorted(folder.glob("*.xml")):
        root = ET.parse(path).getroot()
        read[path.name] = [programme(f) for f in root.iter() if local(f.tag) == "formation"]
    json.dump(read, sys.stdout, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
