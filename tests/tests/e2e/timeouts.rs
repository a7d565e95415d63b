//! The server's timeouts, from raw TCP clients: a connection that sends
//! nothing, half a header or half a body, or that idles between requests,
//! is closed; a WebSocket kept alive is not.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{spawn_app_with, TestApp, NO_DETECTION, SMALL};

/// A short idle timeout; the header timeout long enough not to be what
/// closes a connection.
const IDLE: &str = "[server]\nidle_timeout = \"2s\"\nheader_read_timeout = \"1m\"\n\
    [subscriptions]\nkeep_alive = \"200ms\"\n[limits]\noperation_timeout = \"1s\"\n";

/// Much longer than any timeout the tests set: a connection still open
/// then was never going to be closed.
const GENEROUS: Duration = Duration::from_secs(30);

/// Reads until the gateway closes the connection; what it sent first.
async fn until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let read = async {
        let mut buf = [0; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(GENEROUS, read)
        .await
        .expect("the gateway closes the connection");
    got
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed() {
    let app = spawn_app_with(SMALL, IDLE).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    assert!(until_closed(&mut stream).await.is_empty());
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(SMALL, "[server]\nheader_read_timeout = \"1s\"\n").await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    assert!(until_closed(&mut stream).await.is_empty());
}

#[tokio::test]
async fn a_keep_alive_connection_idle_past_the_timeout_is_closed() {
    let app = spawn_app_with(SMALL, IDLE).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: passerelle\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8(until_closed(&mut stream).await).unwrap();
    // Answered and kept alive, then closed for idling.
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.ends_with("ok\n"), "{answer}");
    assert!(
        !answer.to_ascii_lowercase().contains("connection: close"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_keep_alive_connection_waits_for_its_next_request_no_longer_than_the_header_timeout() {
    let app = spawn_app_with(SMALL, "[server]\nheader_read_timeout = \"1s\"\n").await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: passerelle\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8(until_closed(&mut stream).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
}

#[tokio::test]
async fn half_a_header_is_closed_after_the_header_timeout() {
    let app = spawn_app_with(SMALL, "[server]\nheader_read_timeout = \"1s\"\n").await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: passe")
        .await
        .unwrap();
    let answer = until_closed(&mut stream).await;
    assert!(
        !answer.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
}

#[tokio::test]
async fn half_a_body_is_answered_408() {
    let app = spawn_app_with(SMALL, "[server]\nbody_read_timeout = \"1s\"\n").await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let body = br#"{"query":"{ __typename }"}"#;
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: passerelle\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len() + 100
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let answer = String::from_utf8(until_closed(&mut stream).await).unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"REQUEST_TIMEOUT\""), "{answer}");
}

#[tokio::test]
async fn on_stopping_a_request_under_way_is_answered_and_no_connection_accepted() {
    let mut app = spawn_app_with(SMALL, NO_DETECTION).await;
    app.faults("cci", json!({ "latency_ms": 3000 })).await;
    let before = cci_requests(&app).await;
    let request = app
        .client
        .post(app.url("/graphql"))
        .json(&json!({ "query": "{ offers(first: 5) { totalCount } }" }));
    let under_way = tokio::spawn(async move { request.send().await?.json::<Value>().await });
    // Under way: the gateway is calling the CCI for it.
    while cci_requests(&app).await == before {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.stop();
    tokio::time::timeout(GENEROUS, async {
        while TcpStream::connect(app.addr).await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the gateway stops accepting connections");
    let body = tokio::time::timeout(GENEROUS, under_way)
        .await
        .expect("an answer")
        .unwrap()
        .expect("the request under way is answered");
    assert!(
        body["data"]["offers"]["totalCount"].as_u64().is_some(),
        "{body}"
    );
}

/// Requests the CCI simulator received so far.
async fn cci_requests(app: &TestApp) -> u64 {
    let report: Value = app
        .client
        .get(app.url("/_sandbox/cci/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    report["requests"].as_u64().unwrap()
}

#[tokio::test]
async fn a_whole_request_is_still_answered() {
    let app = spawn_app_with(SMALL, IDLE).await;
    let data = app.data("{ __typename }", json!({})).await;
    assert_eq!(data["__typename"], "Query");
}

#[tokio::test]
async fn a_websocket_kept_alive_outlives_the_idle_timeout() {
    let app = spawn_app_with(SMALL, IDLE).await;
    let mut socket = websocket(&app).await;
    socket
        .send(Message::Text(
            json!({ "type": "connection_init" }).to_string().into(),
        ))
        .await
        .unwrap();
    assert_eq!(text(&mut socket).await["type"], "connection_ack");
    // Keep-alives every 200 ms: forty of them span four idle timeouts,
    // the client silent all along.
    for _ in 0..40 {
        assert_eq!(text(&mut socket).await["type"], "ping");
    }
    socket
        .send(Message::Text(json!({ "type": "ping" }).to_string().into()))
        .await
        .unwrap();
    loop {
        match text(&mut socket).await["type"].as_str() {
            Some("ping") => continue,
            other => {
                assert_eq!(other, Some("pong"));
                break;
            }
        }
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn websocket(app: &TestApp) -> Socket {
    let url = app.url("/graphql").replace("http://", "ws://");
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

/// The next text message, as JSON.
async fn text(socket: &mut Socket) -> Value {
    loop {
        let m = tokio::time::timeout(GENEROUS, socket.next())
            .await
            .expect("a message");
        match m {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(&t).unwrap(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("the socket ended: {other:?}"),
        }
    }
}
