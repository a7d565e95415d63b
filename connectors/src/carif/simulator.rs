//! A simulator of the Carif-Oref catalogue: the executable specification of
//! its protocol.
//!
//! `GET /lheo/offres.xml` serves every programme as one LHÉO 2.2 document
//! (UTF-8, default namespace `http://www.lheo.org/2.2`) with a strong `ETag`;
//! `If-None-Match` with the current tag gets `304 Not Modified`. Places and
//! the CFA's UAI are in the Carif-Oref's `<extras>`. The `malformed_rate`
//! fault breaks that share of records.
//!
//! It writes what the standard and the network's feeds hold, not one tidy
//! shape: every fifth programme with two sessions is taught at two places
//! (two `<action>`s, the second at another CFA's town of the département,
//! its INSEE code in the address's `<extras>`); every seventh's last
//! session is open-ended (`<fin>99999999</fin>`); levels come as the
//! network's 2019 codes (`13`–`17`), the old dictionary's (`4`–`8`) or, for
//! every eleventh, the old scale's numerals (`V`–`I`).

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use quick_xml::escape::escape;

use passerelle_schema::reference::Commune;

use crate::sandbox::cfas::{Cfa, Programme};
use crate::sandbox::document;
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::is_malformed;

/// The catalogue's path.
pub const FEED_PATH: &str = "/lheo/offres.xml";

struct Sim {
    cfas: Vec<Cfa>,
    programmes: Vec<Programme>,
    faults: Faults,
}

/// The simulator's routes.
pub fn router(cfas: &[Cfa], programmes: &[Programme], faults: Faults) -> Router {
    let sim = Arc::new(Sim {
        cfas: cfas.to_vec(),
        programmes: programmes.to_vec(),
        faults: faults.clone(),
    });
    faulty(
        Router::new().route(FEED_PATH, get(feed)).with_state(sim),
        faults,
    )
}

async fn feed(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let body = render(&sim.cfas, &sim.programmes, sim.faults.malformed_rate());
    let tag = document::etag(body.as_bytes());
    document::conditional(
        &headers,
        body.into(),
        &tag,
        "application/xml; charset=UTF-8",
    )
}

/// How the catalogue writes a 2019 level in `code-niveau-sortie`: the
/// network's 2019 code (`13` for 3), the old dictionary's (`4` for 3,
/// LHÉO's dict-niveaux) or the old scale's numeral (`V`).
fn lheo_level(level: u8, seq: usize) -> String {
    if seq.is_multiple_of(11) {
        ["V", "IV", "III", "II", "I"][usize::from(level.clamp(3, 7) - 3)].to_owned()
    } else if seq.is_multiple_of(2) {
        (level + 10).to_string()
    } else {
        (level + 1).to_string()
    }
}

/// The second place of a programme taught at two: another town of its
/// CFA's département, where another CFA is.
fn second_place(cfas: &[Cfa], cfa: &Cfa, seq: usize) -> Option<&'static Commune> {
    let towns: Vec<&'static Commune> = cfas
        .iter()
        .map(|c| c.commune)
        .filter(|c| c.departement == cfa.commune.departement && c.code != cfa.commune.code)
        .collect();
    (!towns.is_empty()).then(|| towns[seq % towns.len()])
}

/// Renders the catalogue.
pub fn render(cfas: &[Cfa], programmes: &[Programme], malformed_rate: f64) -> String {
    let mut xml = String::with_capacity(programmes.len() * 2000);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<lheo xmlns=\"http://www.lheo.org/2.2\">\n<offres>\n");
    for p in programmes {
        let cfa = &cfas[p.cfa];
        let broken = is_malformed(p.seq, malformed_rate).then_some(p.seq % 3);
        let uai = if broken == Some(0) {
            format!("{}A", &cfa.uai[..7])
        } else {
            cfa.uai.clone()
        };
        let _ = write!(
            xml,
            concat!(
                "<formation numero=\"F-{uai7}-{seq:04}\">\n",
                "  <domaine-formation><code-ROME>{rome}</code-ROME></domaine-formation>\n",
                "  <intitule-formation>{title}</intitule-formation>\n",
                "  <objectif-formation>Préparer le diplôme en alternance entre le CFA et l'entreprise.</objectif-formation>\n",
                "  <certification><code-RNCP>{rncp}</code-RNCP></certification>\n",
                "  <code-niveau-sortie>{level}</code-niveau-sortie>\n",
                "  <action numero=\"A-{seq:04}\">\n",
                "    <rythme-formation>Alternance</rythme-formation>\n",
                "    <lieu-de-formation><coordonnees><adresse><ligne>{street}</ligne><codepostal>{cp}</codepostal>",
                "<ville>{town}</ville><code-INSEE-commune>{insee}</code-INSEE-commune></adresse></coordonnees></lieu-de-formation>\n",
            ),
            uai7 = &cfa.uai[..7],
            seq = p.seq,
            rome = p.rome,
            title = escape(&p.title),
            rncp = p.rncp.trim_start_matches("RNCP"),
            level = lheo_level(p.level, p.seq),
            street = escape(&cfa.street),
            cp = cfa.commune.postcodes[0],
            town = escape(&cfa.commune.name),
            insee = cfa.commune.code,
        );
        let second = (p.seq % 5 == 0 && p.sessions.len() == 2)
            .then(|| second_place(cfas, cfa, p.seq))
            .flatten();
        for (k, s) in p.sessions.iter().enumerate() {
            if let (1, Some(town)) = (k, second) {
                let _ = write!(
                    xml,
                    concat!(
                        "  </action>\n",
                        "  <action numero=\"A-{seq:04}-2\">\n",
                        "    <rythme-formation>Alternance</rythme-formation>\n",
                        "    <lieu-de-formation><coordonnees><adresse><ligne>Site de {town}</ligne>",
                        "<codepostal>{cp}</codepostal><ville>{town}</ville>",
                        "<extras info=\"carif-normandie\"><extra info=\"code-insee-commune\">{insee}</extra></extras>",
                        "</adresse></coordonnees></lieu-de-formation>\n",
                    ),
                    seq = p.seq,
                    town = escape(&town.name),
                    cp = town.postcodes[0],
                    insee = town.code,
                );
            }
            let end = if p.seq % 7 == 0 && k + 1 == p.sessions.len() {
                "99999999".to_owned()
            } else {
                s.end.format("%Y%m%d").to_string()
            };
            let start = if broken == Some(1) {
                s.start.format("%d/%m/%Y")
            } else {
                s.start.format("%Y%m%d")
            };
            let vacancies = if broken == Some(2) {
                s.places + 3
            } else {
                s.vacancies
            };
            let _ = write!(
                xml,
                concat!(
                    "    <session numero=\"S-{seq:04}-{k}\">\n",
                    "      <periode><debut>{start}</debut><fin>{end}</fin></periode>\n",
                    "      <etat-recrutement>{state}</etat-recrutement>\n",
                    "      <extras info=\"carif-normandie\"><extra info=\"places\">{places}</extra>",
                    "<extra info=\"places-vacantes\">{vacancies}</extra></extras>\n",
                    "    </session>\n",
                ),
                seq = p.seq,
                k = k + 1,
                start = start,
                end = end,
                state = if s.recruiting { 1 } else { 2 },
                places = s.places,
                vacancies = vacancies,
            );
        }
        let _ = write!(
            xml,
            concat!(
                "    <nombre-heures-centre>{hc}</nombre-heures-centre>\n",
                "    <nombre-heures-entreprise>{he}</nombre-heures-entreprise>\n",
                "  </action>\n",
                "  <organisme-formation-responsable>\n",
                "    <SIRET-organisme-formation><SIRET>{siret}</SIRET></SIRET-organisme-formation>\n",
                "    <nom-organisme>{name}</nom-organisme>\n",
                "    <extras info=\"carif-normandie\"><extra info=\"UAI\">{uai}</extra></extras>\n",
                "  </organisme-formation-responsable>\n",
                "</formation>\n",
            ),
            hc = p.hours_centre,
            he = p.hours_company,
            siret = cfa.siret,
            name = escape(&cfa.name),
            uai = uai,
        );
    }
    xml.push_str("</offres>\n</lheo>\n");
    xml
}

/// The simulator's routes, serving the sandbox's data with `faults`.
pub fn simulate(data: &crate::sandbox::SandboxData, faults: Faults) -> Router {
    router(&data.cfas, &data.programmes, faults)
}
