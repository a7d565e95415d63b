// The console's frame: header, navigation, session, and the page of the path.

import type { ComponentType } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { useRoute, type Route } from "./router";
import { useSession, signInHref, type Session } from "./session";
import { Loading } from "./components/status";
import { BookLink } from "./components/BookLink";

export interface PageProps {
  route: Route;
  session: Session;
}

interface PageDef {
  path: string;
  /** The navigation's label. */
  nav: string;
  /** The page's `<h1>`. */
  heading: string;
  /** The chapter of the book (in English) that explains the page, linked under its title. */
  help?: { chapter: string; text: string };
  load: () => Promise<{ default: ComponentType<PageProps> }>;
}

// Every page is its own chunk: the campaign page does not load the map's code, nor the map
// the campaign's.
const PAGES: PageDef[] = [
  { path: "/", nav: "Accueil", heading: "L'apprentissage en Normandie", load: () => import("./pages/Home") },
  {
    path: "/campagne",
    nav: "Taxe d'apprentissage",
    heading: "Campagne de la taxe d'apprentissage",
    help: { chapter: "analysts/campaign.html", text: "Comprendre la campagne" },
    load: () => import("./pages/Campaign"),
  },
  {
    path: "/offres",
    nav: "Offres et formations",
    heading: "Offres et formations",
    help: { chapter: "portal/search-offers.html", text: "Comprendre la recherche d'offres" },
    load: () => import("./pages/Offers"),
  },
  {
    path: "/partenaires",
    nav: "Partenaires",
    heading: "Partenaires",
    help: { chapter: "operators/resilience.html", text: "Comprendre l'état des partenaires" },
    load: () => import("./pages/Partners"),
  },
  { path: "/mobilite", nav: "Mobilité", heading: "Mobilité des apprentis", load: () => import("./pages/Mobility") },
  {
    path: "/secteur-public",
    nav: "Secteur public",
    heading: "Apprentissage dans le secteur public",
    load: () => import("./pages/PublicSector"),
  },
];

const PRODUCT = "Passerelle — Apprentissage en Normandie";

export function App() {
  const route = useRoute();
  const session = useSession();
  const page = PAGES.find((p) => p.path === route.path);
  const [menuOpen, setMenuOpen] = useState(false);
  const heading = useRef<HTMLHeadingElement>(null);
  const firstPath = useRef(route.path);

  useEffect(() => {
    document.title = page ? `${page.heading} — Passerelle` : `Page introuvable — Passerelle`;
    setMenuOpen(false);
    // After a navigation (not the first load), the reader starts at the new page's title.
    if (route.path !== firstPath.current) {
      firstPath.current = "";
      heading.current?.focus();
    }
  }, [route.path]);

  return (
    <>
      <a class="skip-link" href="#contenu">
        Aller au contenu
      </a>
      <header class="site-header">
        <div class="header-bar">
          <a class="brand" href="/">
            {PRODUCT}
          </a>
          <button
            type="button"
            class="menu-button"
            aria-expanded={menuOpen}
            aria-controls="navigation"
            onClick={() => setMenuOpen(!menuOpen)}
          >
            Menu
          </button>
          <SessionArea session={session} />
        </div>
        <nav id="navigation" class={menuOpen ? "site-nav open" : "site-nav"} aria-label="Pages de la console">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={p.path} aria-current={p.path === route.path ? "page" : undefined}>
                  {p.nav}
                </a>
              </li>
            ))}
          </ul>
          <BookLink id="help" class="help-link" chapter="analysts/console.html" quiet>
            Aide
          </BookLink>
        </nav>
      </header>
      {session.expired && (
        <div class="notice notice-error session-expired" role="alert">
          <p>Session expirée : les données réservées ne sont plus affichées.</p>
          {session.signIn && (
            <a class="button" href={signInHref()}>
              Se reconnecter
            </a>
          )}
        </div>
      )}
      <main id="contenu" tabIndex={-1}>
        <h1 ref={heading} tabIndex={-1}>
          {page ? page.heading : "Page introuvable"}
        </h1>
        {page?.help && (
          <p class="page-help">
            <BookLink chapter={page.help.chapter}>{page.help.text}</BookLink>
          </p>
        )}
        {page ? (
          <LazyPage key={page.path} def={page} route={route} session={session} />
        ) : (
          <p>
            Cette adresse ne correspond à aucune page de la console. <a href="/">Retour à l'accueil</a>
          </p>
        )}
      </main>
      <footer class="site-footer">
        <p>Passerelle : données des partenaires de l'apprentissage en Normandie, lues par l'API publique.</p>
      </footer>
    </>
  );
}

function SessionArea({ session }: { session: Session }) {
  const signOut = (
    <form method="post" action="/console/logout">
      <button type="submit" id="sign-out" class="button-secondary">
        Se déconnecter
      </button>
    </form>
  );
  const signIn = session.signIn && (
    <a id="sign-in" class="button" href={signInHref()}>
      Se connecter
    </a>
  );
  return (
    <div class="session" role="group" aria-label="Session">
      {session.sandbox && <span class="badge">Bac à sable</span>}
      {session.signedIn ? (
        <>
          <span class="session-who">
            <span id="session-subject">{session.subject}</span>
            <span class="session-scopes">
              {session.expired
                ? "session expirée"
                : session.scopes.length
                  ? session.scopes.join(" ")
                  : "aucun droit"}
              {session.cfa && ` · CFA ${session.cfa}`}
              {session.opco && ` · OPCO ${session.opco}`}
            </span>
          </span>
          {session.expired && signIn}
          {signOut}
        </>
      ) : (
        signIn
      )}
    </div>
  );
}

const loaded = new Map<string, ComponentType<PageProps>>();

function LazyPage(props: { def: PageDef; route: Route; session: Session }) {
  const [Page, setPage] = useState<ComponentType<PageProps> | null>(() => loaded.get(props.def.path) ?? null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    if (Page) return;
    props.def.load().then(
      (m) => {
        loaded.set(props.def.path, m.default);
        setPage(() => m.default);
      },
      () => setFailed(true),
    );
  }, []);
  if (failed) {
    return (
      <div class="notice notice-error" role="alert">
        <p>La page n'a pas pu être chargée (une nouvelle version de la console a peut-être été installée).</p>
        <button type="button" onClick={() => location.reload()}>
          Réessayer
        </button>
      </div>
    );
  }
  return Page ? <Page route={props.route} session={props.session} /> : <Loading />;
}
