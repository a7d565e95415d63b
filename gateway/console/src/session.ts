// The caller's session, as the gateway's `/console/session` describes it.
//
// The access token lives in this module's memory only: never in web storage,
// never in a URL, never logged. A reload asks the gateway again (its session
// cookie is what lasts).

import { useEffect, useState } from "preact/hooks";

export interface Session {
  signedIn: boolean;
  /** Whether a sign-in is possible (an identity provider is configured). */
  signIn: boolean;
  sandbox: boolean;
  subject: string | null;
  scopes: string[];
  opco: string | null;
  cfa: string | null;
  expiresAt: Date | null;
  /** The token expired, or the API refused it: a new sign-in is needed. */
  expired: boolean;
}

interface SessionAnswer {
  signedIn?: boolean;
  signIn?: boolean;
  sandbox?: boolean;
  accessToken?: string;
  expiresAt?: string;
  subject?: string;
  scopes?: string[];
  opco?: string | null;
  cfa?: string | null;
}

const signedOut: Session = {
  signedIn: false,
  signIn: true,
  sandbox: false,
  subject: null,
  scopes: [],
  opco: null,
  cfa: null,
  expiresAt: null,
  expired: false,
};

let token: string | null = null;
let current: Session = signedOut;
let expiryTimer: ReturnType<typeof setTimeout> | undefined;
const listeners = new Set<(s: Session) => void>();

function publish(next: Session): void {
  current = next;
  for (const l of listeners) l(next);
}

/** The bearer token to send, while the session is valid. */
export function accessToken(): string | null {
  return current.expired ? null : token;
}

export function session(): Session {
  return current;
}

export function hasScope(scope: string): boolean {
  return current.signedIn && !current.expired && current.scopes.includes(scope);
}

/** Marks the session expired: the API said UNAUTHENTICATED, or its time ran out. */
export function expire(): void {
  if (!current.signedIn || current.expired) return;
  token = null;
  publish({ ...current, expired: true });
}

/** Asks the gateway who the caller is; resolves once the session is known. */
export async function loadSession(): Promise<Session> {
  let answer: SessionAnswer = {};
  try {
    const res = await fetch("/console/session", {
      credentials: "same-origin",
      headers: { accept: "application/json" },
    });
    if (res.headers.get("content-type")?.includes("json")) answer = await res.json();
  } catch {
    // No session endpoint reachable: the console still reads public data.
  }
  const expiresAt = answer.expiresAt ? new Date(answer.expiresAt) : null;
  const signedIn = answer.signedIn === true && typeof answer.accessToken === "string";
  token = signedIn ? answer.accessToken! : null;
  clearTimeout(expiryTimer);
  const next: Session = {
    signedIn,
    signIn: answer.signIn !== false,
    sandbox: answer.sandbox === true,
    subject: signedIn ? (answer.subject ?? null) : null,
    scopes: signedIn ? (answer.scopes ?? []) : [],
    opco: signedIn ? (answer.opco ?? null) : null,
    cfa: signedIn ? (answer.cfa ?? null) : null,
    expiresAt,
    expired: false,
  };
  if (signedIn && expiresAt) {
    const left = expiresAt.getTime() - Date.now();
    if (left <= 0) {
      token = null;
      next.expired = true;
    } else {
      scheduleExpiry(expiresAt);
    }
  }
  publish(next);
  return next;
}

function scheduleExpiry(at: Date): void {
  const left = at.getTime() - Date.now();
  if (left <= 0) return expire();
  // setTimeout holds at most 2^31 - 1 ms: a longer session is looked at again then.
  expiryTimer = setTimeout(() => scheduleExpiry(at), Math.min(left, 2 ** 31 - 1));
}

export function useSession(): Session {
  const [s, set] = useState(current);
  useEffect(() => {
    listeners.add(set);
    set(current);
    return () => void listeners.delete(set);
  }, []);
  return s;
}

/** Where the sign-in link goes: back to this page afterwards. */
export function signInHref(): string {
  const here = location.pathname + location.search;
  return `/console/login?return=${encodeURIComponent(here)}`;
}
