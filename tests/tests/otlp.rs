//! Traces: a span per operation under the caller's trace, spans of partner
//! calls beneath it, received by an OTLP collector; partners receive the
//! trace context. In a process of its own: traces are set up per process.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::Span;
use passerelle::app::Application;
use passerelle::config::{Config, LogFormat, TelemetryConfig};
use prost::Message;
use serde_json::json;

type Received = Arc<Mutex<Vec<Span>>>;

/// A collector of OTLP/HTTP traces, on a loopback port.
async fn collector() -> (SocketAddr, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(|State(r): State<Received>, body: Bytes| async move {
                let request = ExportTraceServiceRequest::decode(body).expect("an OTLP export");
                let mut spans = r.lock().unwrap();
                for rs in request.resource_spans {
                    for ss in rs.scope_spans {
                        spans.extend(ss.spans);
                    }
                }
                ""
            }),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn attr(span: &Span, key: &str) -> Option<String> {
    span.attributes.iter().find(|a| a.key == key).and_then(|a| {
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        match a.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.clone()),
            Value::IntValue(i) => Some(i.to_string()),
            other => Some(format!("{other:?}")),
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operations_spans_reach_the_collector_under_the_callers_trace() {
    let (addr, received) = collector().await;
    let telemetry = passerelle::telemetry::init(
        LogFormat::Text,
        &TelemetryConfig {
            otlp_endpoint: Some(format!("http://{addr}/v1/traces").parse().unwrap()),
            service_name: "passerelle-test".into(),
        },
    );
    let data = tempfile::tempdir().unwrap();
    let config = Config::from_toml(&format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n[sandbox.data]\ncci_offers = 200\ncma_offers = 150\nshared_offers = 20\n",
        data.path().display()
    ))
    .unwrap();
    let app = Application::build(config).await.unwrap();
    let gateway = app.local_addr();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let client = reqwest::Client::new();
    let r = client
        .post(format!("http://{gateway}/graphql"))
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .json(&json!({ "query": "query Portal { offers(first: 2, filter: { departement: \"14\" }) { totalCount } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let faults: serde_json::Value = client
        .get(format!("http://{gateway}/_sandbox/cci/faults"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent = faults["last_traceparent"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        sent.starts_with(&format!("00-{trace_id}-")),
        "the CCI received {sent:?}"
    );

    tokio::task::spawn_blocking(move || telemetry.flush())
        .await
        .unwrap();
    let spans = received.lock().unwrap().clone();
    let _ = stop.send(());

    let in_trace: Vec<&Span> = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == trace_id)
        .collect();
    let operation = in_trace
        .iter()
        .find(|s| s.name == "query Portal")
        .unwrap_or_else(|| {
            panic!(
                "no operation span among {:?}",
                in_trace.iter().map(|s| &s.name).collect::<Vec<_>>()
            )
        });
    assert_eq!(
        hex(&operation.parent_span_id),
        caller_span,
        "the operation continues the caller's trace"
    );
    assert_eq!(
        attr(operation, "graphql.operation.type").as_deref(),
        Some("query")
    );

    let call = in_trace
        .iter()
        .find(|s| attr(s, "partner").as_deref() == Some("cci") && s.name.starts_with("cci "))
        .expect("a span for the CCI call");
    assert_eq!(attr(call, "outcome").as_deref(), Some("ok"));
    assert_eq!(attr(call, "http.status_code").as_deref(), Some("200"));
    // The call descends from the operation, through the offer search.
    let by_id = |id: &[u8]| in_trace.iter().find(|s| s.span_id == id).copied();
    let mut cursor = by_id(&call.parent_span_id);
    let mut chain = Vec::new();
    while let Some(s) = cursor {
        chain.push(s.name.clone());
        if s.span_id == operation.span_id {
            break;
        }
        cursor = by_id(&s.parent_span_id);
    }
    assert_eq!(
        chain.last().map(String::as_str),
        Some("query Portal"),
        "chain: {chain:?}"
    );
    assert!(
        chain.iter().any(|n| n == "offers.search"),
        "chain: {chain:?}"
    );
}
