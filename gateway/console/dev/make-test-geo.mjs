// Writes stand-in map files to dev/geo/ (not committed) until the gateway serves
// the real ones: every commune of Normandy as blocks of a grid around its
// position, each département as the union of its communes. Rough shapes, real
// codes and names, rings wound as RFC 7946 says (counter-clockwise).
//
//   node dev/make-test-geo.mjs

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";

const ref = new URL("../../../mappings/reference/", import.meta.url);
const rows = (f) =>
  readFileSync(new URL(f, ref), "utf8")
    .trim()
    .split("\n")
    .slice(1)
    .map((l) => l.split(","));

const DEP_NAMES = { 14: "Calvados", 27: "Eure", 50: "Manche", 61: "Orne", 76: "Seine-Maritime" };
const coords = new Map(rows("communes-coordinates.csv").map(([c, lat, lon]) => [c, [+lon, +lat]]));
const communes = rows("communes-normandie.csv").map(([code, nom, dep]) => ({ code, nom, dep }));

// A commune without a known position sits near another of its département.
let seed = 7;
const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
const placed = communes.filter((c) => coords.has(c.code));
for (const c of communes) {
  if (coords.has(c.code)) continue;
  const same = placed.filter((p) => p.dep === c.dep);
  const [x, y] = coords.get(same[Math.floor(rand() * same.length)].code);
  coords.set(c.code, [x + (rand() - 0.5) * 0.08, y + (rand() - 0.5) * 0.06]);
}

const STEP = 0.012;
const [minX, maxX, minY, maxY] = [-2.0, 1.85, 48.15, 50.1];
const owner = [];
const pts = communes.map((c) => coords.get(c.code));
for (let j = 0; minY + j * STEP < maxY; j++) {
  const row = [];
  for (let i = 0; minX + i * STEP < maxX; i++) {
    const x = minX + (i + 0.5) * STEP, y = minY + (j + 0.5) * STEP;
    let best = -1, bd = 0.0036; // within about 0.06° of a commune's position
    for (let k = 0; k < pts.length; k++) {
      const dx = (pts[k][0] - x) * 0.66, dy = pts[k][1] - y;
      const d = dx * dx + dy * dy;
      if (d < bd) (bd = d), (best = k);
    }
    row.push(best);
  }
  owner.push(row);
}

// Runs of one owner along a row become one rectangle.
const rects = communes.map(() => []);
owner.forEach((row, j) => {
  for (let i = 0; i < row.length; ) {
    const k = row[i];
    let e = i;
    while (e + 1 < row.length && row[e + 1] === k) e++;
    if (k >= 0) {
      const x0 = +(minX + i * STEP).toFixed(4), x1 = +(minX + (e + 1) * STEP).toFixed(4);
      const y0 = +(minY + j * STEP).toFixed(4), y1 = +(minY + (j + 1) * STEP).toFixed(4);
      rects[k].push([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]);
    }
    i = e + 1;
  }
});
// A commune too close to others to own a cell still gets a small square.
rects.forEach((r, k) => {
  if (r.length) return;
  const [x, y] = pts[k], h = STEP / 2;
  r.push([[[x - h, y - h], [x + h, y - h], [x + h, y + h], [x - h, y + h], [x - h, y - h]]]);
});

const communeFc = {
  type: "FeatureCollection",
  features: communes.map((c, k) => ({
    type: "Feature",
    properties: { code: c.code, nom: c.nom, dep: c.dep },
    geometry: { type: "MultiPolygon", coordinates: rects[k] },
  })),
};
const depFc = {
  type: "FeatureCollection",
  features: Object.entries(DEP_NAMES).map(([code, nom]) => ({
    type: "Feature",
    properties: { code, nom },
    geometry: {
      type: "MultiPolygon",
      coordinates: communes.flatMap((c, k) => (c.dep === code ? rects[k] : [])),
    },
  })),
};
const out = new URL("./geo/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL("communes.geojson", out), JSON.stringify(communeFc));
writeFileSync(new URL("departements.geojson", out), JSON.stringify(depFc));
console.log(`${communes.length} communes written to dev/geo/`);
