//! The campaign through the API: OPCOs push (mutation and bulk upload),
//! each for itself only; the Région reads the campaign and exports it; a
//! CFA reads its own line and nothing else.

use std::collections::BTreeMap;

use passerelle_connectors::sandbox::campaign::{write_csv, Campaign, CampaignSettings};
use passerelle_schema::AllocationInput;
use serde_json::{json, Value};

use crate::helpers::{rss_kib, spawn_app, TestApp, SMALL};

const PUSH: &str = r#"mutation($input: PushAllocationsInput!) {
    pushAllocations(input: $input) {
        opco campaign received accepted duplicates rejectedCount replayed
        rejected { index field code reason }
    }
}"#;

const CAMPAIGN: &str = r#"query {
    taxCampaign(year: 2026) {
        totals {
            amount allocations employers establishments toNormandy outsideNormandy
            fromNormandyEmployers leaked leakageRate
        }
        byOpco { key label amount allocations }
        byEmployerDepartement { key label amount allocations employers }
        byWeek { key amount allocations }
        establishments(first: 5) {
            totalCount
            pageInfo { hasNextPage }
            nodes { uai name departement { code name } inNormandy knownToCatalogue amount allocations employers }
        }
    }
}"#;

fn generated(
    allocations: u64,
    invalid_every: Option<u64>,
) -> BTreeMap<&'static str, Vec<AllocationInput>> {
    let mut out: BTreeMap<&'static str, Vec<AllocationInput>> = BTreeMap::new();
    for (opco, a) in Campaign::new(CampaignSettings {
        employers: 150,
        allocations,
        invalid_every,
        ..CampaignSettings::default()
    }) {
        out.entry(opco).or_default().push(a);
    }
    out
}

async fn push(app: &TestApp, opco: &str, key: &str, records: &[AllocationInput]) -> Value {
    let token = app.token("allocations:write", Some(opco), None);
    let (status, body) = app
        .post_as(
            Some(&token),
            PUSH,
            json!({ "input": { "campaign": 2026, "idempotencyKey": key, "allocations": records } }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["pushAllocations"].clone()
}

fn cents(v: &Value) -> i64 {
    let s = v.as_str().expect("an amount");
    let (euros, c) = s.split_once('.').expect("two decimals");
    euros.parse::<i64>().unwrap() * 100 + c.parse::<i64>().unwrap()
}

#[tokio::test]
async fn a_pushed_campaign_is_read_back_exactly_and_retries_change_nothing() {
    let app = spawn_app(SMALL).await;
    let batches = generated(1_200, Some(100));
    let mut accepted = 0;
    let mut rejected = 0;
    for (opco, records) in &batches {
        let report = push(&app, opco, "batch-1", records).await;
        assert_eq!(report["opco"], *opco);
        assert_eq!(report["replayed"], false);
        accepted += report["accepted"].as_u64().unwrap();
        rejected += report["rejectedCount"].as_u64().unwrap();
        for r in report["rejected"].as_array().unwrap() {
            assert!(r["index"].as_u64().unwrap() < records.len() as u64);
            assert!(
                ["employerSiret", "amount", "establishmentUai", "allocatedAt"]
                    .contains(&r["field"].as_str().unwrap())
            );
        }
    }
    assert_eq!((accepted, rejected), (1_188, 12));
    let first = app.data_bi(CAMPAIGN, json!({})).await;
    let totals = &first["taxCampaign"]["totals"];
    assert_eq!(totals["allocations"], 1_188);
    let by_opco: i64 = first["taxCampaign"]["byOpco"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| cents(&l["amount"]))
        .sum();
    assert_eq!(by_opco, cents(&totals["amount"]));
    assert_eq!(
        cents(&totals["toNormandy"]) + cents(&totals["outsideNormandy"]),
        cents(&totals["amount"])
    );
    let nodes = first["taxCampaign"]["establishments"]["nodes"]
        .as_array()
        .unwrap();
    assert!(nodes
        .iter()
        .all(|n| n["knownToCatalogue"] == true && n["name"].is_string()));

    for (opco, records) in &batches {
        let report = push(&app, opco, "batch-1", records).await;
        assert_eq!(report["replayed"], true);
    }
    assert_eq!(app.data_bi(CAMPAIGN, json!({})).await, first);
    insta::assert_json_snapshot!("tax_campaign", first);
}

#[tokio::test]
async fn an_opco_pushes_for_itself_only() {
    let app = spawn_app(SMALL).await;
    let batches = generated(50, None);
    let records = &batches["AKTO"];
    let akto = app.token("allocations:write", Some("AKTO"), None);
    let cases = [
        // Naming another OPCO in the batch.
        (Some(akto.clone()), Some("ATLAS")),
        // Without the scope, or without an OPCO claim.
        (Some(app.token("region:bi", Some("AKTO"), None)), None),
        (Some(app.token("allocations:write", None, None)), None),
        (None, None),
    ];
    for (token, opco) in cases {
        let (status, body) = app
            .post_as(
                token.as_deref(),
                PUSH,
                json!({ "input": { "campaign": 2026, "idempotencyKey": "k", "opco": opco, "allocations": records } }),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "FORBIDDEN",
            "{body}"
        );
        assert!(body["data"].is_null(), "{body}");
    }
    let upload = app
        .client
        .post(app.url("/ingest/allocations?campaign=2026&opco=ATLAS"))
        .bearer_auth(&akto)
        .header("idempotency-key", "k")
        .header("content-type", "text/csv")
        .body(csv(records))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), 403);
    let data = app
        .data_bi(
            "{ taxCampaign(year: 2026) { totals { allocations } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["taxCampaign"]["totals"]["allocations"], 0,
        "nothing stored"
    );
}

fn csv(records: &[AllocationInput]) -> Vec<u8> {
    let mut out = Vec::new();
    write_csv(&mut out, records).unwrap();
    out
}

fn xml(records: &[AllocationInput]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<allocations campaign=\"2026\">\n",
    );
    for a in records {
        out.push_str(&format!(
            "<allocation><reference>{}</reference><employerSiret>{}</employerSiret><employerCommune>{}</employerCommune><establishmentUai>{}</establishmentUai><amount>{}</amount><allocatedAt>{}</allocatedAt></allocation>\n",
            a.reference, a.employer_siret, a.employer_commune, a.establishment_uai, a.amount, a.allocated_at
        ));
    }
    out.push_str("</allocations>\n");
    out
}

#[tokio::test]
async fn bulk_uploads_in_csv_and_xml_and_the_export() {
    let app = spawn_app(SMALL).await;
    let batches = generated(600, Some(60));
    let (opco_a, first) = batches.iter().next().unwrap();
    let (opco_b, second) = batches.iter().nth(1).unwrap();
    let upload = |opco: &str, key: Option<&str>, query: &str, content_type: &str, body: Vec<u8>| {
        let mut r = app
            .client
            .post(app.url(&format!("/ingest/allocations{query}")))
            .bearer_auth(app.token("allocations:write", Some(opco), None))
            .header("content-type", content_type.to_owned())
            .body(body);
        if let Some(key) = key {
            r = r.header("idempotency-key", key.to_owned());
        }
        async move {
            let r = r.send().await.unwrap();
            let replayed = r.headers().contains_key("idempotent-replayed");
            (
                r.status().as_u16(),
                replayed,
                r.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, replayed, report) = upload(
        opco_a,
        Some("csv-1"),
        "?campaign=2026",
        "text/csv",
        csv(first),
    )
    .await;
    assert_eq!((status, replayed), (200, false), "{report}");
    let expected_a = first.len() as u64 - report["rejectedCount"].as_u64().unwrap();
    assert_eq!(report["accepted"].as_u64().unwrap(), expected_a);
    let (status, replayed, again) = upload(
        opco_a,
        Some("csv-1"),
        "?campaign=2026",
        "text/csv",
        csv(first),
    )
    .await;
    assert_eq!((status, replayed), (200, true));
    assert_eq!(again["accepted"], report["accepted"]);

    // XML declares its campaign.
    let (status, _, report_b) = upload(
        opco_b,
        Some("xml-1"),
        "",
        "application/xml",
        xml(second).into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{report_b}");
    let expected_b = second.len() as u64 - report_b["rejectedCount"].as_u64().unwrap();
    assert_eq!(report_b["accepted"].as_u64().unwrap(), expected_b);

    // Refusals, each with its code, storing nothing.
    let broken = xml(second).replace("</allocations>", "");
    for (key, query, content_type, body, want_status, want_code) in [
        (
            None,
            "?campaign=2026",
            "text/csv",
            csv(first),
            400,
            "MISSING_IDEMPOTENCY_KEY",
        ),
        (
            Some("j"),
            "?campaign=2026",
            "application/json",
            b"{}".to_vec(),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        (
            Some("c"),
            "",
            "text/csv",
            csv(first),
            400,
            "INVALID_CAMPAIGN",
        ),
        (
            Some("m"),
            "?campaign=2026",
            "application/xml",
            broken.into_bytes(),
            400,
            "MALFORMED_UPLOAD",
        ),
        (
            Some("h"),
            "?campaign=2026",
            "text/csv",
            b"a;b\n1;2\n".to_vec(),
            400,
            "MALFORMED_UPLOAD",
        ),
    ] {
        let (status, _, body) = upload(opco_b, key, query, content_type, body).await;
        assert_eq!(status, want_status, "{body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], want_code, "{body}");
    }
    // A column named twice (here in English and French): which one holds
    // the amount would be a guess, so the upload is refused, naming both.
    let records = csv(second);
    let first_line = records.iter().position(|b| *b == b'\n').unwrap();
    let mut twice = b"reference;siret;commune;uai;amount;date;montant".to_vec();
    twice.extend(&records[first_line..]);
    let (status, _, body) = upload(opco_b, Some("d"), "?campaign=2026", "text/csv", twice).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "MALFORMED_UPLOAD");
    assert_eq!(
        body["errors"][0]["message"],
        "the CSV header has two amount columns: \"amount\" (column 5) and \"montant\" (column 7)",
        "{body}"
    );
    let total = app
        .data_bi(
            "{ taxCampaign(year: 2026) { totals { allocations } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        total["taxCampaign"]["totals"]["allocations"]
            .as_u64()
            .unwrap(),
        expected_a + expected_b
    );

    // The export: every stored allocation, one line each.
    let export = |token: Option<String>| {
        let mut r = app.client.get(app.url("/export/tax-campaign/2026.csv"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let (status, text) = export(Some(app.token("region:bi", None, None))).await;
    assert_eq!(status, 200);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("opco;reference;employer_siret"));
    assert_eq!(lines.len() as u64 - 1, expected_a + expected_b);
    assert_eq!(export(None).await.0, 401);
    assert_eq!(
        export(Some(app.token("", None, Some("0141687H")))).await.0,
        403
    );
}

#[tokio::test]
async fn a_cfa_reads_its_own_line_and_nothing_else() {
    let app = spawn_app(SMALL).await;
    let batches = generated(400, None);
    for (opco, records) in &batches {
        push(&app, opco, "b", records).await;
    }
    let bi = app
        .data_bi(
            "{ taxCampaign(year: 2026) { establishments(first: 2, orderBy: UAI) { nodes { uai amount allocations } } } }",
            json!({}),
        )
        .await;
    let nodes = bi["taxCampaign"]["establishments"]["nodes"]
        .as_array()
        .unwrap()
        .clone();
    let own = nodes[0]["uai"].as_str().unwrap().to_owned();
    let other = nodes[1]["uai"].as_str().unwrap().to_owned();
    let cfa = app.token("", None, Some(&own));
    let (_, body) = app
        .post_as(
            Some(&cfa),
            r#"query($own: String!) { taxCampaign(year: 2026) {
                establishment(uai: $own) { uai amount allocations }
                establishments { totalCount nodes { uai } }
                allocations(first: 500) { nodes { establishmentUai amount } pageInfo { hasNextPage } }
            } }"#,
            json!({ "own": own }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    let c = &body["data"]["taxCampaign"];
    assert_eq!(c["establishment"], nodes[0]);
    assert_eq!(c["establishments"]["totalCount"], 1);
    let mine = c["allocations"]["nodes"].as_array().unwrap();
    assert_eq!(mine.len() as u64, nodes[0]["allocations"].as_u64().unwrap());
    assert!(mine.iter().all(|a| a["establishmentUai"] == own.as_str()));
    assert_eq!(
        mine.iter().map(|a| cents(&a["amount"])).sum::<i64>(),
        cents(&nodes[0]["amount"])
    );
    for query in [
        format!("{{ taxCampaign(year: 2026) {{ establishment(uai: \"{other}\") {{ amount }} }} }}"),
        format!("{{ taxCampaign(year: 2026) {{ allocations(uai: \"{other}\") {{ nodes {{ amount }} }} }} }}"),
        "{ taxCampaign(year: 2026) { totals { amount } } }".to_owned(),
        "{ taxCampaign(year: 2026) { byOpco { amount } } }".to_owned(),
    ] {
        let (_, body) = app.post_as(Some(&cfa), &query, json!({})).await;
        assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{query}: {body}");
    }
}

/// Uploads a CSV whose second line is `line_len` bytes long, written as a
/// stream (never held by the test); the status and body of the answer.
async fn upload_long_line(app: &TestApp, token: &str, line_len: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let header = "reference;siret;commune;uai;amount;date\n";
    let stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let (mut read, mut write) = tokio::io::split(stream);
    let head = format!(
        "POST /ingest/allocations?campaign=2026 HTTP/1.1\r\nhost: passerelle\r\nauthorization: Bearer {token}\r\n\
         idempotency-key: long-line\r\ncontent-type: text/csv\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{header}",
        header.len() + line_len + 1
    );
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        let chunk = vec![b'x'; 1 << 16];
        let mut sent = 0;
        while sent < line_len {
            let n = chunk.len().min(line_len - sent);
            write.write_all(&chunk[..n]).await?;
            sent += n;
        }
        write.write_all(b"\n").await
    });
    let mut answer = Vec::new();
    let _ = read.read_to_end(&mut answer).await;
    writer.abort();
    let text = String::from_utf8_lossy(&answer);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .and_then(|(_, b)| serde_json::from_str(b).ok())
        .unwrap_or(Value::Null);
    (status, body)
}

#[tokio::test]
async fn a_malformed_upload_loses_no_line_and_no_line_is_held_whole() {
    let app = spawn_app(SMALL).await;
    let batches = generated(600, None);
    let (opco, good) = batches.iter().max_by_key(|(_, v)| v.len()).unwrap();
    let opco = *opco;
    assert!(good.len() >= 49);
    let mut lines: Vec<String> = String::from_utf8(csv(&good[..49]))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let rows = lines.len() - 1;
    // A stray quote opening the second row, a formula as a reference, a
    // commune INSEE does not know, one outside Normandy that does not exist.
    lines[2] = format!("\"{}", lines[2]);
    let fields = |l: &str| l.split(';').map(str::to_owned).collect::<Vec<_>>();
    let header = fields(&lines[0]);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    let mut formula = fields(&lines[3]);
    formula[column("reference")] = "=HYPERLINK(\"http://x.example\",\"clic\")".into();
    lines[3] = formula
        .iter()
        .map(|f| {
            if f.contains([';', '"', ',']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(";");
    // Formula starts a spreadsheet also reads: a pipe, a full-width sign.
    for (row, reference) in [(6, "|cmd"), (7, "\u{FF1D}1+2")] {
        let mut f = fields(&lines[row]);
        f[column("reference")] = reference.into();
        lines[row] = f.join(";");
    }
    for (row, commune) in [(4, "75999"), (5, "99999")] {
        let mut f = fields(&lines[row]);
        f[column("employer_commune")] = commune.into();
        lines[row] = f.join(";");
    }
    let body = lines.join("\n") + "\n\n";
    let r = app
        .client
        .post(app.url("/ingest/allocations?campaign=2026"))
        .bearer_auth(app.token("allocations:write", Some(opco), None))
        .header("idempotency-key", "stray-quote")
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    let n = |k: &str| report[k].as_u64().unwrap();
    assert_eq!(n("received"), rows as u64, "every data line: {report}");
    assert_eq!(
        n("received"),
        n("accepted") + n("duplicates") + n("rejectedCount"),
        "{report}"
    );
    assert_eq!(n("rejectedCount"), 3, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    let quote = rejected.iter().find(|r| r["line"] == 3).expect("line 3");
    assert_eq!(quote["code"], "UNREADABLE_RECORD", "{report}");
    for line in [5, 6] {
        let r = rejected.iter().find(|r| r["line"] == line).unwrap();
        assert_eq!(r["field"], "employerCommune", "{report}");
    }

    let figures = app
        .data_bi(
            "{ taxCampaign(year: 2026) { byEmployerDepartement { key } } }",
            json!({}),
        )
        .await;
    let keys = figures["taxCampaign"]["byEmployerDepartement"].to_string();
    assert!(!keys.contains("\"99\""), "{keys}");
    let export = app
        .client
        .get(app.url("/export/tax-campaign/2026.csv"))
        .bearer_auth(app.token("region:bi", None, None))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        export.contains("\"'=HYPERLINK(\"\"http://x.example\"\",\"\"clic\"\")\""),
        "{export}"
    );
    assert!(export.contains(";\"'|cmd\";"), "{export}");
    assert!(export.contains(";\"'\u{FF1D}1+2\";"), "{export}");

    // A line of 150 MB refuses the upload, naming it, and is never held.
    let token = app.token("allocations:write", Some(opco), None);
    let before = rss_kib();
    let (status, body) = upload_long_line(&app, &token, 150 << 20).await;
    let grown_mib = rss_kib().saturating_sub(before) / 1024;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "MALFORMED_UPLOAD");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{body}"
    );
    assert!(grown_mib < 40, "memory grew by {grown_mib} MiB");
}
