// The map's geometry: the départements and communes of Normandy, projected
// once (Lambert conformal conic, as the IGN's Lambert-93) into SVG paths.
// Zooming on a département changes the SVG's viewBox, never the paths.

import type { Feature, FeatureCollection, Geometry, MultiPolygon, Polygon } from "geojson";

export const MAP_WIDTH = 600;

export interface Area {
  code: string;
  name: string;
  /** The SVG path, in map units. */
  d: string;
  /** [[x0, y0], [x1, y1]] in map units. */
  bounds: [[number, number], [number, number]];
}

export interface Commune {
  code: string;
  name: string;
  dep: string;
}

export interface MapGeometry {
  width: number;
  height: number;
  departements: Area[];
  communes: Commune[];
  /** The communes' SVG paths, in the order of `communes`, projected on first call. */
  communePaths: () => string[];
}

type Props = { code?: string; nom?: string; dep?: string };

async function fetchCollection(url: string): Promise<FeatureCollection<Geometry, Props>> {
  const res = await fetch(url, { headers: { accept: "application/geo+json, application/json" } });
  if (!res.ok) throw new Error(`${url} : ${res.status}`);
  return res.json();
}

let cached: Promise<MapGeometry> | null = null;

/** Loads the files and d3-geo (only this page needs either) once per visit. */
export function loadGeometry(): Promise<MapGeometry> {
  cached ??= build().catch((e) => {
    cached = null;
    throw e;
  });
  return cached;
}

async function build(): Promise<MapGeometry> {
  const [d3, deps, communes] = await Promise.all([
    import("d3-geo"),
    fetchCollection("/geo/departements.geojson"),
    fetchCollection("/geo/communes.geojson"),
  ]);

  // d3-geo reads polygons on the sphere: a ring wound the other way (RFC 7946 order)
  // would be the whole Earth but Normandy. Such rings are turned round.
  const rewind = (f: Feature<Geometry, Props>) => {
    const g = f.geometry;
    if (!g || (g.type !== "Polygon" && g.type !== "MultiPolygon")) return f;
    const polygons = g.type === "Polygon" ? [(g as Polygon).coordinates] : (g as MultiPolygon).coordinates;
    for (const poly of polygons) {
      if (d3.geoArea({ type: "Polygon", coordinates: poly }) > 2 * Math.PI) {
        for (const ring of poly) ring.reverse();
      }
    }
    return f;
  };
  deps.features.forEach(rewind);
  communes.features.forEach(rewind);

  const projection = d3.geoConicConformal().parallels([44, 49]).rotate([-3, 0]).fitWidth(MAP_WIDTH - 8, deps);
  const path = d3.geoPath(projection).digits(1);
  const [[, y0], [, y1]] = path.bounds(deps);
  const height = Math.ceil(y1 - y0) + 8;
  projection.translate([projection.translate()[0] + 4, projection.translate()[1] + 4 - y0]);

  const area = (f: Feature<Geometry, Props>) => ({
    code: String(f.properties?.code ?? ""),
    name: String(f.properties?.nom ?? f.properties?.code ?? ""),
    d: path(f) ?? "",
    bounds: path.bounds(f),
  });
  let paths: string[] | null = null;
  return {
    width: MAP_WIDTH,
    height,
    departements: deps.features.map(area).sort((a, b) => a.code.localeCompare(b.code)),
    communes: communes.features.map((f) => {
      const code = String(f.properties?.code ?? "");
      return { code, name: String(f.properties?.nom ?? code), dep: String(f.properties?.dep ?? code.slice(0, 2)) };
    }),
    communePaths: () => (paths ??= communes.features.map((f) => path(f) ?? "")),
  };
}
