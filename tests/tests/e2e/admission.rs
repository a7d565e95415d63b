//! Every door, one lock: each bound a request is held to, tried on each
//! door that reaches the schema (`POST /graphql`, `GET /graphql`,
//! graphql-ws on `/graphql`, graphql-sse on `/graphql/stream`), from one
//! table of attacks. A door added later is a fifth column of the table,
//! and must pass every row.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{rss_kib, spawn_app_with, TestApp, NO_DETECTION, SMALL};

/// The doors to the schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Door {
    Post,
    Get,
    GraphqlWs,
    Sse,
}

const DOORS: [Door; 4] = [Door::Post, Door::Get, Door::GraphqlWs, Door::Sse];

/// What a door answered one request: its data, and the codes of its
/// errors. A graphql-ws connection closed instead stands for the code its
/// close means (4403: `UNAUTHENTICATED`, 4429: `RATE_LIMITED`, 1009:
/// `REQUEST_TOO_LARGE`).
#[derive(Debug, Default)]
struct Answer {
    data: Value,
    codes: Vec<String>,
    /// The answer as sent, its keys in the order they were sent.
    text: String,
}

impl Answer {
    fn of_text(text: &str) -> Self {
        let body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        Self {
            text: text.to_owned(),
            ..Self::of(&body)
        }
    }

    fn of(body: &Value) -> Self {
        Self {
            text: body.to_string(),
            data: body["data"].clone(),
            codes: body["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect(),
        }
    }

    fn code(code: &str) -> Self {
        Self {
            codes: vec![code.to_owned()],
            ..Self::default()
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A graphql-ws connection, acknowledged, or the code it was refused with.
async fn ws_connect(app: &TestApp, token: Option<&str>) -> Result<Socket, Answer> {
    let url = app.url("/graphql").replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = match tokio_tungstenite::connect_async(request).await {
        Ok(s) => s,
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            let body: Value = r
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            return Err(Answer::of(&body));
        }
        Err(e) => panic!("{e}"),
    };
    let payload = match token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    ws_send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    match ws_next(&mut socket).await {
        Ok(m) if m["type"] == "connection_ack" => Ok(socket),
        Ok(m) => panic!("unexpected {m}"),
        Err(close) => Err(Answer::code(close_code(close))),
    }
}

fn close_code(close: u16) -> &'static str {
    match close {
        4403 => "UNAUTHENTICATED",
        4429 => "RATE_LIMITED",
        1009 => "REQUEST_TOO_LARGE",
        _ => "CLOSED",
    }
}

async fn ws_send(socket: &mut Socket, v: Value) {
    // A socket the gateway closed refuses the write; the close is read next.
    let _ = socket.send(Message::Text(v.to_string().into())).await;
}

/// The next message: a JSON text, or the close code.
async fn ws_next(socket: &mut Socket) -> Result<Value, u16> {
    ws_next_text(socket)
        .await
        .map(|t| serde_json::from_str(&t).unwrap())
}

/// The next message's text, or the close code.
async fn ws_next_text(socket: &mut Socket) -> Result<String, u16> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("an answer within 30 s");
        match m {
            Some(Ok(Message::Text(t))) => return Ok(t.to_string()),
            Some(Ok(Message::Close(Some(f)))) => return Err(u16::from(f.code)),
            Some(Ok(Message::Close(None))) | None => return Err(1005),
            Some(Ok(_)) => continue,
            Some(Err(_)) => return Err(1006),
        }
    }
}

/// Runs one operation over a graphql-ws connection: its first `next`, or
/// its `error`, or the close.
async fn ws_run(socket: &mut Socket, request: &Value) -> Answer {
    ws_send(
        socket,
        json!({ "id": "1", "type": "subscribe", "payload": request }),
    )
    .await;
    loop {
        let text = ws_next_text(socket).await;
        let m = text
            .as_deref()
            .map(|t| serde_json::from_str::<Value>(t).unwrap())
            .map_err(|c| *c);
        match m {
            Ok(m) if m["type"] == "next" => {
                let text = text.unwrap();
                let payload = &text[text.find("\"payload\":").unwrap() + 10..text.len() - 1];
                return Answer::of_text(payload);
            }
            Ok(m) if m["type"] == "error" => return Answer::of(&json!({ "errors": m["payload"] })),
            Ok(m) if m["type"] == "ping" => {
                ws_send(socket, json!({ "type": "pong" })).await;
            }
            Ok(m) => panic!("unexpected {m}"),
            Err(close) => return Answer::code(close_code(close)),
        }
    }
}

/// Sends `request` (a GraphQL-over-HTTP request object) by `door`, with a
/// bearer token or none.
async fn through(app: &TestApp, door: Door, request: &Value, token: Option<&str>) -> Answer {
    match door {
        Door::Post => {
            let mut r = app
                .client
                .post(app.url("/graphql"))
                .header("accept", "application/graphql-response+json")
                .json(request);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let r = r.send().await.unwrap();
            Answer::of_text(&r.text().await.unwrap_or_default())
        }
        Door::Get => {
            let mut pairs = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in request.as_object().unwrap() {
                match v {
                    Value::String(s) => pairs.append_pair(k, s),
                    other => pairs.append_pair(k, &other.to_string()),
                };
            }
            let target = format!("/graphql?{}", pairs.finish());
            if target.len() > u16::MAX as usize - 100 {
                // Longer than a client library builds: sent by hand.
                return Answer::code(match raw_get_status(app, &target).await {
                    414 => "REQUEST_TOO_LARGE",
                    _ => "UNEXPECTED_STATUS",
                });
            }
            let mut r = app
                .client
                .get(app.url(&target))
                .header("accept", "application/graphql-response+json");
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let r = r.send().await.unwrap();
            if r.status() == 414 {
                // Past 64 KiB the HTTP layer refuses the request line
                // itself, with no body.
                return Answer::code("REQUEST_TOO_LARGE");
            }
            Answer::of_text(&r.text().await.unwrap_or_default())
        }
        Door::GraphqlWs => match ws_connect(app, token).await {
            Ok(mut socket) => ws_run(&mut socket, request).await,
            Err(refused) => refused,
        },
        Door::Sse => {
            let mut r = app
                .client
                .post(app.url("/graphql/stream"))
                .header("accept", "text/event-stream")
                .json(request);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let r = r.send().await.unwrap();
            if r.status() != 200 {
                return Answer::of(&r.json::<Value>().await.unwrap_or(Value::Null));
            }
            let mut r = r;
            let mut text = String::new();
            loop {
                let chunk = tokio::time::timeout(Duration::from_secs(30), r.chunk())
                    .await
                    .expect("an event within 30 s");
                let Ok(Some(chunk)) = chunk else {
                    return Answer::code("CLOSED");
                };
                text.push_str(&String::from_utf8_lossy(&chunk));
                if let Some(data) = text
                    .split("\n\n")
                    .find(|e| e.contains("event: next"))
                    .and_then(|e| e.lines().find_map(|l| l.strip_prefix("data: ")))
                {
                    return Answer::of_text(data);
                }
            }
        }
    }
}

/// The status a request line of `target` is answered with.
async fn raw_get_status(app: &TestApp, target: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n");
    // The server may answer before it has read the whole line.
    let _ = tcp.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), tcp.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// `n` fragments, each spreading the next twice: a small document whose
/// expansion doubles at each level.
fn fragment_chain(n: usize) -> String {
    let mut doc = String::from("query { ...F0 }");
    for i in 0..n {
        doc.push_str(&format!(
            " fragment F{i} on Query {{ ...F{} ...F{} }}",
            i + 1,
            i + 1
        ));
    }
    doc.push_str(&format!(" fragment F{n} on Query {{ __typename }}"));
    doc
}

fn repeat(n: usize, f: impl Fn(usize) -> String) -> String {
    (0..n).map(f).collect::<Vec<_>>().join(" ")
}

/// The attacks, each refused with its code by every door.
fn attacks() -> Vec<(&'static str, Value, &'static str)> {
    let representations: Vec<Value> = (0..1001)
        .map(|_| json!({ "__typename": "Cfa", "uai": "0141687H" }))
        .collect();
    vec![
        (
            "30 fragments each spreading the next twice",
            json!({ "query": fragment_chain(30) }),
            "TOO_MANY_SELECTIONS",
        ),
        (
            "fragments spreading fragments 40 deep",
            json!({ "query": format!(
                "query {{ ...F0 }} {} fragment F40 on Query {{ __typename }}",
                repeat(40, |i| format!("fragment F{i} on Query {{ ...F{} }}", i + 1))
            ) }),
            "QUERY_TOO_DEEP",
        ),
        (
            "150 unused variable definitions",
            json!({ "query": format!(
                "query({}) {{ __typename }}",
                repeat(150, |i| format!("$v{i}: Int"))
            ) }),
            "TOO_MANY_VARIABLES",
        ),
        (
            "21 operations",
            json!({
                "query": repeat(21, |i| format!("query Q{i} {{ __typename }}")),
                "operationName": "Q0",
            }),
            "TOO_MANY_OPERATIONS",
        ),
        (
            "11 directives on a field",
            json!({ "query": format!(
                "{{ __typename {} }}",
                repeat(11, |_| "@include(if: true)".into())
            ) }),
            "TOO_MANY_DIRECTIVES",
        ),
        (
            "300 aliases",
            json!({ "query": format!("{{ {} }}", repeat(300, |i| format!("a{i}: __typename"))) }),
            "TOO_MANY_ALIASES",
        ),
        (
            "40 aliases through fragments",
            json!({ "query": format!(
                "{{ ...A ...B }} fragment A on Query {{ {} }} fragment B on Query {{ {} }}",
                repeat(20, |i| format!("a{i}: __typename")),
                repeat(20, |i| format!("b{i}: __typename"))
            ) }),
            "TOO_MANY_ALIASES",
        ),
        (
            "25 root fields",
            json!({ "query": format!(
                "{{ {} }}",
                repeat(25, |i| format!("r{i}: partners {{ id }}"))
            ) }),
            "TOO_MANY_ROOT_FIELDS",
        ),
        (
            "1,001 representations",
            json!({
                "query": "query($r: [_Any!]!) { _entities(representations: $r) { __typename } }",
                "variables": { "r": representations },
            }),
            "TOO_MANY_REPRESENTATIONS",
        ),
        (
            "nested 13 deep",
            json!({ "query": format!(
                "{{ offers {{ nodes {{ {} id {} }} }} }}",
                "employer { ".repeat(10),
                "} ".repeat(10)
            ) }),
            "QUERY_TOO_DEEP",
        ),
        (
            "an introspection nested 17 deep",
            json!({ "query": format!(
                "{{ __schema {{ types {{ fields {{ type {{ {} name {} }} }} }} }} }}",
                "ofType { ".repeat(12),
                "} ".repeat(12)
            ) }),
            "QUERY_TOO_DEEP",
        ),
        (
            "a variable of the wrong type",
            json!({
                "query": "query($f: Int!) { offers(first: $f) { totalCount } }",
                "variables": { "f": "many" },
            }),
            "INVALID_INPUT",
        ),
        (
            "a document that does not parse",
            json!({ "query": "{ offers(first: ) }" }),
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            "an operation name the document lacks",
            json!({ "query": "query A { __typename }", "operationName": "B" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ]
}

/// The longest query string a `GET` carries: past it, the door refuses
/// the request for its size before reading it.
const GET_LIMIT: usize = 32 * 1024;

fn get_length(request: &Value) -> usize {
    request
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| k.len() + v.to_string().len() * 3)
        .sum()
}

#[tokio::test]
async fn every_door_refuses_each_attack_with_its_code() {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    for (name, request, code) in attacks() {
        for door in DOORS {
            let expected = if door == Door::Get && get_length(&request) > GET_LIMIT {
                "REQUEST_TOO_LARGE"
            } else {
                code
            };
            let answer = through(&app, door, &request, None).await;
            assert_eq!(answer.codes, [expected], "{name} by {door:?}: {answer:?}");
            assert!(answer.data.is_null(), "{name} by {door:?} ran: {answer:?}");
        }
    }
    // Still serving, on every door.
    for door in DOORS {
        let answer = through(&app, door, &json!({ "query": "{ __typename }" }), None).await;
        assert_eq!(answer.data, json!({ "__typename": "Query" }), "{door:?}");
    }
}

#[tokio::test]
async fn a_fragment_chain_of_thirty_levels_neither_aborts_nor_grows_the_gateway() {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    let before = rss_kib();
    let request = json!({ "query": fragment_chain(30) });
    for door in DOORS {
        for _ in 0..5 {
            let answer = through(&app, door, &request, None).await;
            assert_eq!(answer.codes, ["TOO_MANY_SELECTIONS"], "{door:?}");
        }
    }
    // Within the bound, a chain still runs.
    let data = app.data(&fragment_chain(8), json!({})).await;
    assert_eq!(data, json!({ "__typename": "Query" }));
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "the process grew {grown} KiB");
}

#[tokio::test]
async fn twenty_thousand_variable_definitions_are_refused_before_validation() {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    let request = json!({ "query": format!(
        "query({}) {{ __typename }}",
        repeat(20_000, |i| format!("$v{i}: Int"))
    ) });
    for door in [Door::Post, Door::GraphqlWs, Door::Sse] {
        let answer = through(&app, door, &request, None).await;
        assert_eq!(answer.codes, ["TOO_MANY_VARIABLES"], "{door:?}");
    }
}

#[tokio::test]
async fn answers_are_in_document_order_and_coded_on_every_door() {
    let app = spawn_app_with(SMALL, NO_DETECTION).await;
    let request = json!({
        "query": "{ z: __typename partners { id } a: __typename }"
    });
    for door in DOORS {
        let answer = through(&app, door, &request, None).await;
        let at = |key: &str| answer.text.find(&format!("\"{key}\":")).unwrap();
        assert!(
            at("z") < at("partners") && at("partners") < at("a"),
            "{door:?}: {}",
            answer.text
        );
    }
    // A mistyped enum is the schema's to refuse: coded all the same.
    let request = json!({
        "query": "query($o: OfferOrder) { offers(first: 1, orderBy: $o) { totalCount } }",
        "variables": { "o": "NOPE" },
    });
    for door in DOORS {
        let answer = through(&app, door, &request, None).await;
        assert!(!answer.codes.is_empty(), "{door:?}: {answer:?}");
        assert!(
            answer.codes.iter().all(|c| !c.is_empty()),
            "{door:?}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn only_trusted_documents_run_on_every_door() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = "{ partners { id } }";
    let manifest = dir.path().join("trusted.json");
    let hash = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(trusted.as_bytes()));
    std::fs::write(&manifest, json!({ hash.clone(): trusted }).to_string()).unwrap();
    let app = spawn_app_with(
        SMALL,
        &format!(
            "{NO_DETECTION}[api]\ntrusted_documents = \"{}\"\n",
            manifest.display()
        ),
    )
    .await;
    let bi = app.token("region:bi alerts:write", None, None);
    let refused = [
        json!({ "query": "{ taxCampaign(year: 2026) { totals { allocations } } }" }),
        json!({ "query": "mutation { createOfferAlert(input: { candidateRef: \"c1\", filter: {}, webhookUrl: \"https://example.org/h\" }) { id } }" }),
        json!({ "query": "subscription { offerPublished { offer { id } } }" }),
        json!({ "query": "", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "00".repeat(32) } } }),
    ];
    for request in &refused {
        for door in DOORS {
            let answer = through(&app, door, request, Some(&bi)).await;
            assert_eq!(
                answer.codes,
                ["PERSISTED_QUERY_NOT_ALLOWED"],
                "{request} by {door:?}: {answer:?}"
            );
        }
    }
    let by_hash =
        json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    for door in DOORS {
        for request in [json!({ "query": trusted }), by_hash.clone()] {
            let answer = through(&app, door, &request, None).await;
            assert!(answer.codes.is_empty(), "{door:?}: {answer:?}");
            assert!(answer.data["partners"].is_array(), "{door:?}: {answer:?}");
        }
    }
}

#[tokio::test]
async fn a_bad_token_is_refused_and_counted_on_every_door() {
    let app = spawn_app_with(
        SMALL,
        &format!("{NO_DETECTION}[limits.rate]\nanonymous_per_second = 1\nburst = 4\n"),
    )
    .await;
    // A signature of another token's: it does not check.
    let token = app.token("region:bi", None, None);
    let other = app.token("alerts:write", None, None);
    let forged = format!(
        "{}.{}",
        token.rsplit_once('.').unwrap().0,
        other.rsplit_once('.').unwrap().1
    );
    let request = json!({ "query": "{ __typename }" });
    for door in DOORS {
        let answer = through(&app, door, &request, Some(&forged)).await;
        assert_eq!(answer.codes, ["UNAUTHENTICATED"], "{door:?}: {answer:?}");
    }
    // Those failures spent the address's burst of four (one comes back a
    // second): guessing is soon over the rate, on every door, and asking
    // anonymously is too.
    for door in DOORS {
        for token in [Some(forged.as_str()), None] {
            let mut codes = Vec::new();
            for _ in 0..6 {
                codes.extend(through(&app, door, &request, token).await.codes);
            }
            assert!(
                codes.iter().any(|c| c == "RATE_LIMITED"),
                "{door:?} {token:?}: {codes:?}"
            );
            assert!(
                codes
                    .iter()
                    .all(|c| c == "RATE_LIMITED" || c == "UNAUTHENTICATED"),
                "{door:?}: {codes:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_operation_deadline_holds_on_every_door() {
    let app = spawn_app_with(
        SMALL,
        &format!("{NO_DETECTION}[limits]\noperation_timeout = \"300ms\"\n"),
    )
    .await;
    app.faults("cnfpt", json!({ "latency_ms": 5000 })).await;
    for (i, door) in DOORS.into_iter().enumerate() {
        // A year of its own: no answer kept by another door serves it.
        let request = json!({
            "query": format!("{{ publicSector {{ apprentices(year: {}) {{ total }} }} }}", 2020 + i)
        });
        let answer = through(&app, door, &request, None).await;
        assert!(
            answer
                .codes
                .iter()
                .any(|c| c == "PARTNER_TIMEOUT" || c == "CIRCUIT_OPEN"),
            "{door:?}: {answer:?}"
        );
    }
}

#[tokio::test]
async fn a_message_or_body_over_the_bound_is_refused_on_every_door() {
    let app = spawn_app_with(
        SMALL,
        &format!("{NO_DETECTION}[limits]\nmax_body_bytes = 65536\n"),
    )
    .await;
    let request = json!({ "query": format!("{{ __typename }} # {}", "x".repeat(70_000)) });
    for door in DOORS {
        let answer = through(&app, door, &request, None).await;
        assert_eq!(answer.codes, ["REQUEST_TOO_LARGE"], "{door:?}: {answer:?}");
    }
}

#[tokio::test]
async fn the_campaign_routes_count_callers_and_bad_tokens_as_graphql_does() {
    let app = spawn_app_with(
        SMALL,
        &format!("{NO_DETECTION}[limits.rate]\nanonymous_per_second = 1\nclient_per_second = 1\nburst = 3\n"),
    )
    .await;
    let forged = format!(
        "{}.{}",
        app.token("region:bi", None, None)
            .rsplit_once('.')
            .unwrap()
            .0,
        app.token("alerts:write", None, None)
            .rsplit_once('.')
            .unwrap()
            .1
    );
    let export = app.url("/export/tax-campaign/2026.csv");
    let upload = app.url("/ingest/allocations?campaign=2026");
    let mut statuses = Vec::new();
    for i in 0..6 {
        let r = if i % 2 == 0 {
            app.client.get(&export).bearer_auth(&forged).send().await
        } else {
            app.client
                .post(&upload)
                .bearer_auth(&forged)
                .header("content-type", "text/csv")
                .body("siret;uai;montant\n")
                .send()
                .await
        };
        statuses.push(r.unwrap().status().as_u16());
    }
    assert!(
        statuses.contains(&401) && statuses.contains(&429),
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 429),
        "{statuses:?}"
    );
    // And the address's bucket is the one `/graphql` counts.
    let answer = through(
        &app,
        Door::Post,
        &json!({ "query": "{ __typename }" }),
        None,
    )
    .await;
    assert_eq!(answer.codes, ["RATE_LIMITED"], "{answer:?}");
    // A caller with a token has a rate of its own there too.
    let bi = app.token("region:bi", None, None);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = app
            .client
            .get(&export)
            .bearer_auth(&bi)
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    assert!(
        statuses.contains(&200) && statuses.contains(&429),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_subscription_does_not_outlive_its_token() {
    let app = spawn_app_with(SMALL, &format!("{NO_DETECTION}[auth]\nleeway = \"0s\"\n")).await;
    let issuer = passerelle::auth::issuer::Issuer::load_or_create(
        &app.data_dir,
        "passerelle-sandbox",
        "passerelle",
    )
    .unwrap();
    let short = issuer.mint(
        "candidate-portal",
        "alerts:write region:bi",
        None,
        None,
        Duration::from_secs(2),
    );
    let subscription = json!({ "query": "subscription { offerPublished { offer { id } } }" });
    // graphql-ws: admitted while the token holds, closed with 4403 when it
    // expires, though the client sends nothing.
    let mut socket = ws_connect(&app, Some(&short)).await.unwrap();
    ws_send(
        &mut socket,
        json!({ "id": "s", "type": "subscribe", "payload": subscription }),
    )
    .await;
    let closed = loop {
        match ws_next(&mut socket).await {
            Ok(m) if m["type"] == "ping" => ws_send(&mut socket, json!({ "type": "pong" })).await,
            Ok(m) => panic!("unexpected {m}"),
            Err(code) => break code,
        }
    };
    assert_eq!(closed, 4403);
    // Its rights went with it, on every door.
    let read = json!({ "query": "{ taxCampaign(year: 2026) { totals { allocations } } }" });
    for door in DOORS {
        let answer = through(&app, door, &read, Some(&short)).await;
        assert_eq!(answer.codes, ["UNAUTHENTICATED"], "{door:?}: {answer:?}");
    }
    // graphql-sse: the stream ends at expiry, without `complete`.
    let short = issuer.mint(
        "candidate-portal",
        "alerts:write",
        None,
        None,
        Duration::from_secs(2),
    );
    let mut r = app
        .client
        .post(app.url("/graphql/stream"))
        .header("accept", "text/event-stream")
        .bearer_auth(&short)
        .json(&subscription)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let mut text = String::new();
    let ended = tokio::time::timeout(Duration::from_secs(30), async {
        while let Ok(Some(chunk)) = r.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    assert!(ended.is_ok(), "the stream outlived its token");
    assert!(!text.contains("event: complete"), "{text}");
}

/// Sends `{ __typename }` as a client behind a proxy at loopback, which
/// says the request came from `client`; the codes of the answer.
async fn forwarded_for(app: &TestApp, client: &str) -> Vec<String> {
    let r = app
        .client
        .post(app.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .header("x-forwarded-for", format!("198.51.100.77, {client}"))
        .json(&json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    Answer::of_text(&r.text().await.unwrap()).codes
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_rate_and_slots() {
    let limits = "[limits.rate]\nanonymous_per_second = 1\nburst = 3\n\
                  [subscriptions]\nconnections_per_address = 1\n";
    let app = spawn_app_with(
        SMALL,
        &format!("{NO_DETECTION}{limits}[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n"),
    )
    .await;
    let mut first = Vec::new();
    for _ in 0..6 {
        first.extend(forwarded_for(&app, "203.0.113.1").await);
    }
    assert!(first.iter().any(|c| c == "RATE_LIMITED"), "{first:?}");
    // Another client behind the same proxy has a bucket of its own; the
    // address a client writes to the left of the proxy's is not believed.
    assert!(forwarded_for(&app, "203.0.113.2").await.is_empty());
    // One subscription connection per client: a second from the same
    // client is refused, one from another client is not.
    let sse = |client: &'static str| {
        app.client
            .post(app.url("/graphql/stream"))
            .header("accept", "text/event-stream")
            .header("x-forwarded-for", client)
            .json(&json!({ "query": "subscription { offerPublished { offer { id } } }" }))
            .send()
    };
    let held = sse("203.0.113.3").await.unwrap();
    assert_eq!(held.status(), 200);
    assert_eq!(sse("203.0.113.3").await.unwrap().status(), 429);
    assert_eq!(sse("203.0.113.4").await.unwrap().status(), 200);
    drop(held);

    // Without trusted proxies, the header is the client's word: ignored.
    let app = spawn_app_with(SMALL, &format!("{NO_DETECTION}{limits}")).await;
    let mut codes = Vec::new();
    for i in 0..6 {
        codes.extend(forwarded_for(&app, &format!("203.0.113.{}", 10 + i)).await);
    }
    assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "{codes:?}");
}

#[tokio::test]
async fn an_event_stream_subscriber_that_does_not_read_is_let_go() {
    use tokio::io::AsyncWriteExt;
    let app = spawn_app_with(
        SMALL,
        "[alerts]\npoll_interval = \"1h\"\n[server]\nwrite_timeout = \"1s\"\n",
    )
    .await;
    // A client that sends its subscription and never reads again.
    let body = json!({
        "query": "subscription { offerPublished { offer { id title description employer { name } } } }"
    })
    .to_string();
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    tcp.write_all(
        format!(
            "POST /graphql/stream HTTP/1.1\r\nhost: x\r\naccept: text/event-stream\r\n\
             content-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    while app.metric("passerelle_subscribers_active").await < 1.0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // New offers keep coming; the stream is let go once its writes stall,
    // long before the idle timeout.
    let mut rounds = 0;
    while app.metric("passerelle_subscribers_active").await > 0.0 {
        rounds += 1;
        assert!(rounds <= 30, "a subscriber that never reads is still held");
        app.faults("cma", json!({ "publish_new": 2000 })).await;
        app.client
            .post(app.url("/_sandbox/cma/sync"))
            .send()
            .await
            .unwrap();
    }
    drop(tcp);
}
