//! Real payloads, written by software nobody here wrote: calendars exported
//! by Outlook, Google, Apple, Thunderbird, Nextcloud and others
//! (`tests/corpus/calendars`), served as a SPRO directory's calendars and
//! read back through the API, occurrence for occurrence against a
//! reference implementation; LHÉO catalogues of the Carif-Oref network
//! (`tests/corpus/lheo`), served as the Carif-Oref feed and read back,
//! programme for programme against an independent reading. Each file is
//! kept with its provenance.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, SMALL};

/// Where the calendars are.
fn calendars() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/calendars")
}

/// Where the LHÉO files are.
fn catalogues() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/lheo")
}

/// The calendars where the gateway and the reference legitimately differ,
/// and why. Each must still differ: a fix takes it off the list.
const KNOWN: &[(&str, &str)] = &[
    (
        "exchange-cdo-icalendar-issue165.ics",
        "`BYDAY=MO, TU, WE, TH, FR` with spaces: Outlook and Google read every weekday (14 occurrences), as the gateway does; the reference reads the first occurrence only",
    ),
    (
        "exchange2010-ical4j-blank-tzid.ics",
        "its VTIMEZONE has an empty TZID: the reference refuses the whole calendar; the gateway reads the zone the event names (Eastern Standard Time, through CLDR)",
    ),
    (
        "exchange2010-icsparser-issue343.ics",
        "the DESCRIPTION's lines are not folded: the reference skips the lines it cannot read and keeps the event; the gateway refuses that event, naming each line (a malformed property refuses its component)",
    ),
    (
        "exchange2010-rie-rrule-until-utc.ics",
        "a day's event ends its rule with a UTC `UNTIL` (Outlook writes the last day's midnight in its own zone, London): the gateway reads days from midnight in Paris and keeps the last day; the reference compares the day with the time in no zone and drops it",
    ),
    (
        "google-icsparser-example.ics",
        "one event ends before it starts: the reference refuses the whole calendar; the gateway refuses that event alone, with its reason",
    ),
    (
        "khal-icalendar-rdate-period.ics",
        "a lone override (`RECURRENCE-ID;RANGE=THISANDFUTURE` without its series) adds dates (`RDATE;VALUE=PERIOD`): the reference gives the override's own occurrence only; the gateway, as khal, every period",
    ),
];

/// A SPRO directory with one CIO a calendar, each named after its file
/// (`cio-14118.ics` is site `cio-14118`), and its calendars, served on
/// loopback.
pub async fn directory_of(
    files: &[(String, Vec<u8>)],
) -> passerelle_connectors::sandbox::SimServer {
    use axum::extract::Path as UrlPath;
    use axum::routing::get;
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let bodies: BTreeMap<String, Vec<u8>> = files.iter().cloned().collect();
    let router = axum::Router::new()
        .route(
            "/api/sites",
            get(move |headers: axum::http::HeaderMap| {
                let host = headers[axum::http::header::HOST]
                    .to_str()
                    .unwrap()
                    .to_owned();
                let sites: Vec<Value> = names
                    .iter()
                    .map(|name| {
                        json!({
                            "id": site_of(name), "type": "CIO", "nom": name, "uai": null,
                            "adresse": { "ligne": "2 place de la Mairie", "code_postal": "14000", "commune": "Caen", "code_insee": "14118" },
                            "agenda": format!("http://{host}/agenda/{name}"),
                        })
                    })
                    .collect();
                async move { axum::Json(json!({ "sites": sites })) }
            }),
        )
        .route(
            "/agenda/{file}",
            get(move |UrlPath(file): UrlPath<String>| {
                let body = bodies.get(&file).cloned();
                async move {
                    match body {
                        Some(b) => Ok(([("content-type", "text/calendar")], b)),
                        None => Err(axum::http::StatusCode::NOT_FOUND),
                    }
                }
            }),
        );
    passerelle_connectors::sandbox::SimServer::start("127.0.0.1:0".parse().unwrap(), router)
        .await
        .unwrap()
}

/// The site a calendar file is served as.
fn site_of(file: &str) -> String {
    file.trim_end_matches(".ics").to_owned()
}

/// What `script` of folder `dir` prints, as JSON.
fn python(dir: &Path, script: &str) -> Value {
    let out = std::process::Command::new("python3")
        .arg(dir.join(script))
        .arg(dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{script} failed (tests/run.sh installs what it needs): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reading prints JSON")
}

/// The files of `dir` named `*.ext`, with their bytes, by name.
fn files_of(dir: &Path, ext: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// One occurrence as compared: start, end, status, title (an event without
/// one is served as the SPRO mapping's default says).
fn line(o: &Value) -> String {
    let title = match o["title"].as_str().unwrap_or("?") {
        "" => "Sans titre",
        t => t,
    };
    format!(
        "{} {} {} {title}",
        o["start"].as_str().unwrap_or("?"),
        o["end"].as_str().unwrap_or("?"),
        o["status"].as_str().unwrap_or("?"),
    )
}

const EVENTS: &str = r#"query($f: EventFilter, $after: String) {
    events(filter: $f, first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { title status start end }
    }
}"#;

#[tokio::test]
async fn real_calendars_give_the_occurrences_a_reference_implementation_gives() {
    let files = files_of(&calendars(), "ics");
    assert!(files.len() >= 30, "{} calendars", files.len());
    let reference = python(&calendars(), "reference.py");
    let spro = directory_of(&files).await;
    let app = spawn_app_with(
        SMALL,
        &format!(
            "[sandbox]\nenabled = false\n[limits.rate]\nanonymous_per_second = 10000\nburst = 10000\n[[partners]]\nkind = \"spro\"\ndirectory_url = \"{}\"\n",
            spro.base_url().join("/api/sites").unwrap()
        ),
    )
    .await;
    let partners = app
        .data("{ partners { id status recordCount } }", json!({}))
        .await;
    let spro = partners["partners"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["id"] == "SPRO"))
        .unwrap_or_else(|| panic!("{partners}"))
        .clone();
    assert!(spro["recordCount"].as_i64().unwrap() > 40, "{spro}");

    let mut agree = Vec::new();
    let mut differ = Vec::new();
    for (file, _) in &files {
        let Some(windows) = reference[file].as_array() else {
            // The reference could not read the calendar at all.
            differ.push((
                file.clone(),
                format!("the reference refuses it: {}", reference[file]["error"]),
            ));
            continue;
        };
        let mut diffs = Vec::new();
        for w in windows {
            let mut served = Vec::new();
            let mut after = Value::Null;
            loop {
                let f = json!({ "from": w["from"], "to": w["to"], "site": site_of(file), "includeCancelled": true });
                let (_, body) = app.post(EVENTS, json!({ "f": f, "after": after })).await;
                let events = &body["data"]["events"];
                assert!(events.is_object(), "{file}: {body}");
                served.extend(events["nodes"].as_array().unwrap().iter().map(line));
                if events["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = events["pageInfo"]["endCursor"].clone();
            }
            served.sort();
            let mut expected: Vec<String> = w["occurrences"]
                .as_array()
                .unwrap()
                .iter()
                .map(line)
                .collect();
            expected.sort();
            if served != expected {
                let missing: Vec<_> = expected
                    .iter()
                    .filter(|e| !served.contains(e))
                    .take(3)
                    .collect();
                let extra: Vec<_> = served
                    .iter()
                    .filter(|s| !expected.contains(s))
                    .take(3)
                    .collect();
                diffs.push(format!(
                    "from {}: {} served, {} expected; missing {missing:?}; extra {extra:?}; the reference refused {}",
                    w["from"], served.len(), expected.len(), w["refused"]
                ));
            }
        }
        if diffs.is_empty() {
            agree.push(file.clone());
        } else {
            differ.push((file.clone(), diffs.join(" | ")));
        }
    }
    let unexplained: Vec<_> = differ
        .iter()
        .filter(|(f, _)| !KNOWN.iter().any(|(k, _)| k == f))
        .collect();
    assert!(
        unexplained.is_empty(),
        "{} of {} calendars agree; these differ:\n{}",
        agree.len(),
        files.len(),
        unexplained
            .iter()
            .map(|(f, d)| format!("- {f}: {d}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    let agreeing_known: Vec<_> = KNOWN
        .iter()
        .filter(|(k, _)| agree.iter().any(|a| a == k))
        .collect();
    assert!(
        agreeing_known.is_empty(),
        "these now agree with the reference: take them off KNOWN: {agreeing_known:?}"
    );
}

const FORMATIONS: &str = r#"query($after: String) {
    formations(first: 100, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { partnerId title objective
                places { id postcode city inseeCode inNormandy sessions { start end recruiting } } }
    }
}"#;

/// The namespaces of the LHÉO versions a catalogue may be written in.
const NAMESPACES: [&str; 4] = [
    "http://www.lheo.org/2.0",
    "http://www.lheo.org/2.1",
    "http://www.lheo.org/2.2",
    "http://lheo.gouv.fr/2.3",
];

/// The programmes a gateway serves of one catalogue, served as the
/// Carif-Oref feed.
async fn served_programmes(lheo: Vec<u8>) -> Vec<Value> {
    let carif = crate::formations::carif_serving(lheo).await;
    let app = spawn_app_with(
        SMALL,
        &format!(
            "[sandbox]\nenabled = false\n[[partners]]\nkind = \"carif\"\nfeed_url = \"{}\"\n",
            carif.base_url().join("/lheo/offres.xml").unwrap()
        ),
    )
    .await;
    let mut served = Vec::new();
    let mut after = Value::Null;
    loop {
        let (_, body) = app.post(FORMATIONS, json!({ "after": after })).await;
        let page = &body["data"]["formations"];
        assert!(page.is_object(), "{body}");
        served.extend(page["nodes"].as_array().unwrap().iter().cloned());
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    served
}

#[tokio::test]
async fn real_catalogues_serve_every_programme_place_and_session_an_independent_reading_finds() {
    let files = files_of(&catalogues(), "xml");
    assert!(files.len() >= 5, "{} catalogues", files.len());
    let reading = python(&catalogues(), "reading.py");
    let mut places = 0;
    let mut elsewhere = 0;
    for (file, bytes) in &files {
        let served = served_programmes(bytes.clone()).await;
        let expected = reading[file].as_array().unwrap();
        assert_eq!(served.len(), expected.len(), "{file}: {served:#?}");
        for (got, want) in served.iter().zip(expected) {
            assert_eq!(got, want, "{file}");
            for p in got["places"].as_array().unwrap() {
                places += 1;
                elsewhere += usize::from(p["inNormandy"] == false);
            }
        }
    }
    // The network's catalogues hold places across the region's border, and
    // one Orne village merged into a commune nouvelle.
    assert!(
        places >= 7 && elsewhere >= 6,
        "{places} places, {elsewhere} elsewhere"
    );

    // Every LHÉO version's namespace reads alike.
    let (file, bytes) = &files[0];
    let text = String::from_utf8(bytes.clone()).unwrap();
    let written = NAMESPACES
        .iter()
        .find(|ns| text.contains(*ns))
        .unwrap_or_else(|| panic!("{file} names no LHÉO namespace"));
    for ns in NAMESPACES {
        let other = text.replace(written, ns).into_bytes();
        assert_eq!(
            served_programmes(other).await,
            reading[file].as_array().unwrap().clone(),
            "{ns}"
        );
    }
}
