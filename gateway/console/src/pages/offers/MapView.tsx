// The SVG map. Départements are five focusable paths; the 2,644 communes are
// drawn once, by hand, into one group, and recoloured by setting attributes:
// a change of filter or measure never rebuilds their geometry.

import { useLayoutEffect, useMemo, useRef, useState } from "preact/hooks";
import type { MapGeometry } from "./geometry";
import { legend, quantileScale, type Scale } from "./scale";

const SVG = "http://www.w3.org/2000/svg";

export interface MapViewProps {
  geometry: MapGeometry;
  /** Values by département code and by commune code. */
  depValues: Map<string, number>;
  communeValues: Map<string, number>;
  showCommunes: boolean;
  selectedDep: string | null;
  selectedCommune: string | null;
  /** "1 234 offres". */
  describe: (n: number) => string;
  unit: (n: number) => string;
  onSelectDep: (code: string) => void;
  onSelectCommune: (code: string) => void;
}

export function MapView(props: MapViewProps) {
  const { geometry, depValues, communeValues, showCommunes, selectedDep } = props;
  const layer = useRef<SVGGElement>(null);
  const byCode = useRef(new Map<string, SVGPathElement>());
  const [hover, setHover] = useState<string | null>(null);

  // The communes of the view set the scale: the région's, or the zoomed département's.
  const communeScale = useMemo<Scale>(() => {
    const vals: number[] = [];
    for (const c of geometry.communes) {
      if (!selectedDep || c.dep === selectedDep) vals.push(communeValues.get(c.code) ?? 0);
    }
    return quantileScale(vals);
  }, [geometry, communeValues, selectedDep]);
  const depScale = useMemo(() => quantileScale([...depValues.values()]), [depValues]);
  const scale = showCommunes ? communeScale : depScale;

  // Draws the communes once per geometry. They are drawn even while hidden (départements
  // level), so that showing them costs nothing and each carries its value: projecting
  // the 2,644 communes takes some 40 ms.
  const drawn = useRef<MapGeometry | null>(null);
  useLayoutEffect(() => {
    const g = layer.current;
    if (!g || drawn.current === geometry) return;
    drawn.current = geometry;
    const frag = document.createDocumentFragment();
    const map = new Map<string, SVGPathElement>();
    const paths = geometry.communePaths();
    geometry.communes.forEach((c, i) => {
      const p = document.createElementNS(SVG, "path");
      p.setAttribute("d", paths[i]!);
      p.setAttribute("data-commune", c.code);
      p.setAttribute("data-dep", c.dep);
      map.set(c.code, p);
      frag.append(p);
    });
    g.replaceChildren(frag);
    byCode.current = map;
  }, [geometry]);

  // Recolours them when the figures, the scale or the selection change.
  useLayoutEffect(() => {
    for (const c of geometry.communes) {
      const p = byCode.current.get(c.code);
      if (!p) continue;
      const v = communeValues.get(c.code) ?? 0;
      p.setAttribute("fill", communeScale.colour(v));
      p.setAttribute("data-value", String(v));
      p.classList.toggle("outside", selectedDep !== null && c.dep !== selectedDep);
      p.classList.toggle("selected", c.code === props.selectedCommune);
    }
  }, [geometry, communeValues, communeScale, selectedDep, props.selectedCommune]);

  const viewBox = useMemo(() => {
    const dep = selectedDep && geometry.departements.find((d) => d.code === selectedDep);
    if (!dep) return `0 0 ${geometry.width} ${geometry.height}`;
    const [[x0, y0], [x1, y1]] = dep.bounds;
    const pad = Math.max(x1 - x0, y1 - y0) * 0.04;
    return `${x0 - pad} ${y0 - pad} ${x1 - x0 + 2 * pad} ${y1 - y0 + 2 * pad}`;
  }, [geometry, selectedDep]);

  const communeAt = (target: EventTarget | null): string | null =>
    target instanceof SVGPathElement ? target.getAttribute("data-commune") : null;
  const names = useMemo(() => new Map(geometry.communes.map((c) => [c.code, c.name])), [geometry]);
  const hovered = hover
    ? hover.startsWith("dep:")
      ? geometry.departements.find((d) => d.code === hover.slice(4))?.name + ` : ${props.describe(depValues.get(hover.slice(4)) ?? 0)}`
      : `${names.get(hover) ?? hover} : ${props.describe(communeValues.get(hover) ?? 0)}`
    : null;

  return (
    <div class="map">
      <svg
        viewBox={viewBox}
        class={showCommunes ? "map-svg show-communes" : "map-svg"}
        aria-labelledby="map-title"
        role="group"
        onPointerLeave={() => setHover(null)}
      >
        <title id="map-title">
          Carte de la Normandie{selectedDep ? `, zoom sur le département ${selectedDep}` : ""} : les valeurs sont
          dans les tableaux à côté.
        </title>
        <g
          ref={layer}
          class="communes"
          onClick={(e) => {
            const code = communeAt(e.target);
            if (code) props.onSelectCommune(code);
          }}
          onPointerOver={(e) => setHover(communeAt(e.target))}
        />
        <g class="departements">
          {geometry.departements.map((d) => {
            const v = depValues.get(d.code) ?? 0;
            return (
              <path
                key={d.code}
                d={d.d}
                data-departement={d.code}
                data-value={String(v)}
                fill={showCommunes ? "none" : depScale.colour(v)}
                class={d.code === selectedDep ? "selected" : undefined}
                // Lower case: an SVG element takes attributes as written, and `tabIndex` is not one.
                tabindex={0}
                role="button"
                aria-label={`${d.name} : ${props.describe(v)}`}
                aria-pressed={d.code === selectedDep}
                onClick={() => props.onSelectDep(d.code)}
                onPointerOver={() => setHover(`dep:${d.code}`)}
                onKeyDown={(e) => {
                  if (e.key === "Enter" || e.key === " ") {
                    e.preventDefault();
                    props.onSelectDep(d.code);
                  }
                }}
              />
            );
          })}
        </g>
      </svg>
      <p class="map-hover" aria-hidden="true">
        {hovered ?? "\u00a0"}
      </p>
      <Legend scale={scale} unit={props.unit} title={showCommunes ? "Par commune" : "Par département"} />
    </div>
  );
}

function Legend(props: { scale: Scale; unit: (n: number) => string; title: string }) {
  return (
    <div class="legend">
      <p class="legend-title">{props.title}</p>
      <ul>
        {legend(props.scale, props.unit).map((l) => (
          <li key={l.label}>
            <svg class="swatch" viewBox="0 0 10 10" aria-hidden="true" focusable="false">
              <rect width="10" height="10" fill={l.colour} />
            </svg>
            {l.label}
          </li>
        ))}
      </ul>
    </div>
  );
}
