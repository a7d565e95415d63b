//! A simulator of the Erasmus+ Beneficiary Module export: the executable
//! specification of its format.
//!
//! `GET /exports/mobilites.csv` serves every activity as one CSV document:
//! semicolon-separated, UTF-8 with a byte-order mark, a header row, French
//! dates (`dd/mm/yyyy`) and amounts (`1 234,50`), fields quoted when they
//! hold a semicolon, and the participant's name in the last column. It has
//! a strong `ETag`. The `malformed_rate` fault breaks that share of rows.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;

use crate::sandbox::cfas::Cfa;
use crate::sandbox::document;
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::is_malformed;
use crate::sandbox::mobility::ErasmusActivity;

/// The export's path.
pub const EXPORT_PATH: &str = "/exports/mobilites.csv";

/// The export's columns.
pub const HEADER: [&str; 13] = [
    "Identifiant de l'activité de mobilité",
    "Numéro de convention de subvention",
    "Code UAI de l'organisme d'envoi",
    "Nom de l'organisme d'envoi",
    "Type d'activité",
    "Pays d'accueil",
    "Ville d'accueil",
    "Date de début",
    "Date de fin",
    "Durée financée (jours)",
    "Montant de la subvention (EUR)",
    "Nombre de participants",
    "Participant",
];

struct Sim {
    cfas: Vec<Cfa>,
    activities: Vec<ErasmusActivity>,
    faults: Faults,
}

/// The simulator's routes.
pub fn router(cfas: &[Cfa], activities: &[ErasmusActivity], faults: Faults) -> Router {
    let sim = Arc::new(Sim {
        cfas: cfas.to_vec(),
        activities: activities.to_vec(),
        faults: faults.clone(),
    });
    faulty(
        Router::new()
            .route(EXPORT_PATH, get(export))
            .with_state(sim),
        faults,
    )
}

async fn export(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let body = render(&sim.cfas, &sim.activities, sim.faults.malformed_rate());
    let tag = document::etag(&body);
    document::conditional(&headers, body.into(), &tag, "text/csv; charset=UTF-8")
}

/// Euros written the French way: `1 234,50`.
fn french_amount(cents: i64) -> String {
    let euros = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in euros.chars().enumerate() {
        if i > 0 && (euros.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{grouped},{:02}", cents % 100)
}

/// Renders the export.
pub fn render(cfas: &[Cfa], activities: &[ErasmusActivity], malformed_rate: f64) -> Vec<u8> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    {
        let mut w = csv::WriterBuilder::new()
            .delimiter(b';')
            .from_writer(&mut out);
        let _ = w.write_record(HEADER);
        for a in activities {
            let cfa = &cfas[a.cfa];
            let broken = is_malformed(a.seq, malformed_rate).then_some(a.seq % 3);
            let uai = if broken == Some(0) {
                format!("{}Q", &cfa.uai[..7])
            } else {
                cfa.uai.clone()
            };
            let country = if broken == Some(1) {
                "Atlantide"
            } else {
                a.country
            };
            let start = if broken == Some(2) {
                a.start.format("%Y-%m-%d")
            } else {
                a.start.format("%d/%m/%Y")
            };
            let _ = w.write_record([
                format!("MA-{}-{:06}", a.start.format("%Y"), a.seq),
                format!("2026-1-FR01-KA121-VET-{:09}", a.cfa + 1),
                uai,
                cfa.name.clone(),
                a.activity.to_owned(),
                country.to_owned(),
                a.city.to_owned(),
                start.to_string(),
                a.end.format("%d/%m/%Y").to_string(),
                ((a.end - a.start).num_days() + 1).to_string(),
                french_amount(a.amount_cents),
                a.participants.to_string(),
                a.participant.clone(),
            ]);
        }
        let _ = w.flush();
    }
    out
}

/// The simulator's routes, serving the sandbox's data with `faults`.
pub fn simulate(data: &crate::sandbox::SandboxData, faults: Faults) -> Router {
    router(&data.cfas, &data.erasmus, faults)
}

#[cfg(test)]
mod tests {
    #[test]
    fn amounts_are_written_the_french_way() {
        assert_eq!(super::french_amount(123_450), "1 234,50");
        assert_eq!(super::french_amount(98_765_432_107), "987 654 321,07");
        assert_eq!(super::french_amount(5), "0,05");
    }
}
