// The states every page goes through: loading, failed, partly answered.

import type { ComponentChildren } from "preact";
import { ApiError, partnerNotices, type GqlError } from "../api";

export function Loading(props: { label?: string }) {
  return (
    <p class="loading" role="status" aria-busy="true">
      {props.label ?? "Chargement…"}
    </p>
  );
}

export function Failure(props: { error: ApiError; retry: () => void }) {
  return (
    <div class="notice notice-error" role="alert">
      <p>Les données n'ont pas pu être chargées : {props.error.message}</p>
      {props.error.code !== "UNAUTHENTICATED" && (
        <button type="button" onClick={() => props.retry()}>
          Réessayer
        </button>
      )}
    </div>
  );
}

/** "Données partielles : le partenaire X ne répond pas", once per partner. */
export function PartnerNotices(props: { errors: GqlError[] }) {
  const lines = partnerNotices(props.errors);
  if (lines.length === 0) return null;
  return (
    <div class="notice notice-warning" role="status">
      <ul>
        {lines.map((l) => (
          <li key={l}>{l}</li>
        ))}
      </ul>
    </div>
  );
}

/** A headline figure. */
export function KeyFigure(props: { id?: string; label: string; value: string; hint?: ComponentChildren; raw?: string }) {
  return (
    <div class="key-figure">
      <dt>{props.label}</dt>
      <dd id={props.id} data-value={props.raw}>
        {props.value}
      </dd>
      {props.hint && <dd class="hint">{props.hint}</dd>}
    </div>
  );
}
