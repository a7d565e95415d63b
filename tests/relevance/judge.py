#!/usr/bin/env python3
"""Measures how well a running gateway's words search ranks the judged set.

For each query of queries.json, the search as a portal sends it (the words
typed, the first 10 results, most relevant first) is compared with the
records the query judges relevant, which the gateway itself lists by their
criteria (ROME codes, level, around a commune): no judgement is made here.

    precision at 10 = relevant among the first 10 / min(10, relevant records)
    first relevant  = whether the first result is relevant

A query the gateway refuses (a build without words search on programmes,
say) scores 0 and is named. Prints one line per query and the figures as
JSON; exits 1 when a figure is below --min-p10 or --min-first.

    python3 tests/relevance/judge.py --url http://127.0.0.1:8080/graphql
    python3 tests/relevance/judge.py --url ... --order NEWEST   # the order before
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


def post(url, query, variables):
    """The answer's JSON; a request refused (a document the gateway does not
    validate) is its errors; one over the anonymous rate is sent again."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(
        url, body, {"content-type": "application/json", "accept": "application/json"}
    )
    for _ in range(50):
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as e:
            if e.code == 429:
                time.sleep(float(e.headers.get("retry-after") or 1))
                continue
            return json.load(e)
    raise RuntimeError("the gateway kept refusing over its rate")


LIST = """query($filter: %(Filter)s, $first: Int, $after: String %(order_var)s) {
  list: %(field)s(filter: $filter, first: $first, after: $after %(order_arg)s) {
    nodes { id }
    pageInfo { hasNextPage endCursor }
  }
}"""


def list_ids(url, entity, filter_, first, order, everything):
    """The ids a search lists: its first page, or every page."""
    field, type_ = ("offers", "OfferFilter") if entity == "offers" else ("formations", "FormationFilter")
    order_var, order_arg = "", ""
    if order:
        enum = "OfferOrder" if entity == "offers" else "FormationOrder"
        order_var, order_arg = ", $order: %s" % enum, ", orderBy: $order"
    query = LIST % {"Filter": type_, "field": field, "order_var": order_var, "order_arg": order_arg}
    ids, after = [], None
    while True:
        variables = {"filter": filter_, "first": first, "after": after}
        if order:
            variables["order"] = order
        answer = post(url, query, variables)
        if answer.get("errors") and not answer.get("data"):
            raise RuntimeError(answer["errors"][0].get("message"))
        page = answer["data"]["list"]
        ids.extend(n["id"] for n in page["nodes"])
        if not everything or not page["pageInfo"]["hasNextPage"]:
            return ids
        after = page["pageInfo"]["endCursor"]


def relevant_filter(q):
    r = q["relevant"]
    f = {"rome": r["rome"]}
    if "level" in r:
        f["level"] = r["level"]
    if "near" in r:
        f["near"] = {"commune": r["near"]["commune"], "radiusKm": r["near"]["km"]}
    return f


def judge(url, queries, order):
    rows = []
    for q in queries:
        relevant = set(list_ids(url, q["entity"], relevant_filter(q), 100, None, True))
        try:
            top = list_ids(url, q["entity"], {"text": q["text"]}, 10, order, False)
            refused = None
        except RuntimeError as e:
            top, refused = [], str(e)
        hits = sum(1 for i in top if i in relevant)
        possible = min(10, len(relevant))
        rows.append(
            {
                "id": q["id"],
                "kind": q["kind"],
                "entity": q["entity"],
                "relevant": len(relevant),
                "found": len(top),
                "p10": hits / possible if possible else 0.0,
                "first": bool(top) and top[0] in relevant,
                "refused": refused,
            }
        )
    return rows


def summary(rows):
    def of(selected):
        n = len(selected)
        return {
            "queries": n,
            "p10": round(sum(r["p10"] for r in selected) / n, 3) if n else None,
            "first_relevant": round(sum(r["first"] for r in selected) / n, 3) if n else None,
        }

    out = {"all": of(rows)}
    for key in ("entity", "kind"):
        for value in sorted({r[key] for r in rows}):
            out[f"{key}:{value}"] = of([r for r in rows if r[key] == value])
    out["refused"] = [r["id"] for r in rows if r["refused"]]
    out["zero"] = [r["id"] for r in rows if r["p10"] == 0 and not r["refused"]]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--queries", default=os.path.join(HERE, "queries.json"))
    ap.add_argument("--order", default="RELEVANCE", help="RELEVANCE, or NEWEST for the order before")
    ap.add_argument("--min-p10", type=float, default=0.0)
    ap.add_argument("--min-first", type=float, default=0.0)
    ap.add_argument("--out")
    args = ap.parse_args()
    queries = json.load(open(args.queries, encoding="utf-8"))["queries"]
    order = None if args.order == "NEWEST" else args.order
    rows = judge(args.url, queries, order)
    for r in rows:
        print(
            f"{r['id']:32} {r['kind']:12} {r['entity']:10} relevant {r['relevant']:5} "
            f"p@10 {r['p10']:.2f} first {'yes' if r['first'] else 'no '}"
            + (f"  refused: {r['refused']}" if r["refused"] else ""),
            file=sys.stderr,
        )
    figures = summary(rows)
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"figures": figures, "queries": rows}, f, indent=2, ensure_ascii=False)
    a = figures["all"]
    if a["p10"] < args.min_p10 or a["first_relevant"] < args.min_first:
        print(f"below the floor: p@10 {a['p10']} (min {args.min_p10}), "
              f"first {a['first_relevant']} (min {args.min_first})", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
