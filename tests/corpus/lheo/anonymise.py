"""Takes people out of an LHÉO file, leaving everything else byte for byte.

Intercarif answers name the people to contact (a desk's staff: civility,
name, first name, telephone, e-mail). The corpus keeps the files as
published, less those: in every <coordonnees> that names a person (it has a
<prenom>), the name and first name become NOM and Prénom; every telephone
number becomes 01 00 00 00 00 and every e-mail address
contact@example.org. Organisations, addresses, SIRETs and the rest are kept.

    python3 anonymise.py SOURCE.xml > CORPUS.xml
"""

import re
import sys


def person(block):
    block = re.sub(r"(<nom>)[^<]*(</nom>)", r"\1NOM\2", block)
    return re.sub(r"(<prenom>)[^<]*(</prenom>)", r"\1Prénom\2", block)


def anonymise(text):
    text = re.sub(
        r"<coordonnees>.*?</coordonnees>",
        lambda m: person(m.group(0)) if "<prenom>" in m.group(0) else m.group(0),
        text,
        flags=re.S,
    )
    text = re.sub(r"(<numtel>)[^<]*(</numtel>)", r"\g<1>01 00 00 00 00\2", text)
    return re.sub(r"(<courriel>)[^<]*(</courriel>)", r"\1contact@example.org\2", text)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8", newline="") as f:
        sys.stdout.write(anonymise(f.read()))
