//! A simulator of the CMA feed: the executable specification of its protocol.
//!
//! `GET /flux/offres.xml` serves every open offer as one XML document in
//! ISO-8859-1, in the namespace `urn:cma-normandie:offres:1`, with a strong
//! `ETag`; `If-None-Match` with the current tag gets `304 Not Modified`.
//! Three records are broken on purpose (a SIRET with a wrong check key, a
//! town unknown at its postcode, a start date written the wrong way), and the
//! `malformed_rate` fault breaks more.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use quick_xml::escape::escape;

use crate::sandbox::document;
use crate::sandbox::faults::{faulty, Faults};
use crate::sandbox::generate::{is_malformed, Position};

/// The feed's path.
pub const FEED_PATH: &str = "/flux/offres.xml";

struct Sim {
    positions: Vec<Position>,
    settings: crate::sandbox::DatasetSettings,
    faults: Faults,
    /// The rendered feed, for the malformed rate and the count of new
    /// positions it was rendered with.
    rendered: Mutex<Option<(RenderKey, Arc<Feed>)>>,
}

/// What a rendered feed depends on: the malformed rate, and how many new
/// positions were published.
type RenderKey = (f64, usize);

struct Feed {
    body: axum::body::Bytes,
    etag: String,
}

/// The records broken on purpose whatever the faults: their positions in
/// the feed and how they break.
pub fn broken_on_purpose(count: usize) -> [(usize, Breakage); 3] {
    [
        (count / 7 + 1, Breakage::Siret),
        (count / 2 + 1, Breakage::Town),
        (count - count / 5, Breakage::Date),
    ]
}

/// A way a record is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// The SIRET's check key is wrong.
    Siret,
    /// The town is not at the postcode given.
    Town,
    /// The start date is not in the feed's date format.
    Date,
    /// The title is empty.
    Title,
}

/// The simulator's routes, serving `positions`, and the new ones published
/// through the sandbox (`publish_new`).
pub fn router(
    positions: &[Position],
    settings: &crate::sandbox::DatasetSettings,
    faults: Faults,
) -> Router {
    let sim = Arc::new(Sim {
        positions: positions.to_vec(),
        settings: settings.clone(),
        faults: faults.clone(),
        rendered: Mutex::new(None),
    });
    faulty(
        Router::new().route(FEED_PATH, get(feed)).with_state(sim),
        faults,
    )
}

async fn feed(State(sim): State<Arc<Sim>>, headers: HeaderMap) -> Response {
    let rate = sim.faults.malformed_rate();
    let published = sim.faults.published_new();
    let key = (rate, published.len());
    let cached = sim
        .rendered
        .lock()
        .expect("feed lock")
        .as_ref()
        .filter(|(k, _)| *k == key)
        .map(|(_, f)| f.clone());
    let feed = match cached {
        Some(f) => f,
        None => {
            let s = sim.clone();
            let f = tokio::task::spawn_blocking(move || {
                let mut all = s.positions.clone();
                all.extend(crate::sandbox::generate::fresh_positions(
                    &s.settings,
                    s.positions.len(),
                    &published,
                ));
                Arc::new(render_feed(&all, s.positions.len(), rate))
            })
            .await
            .expect("rendering does not panic");
            *sim.rendered.lock().expect("feed lock") = Some((key, f.clone()));
            f
        }
    };
    document::conditional(
        &headers,
        feed.body.clone(),
        &feed.etag,
        "application/xml; charset=ISO-8859-1",
    )
}

/// The feed of `positions`, the first `dataset` of them the dataset's (the
/// records broken on purpose are among those).
fn render_feed(positions: &[Position], dataset: usize, rate: f64) -> Feed {
    let purposely: Vec<(usize, Breakage)> = broken_on_purpose(dataset).to_vec();
    let mut xml = String::with_capacity(positions.len() * 1200);
    xml.push_str("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n");
    xml.push_str("<cma:flux xmlns:cma=\"urn:cma-normandie:offres:1\" version=\"1.0\">\n");
    for p in positions {
        let breakage = purposely
            .iter()
            .find(|(seq, _)| *seq == p.seq)
            .map(|(_, b)| *b)
            .or_else(|| {
                is_malformed(p.seq, rate).then_some(match p.seq % 4 {
                    0 => Breakage::Siret,
                    1 => Breakage::Town,
                    2 => Breakage::Date,
                    _ => Breakage::Title,
                })
            });
        render_offre(&mut xml, p, breakage);
    }
    xml.push_str("</cma:flux>\n");
    let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(&xml);
    let etag = document::etag(&bytes);
    Feed {
        body: axum::body::Bytes::from(bytes.into_owned()),
        etag,
    }
}

fn french_minutes(d: DateTime<Utc>) -> String {
    d.with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y %H:%M")
        .to_string()
}

fn render_offre(xml: &mut String, p: &Position, breakage: Option<Breakage>) {
    use std::fmt::Write;
    let dep = &p.commune.departement;
    let mut siret = p.employer.siret.clone();
    if breakage == Some(Breakage::Siret) {
        let last = siret.pop().map_or(b'0', |c| c as u8);
        siret.push(char::from(b'0' + (last - b'0' + 1) % 10));
    }
    let town = if breakage == Some(Breakage::Town) {
        "VILLENEUVE-SUR-MER".to_owned()
    } else {
        p.commune.name.to_uppercase()
    };
    let start = if breakage == Some(Breakage::Date) {
        p.start_date.format("%Y-%m-%d").to_string()
    } else {
        p.start_date.format("%d/%m/%Y").to_string()
    };
    let title = if breakage == Some(Breakage::Title) {
        String::new()
    } else {
        format!("Apprenti(e) — {}", p.rome_label.to_lowercase())
    };
    let diploma = match p.level {
        3 => "CAP",
        4 => ["BP", "BTM", "Bac pro"][p.seq % 3],
        _ => ["BM", "BTS"][p.seq % 2],
    };
    let _ = write!(
        xml,
        concat!(
            "  <cma:offre id=\"CMA-{dep}-{seq:06}\" maj=\"{maj}\">\n",
            "    <cma:intitule>{title}</cma:intitule>\n",
            "    <cma:descriptif>{descr}</cma:descriptif>\n",
            "    <cma:metier rome=\"{rome}\">{label}</cma:metier>\n",
            "    <cma:diplome>{diploma}</cma:diplome>\n",
            "    <cma:entreprise siret=\"{siret}\" effectif=\"{size} salariés\">\n",
            "      <cma:enseigne>{name}</cma:enseigne>\n",
            "      <cma:naf>{naf}</cma:naf>\n",
            "    </cma:entreprise>\n",
            "    <cma:lieu cp=\"{cp}\" ville=\"{town}\">{street}</cma:lieu>\n",
            "    <cma:debut>{start}</cma:debut>\n",
            "    <cma:duree>{months} mois</cma:duree>\n",
            "    <cma:rythme>{rhythm}</cma:rythme>\n",
            "    <cma:postes>{openings}</cma:postes>\n",
            "    <cma:publie>{published}</cma:publie>\n",
            "    <cma:expire>{expires}</cma:expire>\n",
            "  </cma:offre>\n"
        ),
        dep = dep,
        seq = p.seq,
        maj = french_minutes(p.updated_at),
        title = escape(&title),
        descr = escape(&p.description),
        rome = p.rome,
        label = escape(p.rome_label),
        diploma = diploma,
        siret = siret,
        size = p.employer.size.replace('-', " à "),
        name = escape(&p.employer.name),
        naf = p.employer.naf.replace('.', ""),
        cp = p.postcode,
        town = escape(&town),
        street = escape(&p.street),
        start = start,
        months = p.duration_months,
        rhythm = escape(p.rhythm),
        openings = p.openings,
        published = french_minutes(p.published_at),
        expires = p
            .expires_at
            .with_timezone(&chrono_tz::Europe::Paris)
            .format("%d/%m/%Y"),
    );
}

/// The simulator's routes, serving the sandbox's data with `faults`.
pub fn simulate(data: &crate::sandbox::SandboxData, faults: Faults) -> Router {
    router(&data.offers.cma, &data.settings.data, faults)
}
