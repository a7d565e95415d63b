//! The graphql-ws protocol as the gateway keeps it, from a raw WebSocket
//! client: connection initialisation, its timeout, authentication, the
//! bounds on subscriptions and connections, a subscriber cut off for not
//! reading, and the close that tells subscribers to reconnect on shutdown.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app_with, TestApp, SMALL};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const LIMITS: &str =
    "[subscriptions]\ninit_timeout = \"300ms\"\nper_connection = 2\nconnections_per_address = 4\n";

async fn connect_with(app: &TestApp, protocol: Option<&str>) -> Result<Socket, u16> {
    let url = app.url("/graphql").replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    if let Some(p) = protocol {
        request
            .headers_mut()
            .insert("sec-websocket-protocol", p.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => Err(r.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

async fn connect(app: &TestApp) -> Socket {
    connect_with(app, Some("graphql-transport-ws"))
        .await
        .unwrap()
}

async fn send(socket: &mut Socket, v: Value) {
    socket
        .send(Message::Text(v.to_string().into()))
        .await
        .unwrap();
}

/// The next message: a JSON text, or the close code.
async fn next(socket: &mut Socket) -> Result<Value, u16> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("an answer within 30 s");
        match m {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Close(Some(f)))) => return Err(u16::from(f.code)),
            Some(Ok(Message::Close(None))) | None => return Err(1005),
            Some(Ok(_)) => continue,
            Some(Err(_)) => return Err(1006),
        }
    }
}

async fn initialised(app: &TestApp, payload: Value) -> Socket {
    let mut s = connect(app).await;
    send(
        &mut s,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    assert_eq!(next(&mut s).await.unwrap()["type"], "connection_ack");
    s
}

const SUBSCRIBE: &str = "subscription { offerPublished { offer { id } } }";

#[tokio::test]
async fn the_graphql_ws_protocol_is_kept() {
    let app = spawn_app_with(SMALL, LIMITS).await;
    // No connection_init in time.
    let mut s = connect(&app).await;
    assert_eq!(next(&mut s).await, Err(4408));
    // No subprotocol offered.
    let mut s = connect_with(&app, None).await.unwrap();
    assert_eq!(next(&mut s).await, Err(4406));
    // Subscribing before the acknowledgement.
    let mut s = connect(&app).await;
    send(
        &mut s,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    assert_eq!(next(&mut s).await, Err(4401));
    // A token that does not check.
    let mut s = connect(&app).await;
    send(
        &mut s,
        json!({ "type": "connection_init", "payload": { "Authorization": "Bearer nope" } }),
    )
    .await;
    assert_eq!(next(&mut s).await, Err(4403));
    // A second initialisation.
    let mut s = initialised(
        &app,
        json!({ "Authorization": format!("Bearer {}", app.token("region:bi", None, None)) }),
    )
    .await;
    send(&mut s, json!({ "type": "connection_init" })).await;
    assert_eq!(next(&mut s).await, Err(4429));
    // Pings, bounds, errors and duplicates on one connection.
    let mut s = initialised(&app, json!({})).await;
    send(&mut s, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut s).await.unwrap()["type"], "pong");
    send(&mut s, json!({ "id": "bad", "type": "subscribe", "payload": { "query": "subscription { nope }" } })).await;
    let e = next(&mut s).await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["id"].as_str()),
        (Some("error"), Some("bad")),
        "{e}"
    );
    for id in ["a", "b"] {
        send(
            &mut s,
            json!({ "id": id, "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
        )
        .await;
    }
    send(
        &mut s,
        json!({ "id": "c", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    let e = next(&mut s).await.unwrap();
    assert_eq!(
        e["payload"][0]["extensions"]["code"], "TOO_MANY_SUBSCRIPTIONS",
        "{e}"
    );
    // Completing one frees its place.
    send(&mut s, json!({ "id": "a", "type": "complete" })).await;
    send(
        &mut s,
        json!({ "id": "c", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    send(
        &mut s,
        json!({ "id": "c", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    assert_eq!(next(&mut s).await, Err(4409));
    // Connections per address: four at most.
    let mut open = Vec::new();
    for _ in 0..4 {
        open.push(initialised(&app, json!({})).await);
    }
    assert_eq!(
        connect_with(&app, Some("graphql-transport-ws")).await.err(),
        Some(429)
    );
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let _again = initialised(&app, json!({})).await;
    // A subscription over plain HTTP is refused with a code.
    let (_, body) = app.post(SUBSCRIBE, json!({})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
        "{body}"
    );
}

#[tokio::test]
async fn on_shutdown_subscribers_are_told_to_reconnect() {
    let mut app = spawn_app_with(SMALL, "").await;
    let mut ws = initialised(&app, json!({})).await;
    send(
        &mut ws,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIBE } }),
    )
    .await;
    let sse = app
        .client
        .post(app.url("/graphql/stream"))
        .header("accept", "text/event-stream")
        .header("content-type", "application/json")
        .body(json!({ "query": SUBSCRIBE }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 200);
    while app.metric("passerelle_subscribers_active").await < 2.0 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop();
    assert_eq!(next(&mut ws).await, Err(u16::from(CloseCode::Restart)));
    // The event stream ends, without `complete`: the client reconnects.
    let text = tokio::time::timeout(Duration::from_secs(30), sse.text())
        .await
        .expect("the stream ends")
        .unwrap_or_default();
    assert!(!text.contains("event: complete"), "{text}");
}

#[tokio::test]
async fn a_subscriber_that_does_not_read_is_cut_off() {
    let app = spawn_app_with(
        SMALL,
        "[alerts]\nsubscriber_buffer = 1\npoll_interval = \"1h\"\n",
    )
    .await;
    let mut s = initialised(&app, json!({})).await;
    // Large results, so that the socket's buffers fill.
    let query =
        "subscription { offerPublished { offer { id title description employer { name } } } }";
    send(
        &mut s,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await;
    while app.metric("passerelle_offers_new_total").await == 0.0
        && app.metric("passerelle_subscribers_active").await < 1.0
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The client reads nothing while detections keep coming.
    for _ in 0..12 {
        app.faults("cma", json!({ "publish_new": 2000 })).await;
        app.client
            .post(app.url("/_sandbox/cma/sync"))
            .send()
            .await
            .unwrap();
        if app.metric("passerelle_subscribers_cut_off_total").await >= 1.0 {
            break;
        }
    }
    assert_eq!(
        app.metric("passerelle_subscribers_cut_off_total").await,
        1.0
    );
    assert_eq!(app.metric("passerelle_subscribers_active").await, 0.0);
    // Reading again, the client finds its connection ended.
    let ended = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match s.next().await {
                Some(Ok(Message::Close(f))) => return f.map(|f| u16::from(f.code)),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return None,
            }
        }
    })
    .await
    .expect("the connection ends");
    assert!(ended.is_none_or(|c| c == 1013), "{ended:?}");
}
