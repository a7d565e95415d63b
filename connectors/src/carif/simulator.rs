//! A simulator of the Carif-Oref catalogue: the executable specification of
//! its protocol.
//!
//! `GET /lheo/offres.xml` serves every programme as one LHÉO 2.2 document
//! (UTF-8, default namespace `http://www.lheo.org/2.2`) with a strong `ETag`;
//! `If-None-Match` with the current tag gets `304 Not Modified`. Places and
//! the CFA's UAI are in the Carif-Oref's `<extras>`. The `malformed_rate`
//! fault breaks that share of records.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use quick_xml::escape::escape;

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

/// The old-scale code LHÉO's `code-niveau-sortie` uses for a 2019 level.
fn lheo_level(level: u8) -> u8 {
    level + 1
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
            level = lheo_level(p.level),
            street = escape(&cfa.street),
            cp = cfa.commune.postcodes[0],
            town = escape(&cfa.commune.name),
            insee = cfa.commune.code,
        );
        for (k, s) in p.sessions.iter().enumerate() {
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
                end = s.end.format("%Y%m%d"),
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
