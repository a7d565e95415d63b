// The overview: what the console is, where to go, and the public headline figures.

import { useQuery } from "../api";
import { integer } from "../format";
import { useReady } from "../ready";
import { Failure, KeyFigure, Loading, PartnerNotices } from "../components/status";
import type { PageProps } from "../app";

const HOME = /* GraphQL */ `
  query ConsoleHome {
    region {
      offers { total }
      formations { key programmes vacancies }
    }
    partners { id status }
  }
`;

interface HomeData {
  region: {
    offers: { total: number };
    formations: { key: string; programmes: number; vacancies: number }[];
  };
  partners: { id: string; status: string }[];
}

const LINKS = [
  { href: "/campagne", label: "Campagne de la taxe d'apprentissage", text: "où va l'argent des employeurs normands, OPCO par OPCO, établissement par établissement (droit region:bi)." },
  { href: "/offres", label: "Offres et formations", text: "la carte des offres ouvertes et des places libres, par département et par commune." },
  { href: "/partenaires", label: "Partenaires", text: "l'état des systèmes partenaires et de leurs synchronisations." },
  { href: "/mobilite", label: "Mobilité", text: "les mobilités des apprentis à l'étranger (Pass Monde, Erasmus+)." },
  { href: "/secteur-public", label: "Secteur public", text: "les apprentis de la fonction publique, par versant et par année." },
];

export default function Home(_: PageProps) {
  const [state, reload] = useQuery<HomeData>(HOME, {});
  useReady("accueil", state.status === "done" || state.status === "error");

  return (
    <>
      <p class="lead">
        La console de Passerelle réunit en une vue les données de l'apprentissage en Normandie : les offres des
        bourses de la CCI, de la CMA et du CNFPT, le catalogue des formations du Carif-Oref, la mobilité des
        apprentis et la campagne de la taxe d'apprentissage.
      </p>
      <section aria-labelledby="home-figures">
        <h2 id="home-figures">Chiffres du jour</h2>
        {state.status === "error" ? (
          <Failure error={state.error} retry={reload} />
        ) : state.status !== "done" ? (
          <Loading />
        ) : (
          <HomeFigures data={state.result.data} errors={state.result.errors} />
        )}
      </section>
      <section aria-labelledby="home-pages">
        <h2 id="home-pages">Pages</h2>
        <ul class="page-links">
          {LINKS.map((l) => (
            <li key={l.href}>
              <a href={l.href}>{l.label}</a> : {l.text}
            </li>
          ))}
        </ul>
      </section>
    </>
  );
}

function HomeFigures({ data, errors }: { data: HomeData; errors: import("../api").GqlError[] }) {
  const all = data.region.formations.find((f) => f.key === "all");
  const up = data.partners.filter((p) => p.status === "UP").length;
  const down = data.partners.filter((p) => p.status === "DOWN").length;
  const other = data.partners.length - up - down;
  return (
    <>
      <PartnerNotices errors={errors} />
      <dl class="key-figures">
        <KeyFigure id="home-offers" label="Offres ouvertes" value={integer(data.region.offers.total)} />
        <KeyFigure id="home-vacancies" label="Places libres en formation" value={integer(all?.vacancies)} hint={all && `sur ${integer(all.programmes)} formations`} />
        <KeyFigure
          id="home-partners"
          label="Partenaires en service"
          value={`${up} sur ${data.partners.length}`}
          hint={
            <a href="/partenaires">
              {down} en panne{other > 0 ? `, ${other} dégradé${other > 1 ? "s" : ""} ou inconnu${other > 1 ? "s" : ""}` : ""}
            </a>
          }
        />
      </dl>
    </>
  );
}
