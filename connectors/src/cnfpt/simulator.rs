//! A simulator of the CNFPT's SOAP 1.1 service: the executable specification
//! of its protocol.
//!
//! `POST /services/apprentissage` with HTTP basic auth and a SOAP envelope:
//! - `RechercherOffres` answers the public-sector offers of Normandy;
//! - `CompterApprentis` (`annee`) answers the apprentices by employer type
//!   (`etat`, `territoriale`, `hospitaliere`) — 98, 223 and 14 in 2016, then
//!   growing as the Région's plan aimed;
//! - anything else, or a year out of range, is a SOAP fault (HTTP 500).
//!
//! A missing or wrong password gets HTTP 401.

use std::fmt::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use chrono::{Datelike, Duration, NaiveDate};
use passerelle_mappings::record::{select, xml_records};
use passerelle_schema::ids::luhn_check_digit;
use passerelle_schema::reference::{self, Commune};
use quick_xml::escape::escape;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::client::NAMESPACE;
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::{is_malformed, DatasetSettings};

/// The service's path.
pub const PATH: &str = "/services/apprentissage";
/// Passerelle's user, in the sandbox only.
pub const USERNAME: &str = "passerelle";
/// Its password, in the sandbox only.
pub const PASSWORD: &str = "sandbox-cnfpt-password";

/// Apprentices in 2016 (État, territoriale, hospitalière) and their yearly
/// growth in per mille.
const BASE_2016: [(u32, u32); 3] = [(98, 60), (223, 90), (14, 150)];

/// A simulated public-sector offer.
#[derive(Debug, Clone)]
struct PublicOffer {
    seq: usize,
    title: &'static str,
    rome: &'static str,
    level: u8,
    employer: String,
    siret: String,
    kind: &'static str,
    commune: &'static Commune,
    start: NaiveDate,
    published: chrono::DateTime<chrono::Utc>,
    openings: u32,
}

const JOBS: [(&str, &str, u8, &str); 8] = [
    ("Apprenti(e) agent des espaces verts", "A1203", 3, "fpt"),
    (
        "Apprenti(e) agent d'entretien des locaux",
        "K2204",
        3,
        "fpt",
    ),
    ("Apprenti(e) auxiliaire de puériculture", "K1303", 4, "fpt"),
    (
        "Apprenti(e) assistant(e) de gestion administrative",
        "M1602",
        4,
        "fpt",
    ),
    ("Apprenti(e) technicien(ne) informatique", "M1801", 5, "fpe"),
    (
        "Apprenti(e) secrétaire administratif(ve)",
        "M1607",
        5,
        "fpe",
    ),
    ("Apprenti(e) aide-soignant(e)", "J1501", 4, "fph"),
    (
        "Apprenti(e) cuisinier(ère) en restauration collective",
        "G1602",
        3,
        "fph",
    ),
];

fn offers(s: &DatasetSettings) -> Vec<PublicOffer> {
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed ^ 0xC4F7);
    let mut towns: Vec<&'static Commune> = reference::communes()
        .iter()
        .filter(|c| c.population > 3000)
        .collect();
    towns.sort_by_key(|c| std::cmp::Reverse(c.population));
    (0..150)
        .map(|i| {
            let (title, rome, level, kind) = *JOBS.choose(&mut rng).expect("jobs");
            let commune = *towns.choose(&mut rng).expect("towns");
            // Communes employ with their own SIREN; hospitals and State
            // services have theirs.
            let (employer, siren) = match kind {
                "fpt" => (format!("Ville de {}", commune.name), commune_siren(commune)),
                "fph" => (
                    format!("Centre hospitalier de {}", commune.name),
                    digits_with_key(&mut rng, 26),
                ),
                _ => (
                    format!("Services de l'État — {}", commune.name),
                    digits_with_key(&mut rng, 13),
                ),
            };
            let mut d: Vec<u8> = siren.bytes().map(|b| b - b'0').collect();
            d.extend([0, 0, 0, rng.gen_range(1..9)]);
            d.push(luhn_check_digit(&d));
            PublicOffer {
                seq: i + 1,
                title,
                rome,
                level,
                employer,
                siret: d.iter().map(|x| char::from(b'0' + x)).collect(),
                kind,
                commune,
                start: NaiveDate::from_ymd_opt(s.reference_date.year() + 1, 9, 1).expect("a date"),
                published: s
                    .reference_date
                    .and_hms_opt(9, 0, 0)
                    .expect("a time")
                    .and_utc()
                    - Duration::hours(rng.gen_range(0..24 * 90)),
                openings: rng.gen_range(1..=3),
            }
        })
        .collect()
}

fn commune_siren(c: &Commune) -> String {
    c.siren.clone()
}

fn digits_with_key(rng: &mut ChaCha8Rng, prefix: u8) -> String {
    let mut d: Vec<u8> = vec![prefix / 10, prefix % 10];
    d.extend((0..6).map(|_| rng.gen_range(0..10u8)));
    d.push(luhn_check_digit(&d));
    d.iter().map(|x| char::from(b'0' + x)).collect()
}

struct Sim {
    offers: Vec<PublicOffer>,
    faults: Faults,
    reference_year: i32,
}

/// The simulator's routes.
pub fn router(settings: &DatasetSettings, faults: Faults) -> Router {
    let sim = Arc::new(Sim {
        offers: offers(settings),
        faults: faults.clone(),
        reference_year: settings.reference_date.year(),
    });
    faulty(
        Router::new().route(PATH, post(service)).with_state(sim),
        faults,
    )
}

fn envelope(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:c=\"{NAMESPACE}\"><soap:Body>{body}</soap:Body></soap:Envelope>"
    )
}

fn soap_fault(code: &str, message: &str) -> Response {
    let body = envelope(&format!(
        "<soap:Fault><faultcode>soap:{code}</faultcode><faultstring>{}</faultstring></soap:Fault>",
        escape(message)
    ));
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}

fn authorised(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|b| b == format!("{USERNAME}:{PASSWORD}").as_bytes())
}

async fn service(State(sim): State<Arc<Sim>>, headers: HeaderMap, body: Bytes) -> Response {
    if !authorised(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"CNFPT\"")],
        )
            .into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return soap_fault("Client", "the request is not UTF-8");
    };
    if let (ops, None) = xml_records(text, "RechercherOffres") {
        if !ops.is_empty() {
            return ok(&search(&sim));
        }
    }
    if let (ops, None) = xml_records(text, "CompterApprentis") {
        if let Some(op) = ops.first() {
            let year: Option<i32> = select(op, "annee")
                .into_iter()
                .next()
                .and_then(|y| y.trim().parse().ok());
            return match year {
                Some(y) if (2016..=sim.reference_year).contains(&y) => ok(&counts(y)),
                Some(y) => soap_fault("Client", &format!("aucune donnée pour l'année {y}")),
                None => soap_fault("Client", "annee manquante ou invalide"),
            };
        }
    }
    soap_fault("Client", "opération inconnue")
}

fn ok(body: &str) -> Response {
    (
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        envelope(body),
    )
        .into_response()
}

/// Apprentices by employer type in a year.
pub fn counts(year: i32) -> String {
    let n = |(base, growth): (u32, u32)| {
        let mut v = f64::from(base);
        for _ in 2016..year {
            v *= 1.0 + f64::from(growth) / 1000.0;
        }
        v.round() as u32
    };
    format!(
        "<c:CompterApprentisResponse><c:annee>{year}</c:annee><c:compteurs><c:compteur type=\"etat\">{}</c:compteur><c:compteur type=\"territoriale\">{}</c:compteur><c:compteur type=\"hospitaliere\">{}</c:compteur></c:compteurs></c:CompterApprentisResponse>",
        n(BASE_2016[0]),
        n(BASE_2016[1]),
        n(BASE_2016[2])
    )
}

fn search(sim: &Sim) -> String {
    let rate = sim.faults.malformed_rate();
    let mut out = String::from("<c:RechercherOffresResponse><c:offres>");
    for o in &sim.offers {
        let broken = is_malformed(o.seq, rate);
        let _ = write!(
            out,
            concat!(
                "<c:offre id=\"CNFPT-{dep}-{seq:04}\"><c:intitule>{title}</c:intitule>",
                "<c:missions>Au sein des services de la collectivité, en alternance avec le CFA.</c:missions>",
                "<c:employeur siret=\"{siret}\" type=\"{kind}\">{employer}</c:employeur>",
                "<c:metier rome=\"{rome}\"/><c:diplome niveau=\"{level}\"/>",
                "<c:lieu cp=\"{cp}\" insee=\"{insee}\">{town}</c:lieu><c:debut>{start}</c:debut><c:duree>24</c:duree>",
                "<c:postes>{openings}</c:postes><c:publication>{published}</c:publication></c:offre>"
            ),
            dep = o.commune.departement,
            seq = o.seq,
            title = escape(o.title),
            siret = o.siret,
            kind = if broken { "privé" } else { o.kind },
            employer = escape(&o.employer),
            rome = o.rome,
            level = o.level,
            cp = o.commune.postcodes[0],
            insee = o.commune.code,
            town = escape(&o.commune.name),
            start = o.start,
            openings = o.openings,
            published = o.published.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
    }
    out.push_str("</c:offres></c:RechercherOffresResponse>");
    out
}

impl crate::sandbox::Simulated for super::Cnfpt {
    fn simulator(
        data: &crate::sandbox::SandboxData,
        faults: crate::sandbox::Faults,
    ) -> axum::Router {
        router(&data.settings.data, faults)
    }

    fn sandboxed(
        base: &url::Url,
        settings: &crate::sandbox::SandboxSettings,
    ) -> super::CnfptConfig {
        let mut config = super::CnfptConfig::new(
            base.join(PATH).expect("a relative path"),
            USERNAME.into(),
            secrecy::SecretString::from(PASSWORD),
        );
        config.resilience = settings.resilience.clone();
        config
    }
}
