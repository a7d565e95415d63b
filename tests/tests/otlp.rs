//! Traces: a span per operation under the caller's trace, spans of partner
//! calls beneath it, received by a real OpenTelemetry collector (rotel) over
//! each OTLP protocol; partners receive the trace context.
//!
//! Traces are set up once per process, so each test runs again in a process
//! of its own, configured as an operator configures the gateway: through
//! `PASSERELLE_TELEMETRY__*` environment variables.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use passerelle::app::Application;
use passerelle::config::{Config, LogFormat, Overrides};
use serde_json::json;

/// Set in the process a test runs again in: where rotel's agent is.
const ROTEL_AGENT: &str = "OTLP_TEST_ROTEL_AGENT";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CALLER_SPAN: &str = "00f067aa0ba902b7";

#[test]
fn an_operations_spans_reach_the_collector_over_grpc_by_default() {
    match std::env::var_os(ROTEL_AGENT) {
        Some(agent) => spans_arrive_in_one_trace(Path::new(&agent)),
        None => run_alone(
            "an_operations_spans_reach_the_collector_over_grpc_by_default",
            None,
        ),
    }
}

#[test]
fn an_operations_spans_reach_the_collector_over_http_protobuf() {
    match std::env::var_os(ROTEL_AGENT) {
        Some(agent) => spans_arrive_in_one_trace(Path::new(&agent)),
        None => run_alone(
            "an_operations_spans_reach_the_collector_over_http_protobuf",
            Some("http/protobuf"),
        ),
    }
}

/// Where `pip install rotel` put rotel's agent. Panics when it is missing
/// and `CI` or `PASSERELLE_REQUIRE_POSTGRES` is set, so that the suite
/// cannot skip these tests silently.
fn rotel_agent() -> Option<PathBuf> {
    let found = Command::new("python3")
        .args([
            "-c",
            "import rotel, os; print(os.path.dirname(rotel.__file__))",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| Path::new(String::from_utf8_lossy(&o.stdout).trim()).join("rotel-agent"))
        .filter(|p| p.is_file());
    if found.is_none() {
        let required = ["CI", "PASSERELLE_REQUIRE_POSTGRES"]
            .iter()
            .any(|v| std::env::var_os(v).is_some());
        assert!(
            !required,
            "rotel, the OTLP collector of these tests, is missing: `pip install rotel` (tests/run.sh does)"
        );
        eprintln!("rotel is missing: OTLP tests skipped (`pip install rotel`; tests/run.sh does)");
    }
    found
}

/// Runs the test `name` again in a process of its own, its traces sent to
/// rotel over `protocol` (the default when `None`), and fails with its
/// output when it fails.
fn run_alone(name: &str, protocol: Option<&str>) {
    let Some(agent) = rotel_agent() else { return };
    let (grpc, http) = (free_port(), free_port());
    let endpoint = match protocol {
        None | Some("grpc") => format!("http://{grpc}"),
        Some(_) => format!("http://{http}/v1/traces"),
    };
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(ROTEL_AGENT, &agent)
        .env("ROTEL_OTLP_GRPC_ENDPOINT", grpc.to_string())
        .env("ROTEL_OTLP_HTTP_ENDPOINT", http.to_string())
        .env("PASSERELLE_TELEMETRY__OTLP_ENDPOINT", &endpoint)
        .env("PASSERELLE_TELEMETRY__SERVICE_NAME", "passerelle-test")
        .env("PASSERELLE_SANDBOX__DATA__CCI_OFFERS", "200")
        .env("PASSERELLE_SANDBOX__DATA__CMA_OFFERS", "150")
        .env("PASSERELLE_SANDBOX__DATA__SHARED_OFFERS", "20")
        // No detection of new offers: its own calls to the CCI would race
        // the operation's for the CCI's last traceparent.
        .env("PASSERELLE_ALERTS__DETECT", "false");
    match protocol {
        Some(p) => child.env("PASSERELLE_TELEMETRY__OTLP_PROTOCOL", p),
        None => child.env_remove("PASSERELLE_TELEMETRY__OTLP_PROTOCOL"),
    };
    let output = child.output().expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{name} over {endpoint} failed:\n{stdout}\n{stderr}"
    );
}

/// A loopback address no one listens on.
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The test itself, in its own process: rotel started on the ports the
/// environment names, the gateway configured from the environment, one
/// request under a known trace, then the spans rotel received.
fn spans_arrive_in_one_trace(agent: &Path) {
    let rotel = Rotel::start(agent);
    let data = tempfile::tempdir().unwrap();
    let config = Config::load(
        None,
        &Overrides {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            data_dir: Some(data.path().to_owned()),
        },
    )
    .unwrap();
    assert!(config.telemetry.otlp_endpoint.is_some());
    // Outside any runtime, as `passerelle serve` does.
    let telemetry = passerelle::telemetry::init(LogFormat::Text, &config.telemetry);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let seen_by_cci = runtime.block_on(async {
        let app = Application::build(config).await.unwrap();
        let gateway = app.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::new();
        let r = client
            .post(format!("http://{gateway}/graphql"))
            .header("traceparent", format!("00-{TRACE_ID}-{CALLER_SPAN}-01"))
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
        drop(client);
        let _ = stop.send(());
        served.await.unwrap().unwrap();
        faults["last_traceparent"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    });
    // Every span is closed once the gateway has stopped.
    drop(runtime);
    telemetry.flush();

    let spans = rotel.wait_for_spans(Duration::from_secs(30), |spans| {
        let in_trace = || spans.iter().filter(|s| s.trace_id == TRACE_ID);
        in_trace().any(|s| s.name == "query Portal")
            && in_trace().any(|s| s.name.starts_with("cci "))
    });
    let in_trace: Vec<&Span> = spans.iter().filter(|s| s.trace_id == TRACE_ID).collect();
    let operation = in_trace
        .iter()
        .find(|s| s.name == "query Portal")
        .expect("an operation span");
    assert_eq!(
        operation.parent_id, CALLER_SPAN,
        "the operation continues the caller's trace"
    );
    assert_eq!(operation.attr("graphql.operation.type"), Some("query"));

    let by_id = |id: &str| in_trace.iter().find(|s| s.id == id).copied();
    // The names of the spans from `span` up to the operation, `None` when
    // the chain does not reach it.
    let chain_to_operation = |span: &Span| {
        let mut chain = vec![span.name.clone()];
        let mut cursor = by_id(&span.parent_id);
        while let Some(s) = cursor {
            chain.push(s.name.clone());
            if s.id == operation.id {
                return Some(chain);
            }
            cursor = by_id(&s.parent_id);
        }
        None
    };

    let call = in_trace
        .iter()
        .find(|s| s.attr("partner") == Some("cci") && s.name.starts_with("cci "))
        .expect("a span for the CCI call");
    assert_eq!(call.name, "cci GET /api/v1/offres");
    assert_eq!(call.attr("outcome"), Some("ok"));
    assert_eq!(call.attr("http.status_code"), Some("200"));
    let chain = chain_to_operation(call).expect("the CCI call descends from the operation");
    assert!(
        chain.iter().any(|n| n == "offers.search"),
        "chain: {chain:?}"
    );

    // The CCI saw the caller's trace, with a span of it as its parent.
    let parts: Vec<&str> = seen_by_cci.split('-').collect();
    assert!(
        parts.len() == 4 && parts[0] == "00" && parts[1] == TRACE_ID,
        "the CCI received {seen_by_cci:?}"
    );
    let parent = by_id(parts[2])
        .unwrap_or_else(|| panic!("the CCI's parent span {} was not received", parts[2]));
    assert!(
        chain_to_operation(parent).is_some(),
        "the CCI's parent span {} descends from the operation",
        parent.name
    );
}

/// A span as rotel's debug log of traces shows it.
#[derive(Debug, Clone, Default)]
struct Span {
    trace_id: String,
    id: String,
    /// Empty for a root span.
    parent_id: String,
    name: String,
    attributes: Vec<(String, String)>,
}

impl Span {
    /// The value of the attribute `key`, without its type (`200` for
    /// `Int(200)`).
    fn attr(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// The spans of rotel's detailed debug log (`--debug-log traces
/// --debug-log-verbosity detailed`): a `Span #n` line, then `Trace ID :`,
/// `Parent ID :` (empty for a root), `ID :` and `Name :` lines, and after
/// `Attributes:` one `-> key: Type(value)` line per attribute.
fn parse_debug_log(lines: &[String]) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut in_attributes = false;
    for line in lines {
        let line = line.trim();
        if line.starts_with("Span #") {
            spans.push(Span::default());
            in_attributes = false;
            continue;
        }
        let Some(span) = spans.last_mut() else {
            continue;
        };
        if line == "Attributes:" {
            in_attributes = true;
        } else if let Some(attribute) = line.strip_prefix("-> ").filter(|_| in_attributes) {
            if let Some((key, value)) = attribute.split_once(": ") {
                let value = value
                    .split_once('(')
                    .map_or(value, |(_, v)| v.strip_suffix(')').unwrap_or(v));
                span.attributes.push((key.to_owned(), value.to_owned()));
            }
        } else if let Some((field, value)) = line.split_once(" :") {
            in_attributes = false;
            let value = value.trim().to_owned();
            match field.trim() {
                "Trace ID" => span.trace_id = value,
                "Parent ID" => span.parent_id = value,
                "ID" => span.id = value,
                "Name" => span.name = value,
                _ => {}
            }
        } else {
            in_attributes = false;
        }
    }
    spans
}

/// A rotel agent receiving OTLP on the loopback ports named by
/// `ROTEL_OTLP_GRPC_ENDPOINT` and `ROTEL_OTLP_HTTP_ENDPOINT`, writing every
/// span it receives to its debug log; stopped on drop.
struct Rotel {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    _dir: tempfile::TempDir,
}

impl Rotel {
    /// Starts the agent and waits until both receivers accept connections.
    fn start(agent: &Path) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(agent)
            .arg("start")
            .args(["--exporter", "blackhole"])
            .args(["--debug-log", "traces", "--debug-log-verbosity", "detailed"])
            .args(["--traces-batch-timeout", "20ms"])
            .args([
                "--otlp-receiver-metrics-disabled",
                "--otlp-receiver-logs-disabled",
            ])
            .arg("--pid-file")
            .arg(dir.path().join("rotel.pid"))
            .arg("--log-file")
            .arg(dir.path().join("rotel.log"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("rotel starts");
        let lines: Arc<Mutex<Vec<String>>> = Arc::default();
        let stdout = child.stdout.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let mut rotel = Self {
            child,
            lines,
            _dir: dir,
        };
        let ports: Vec<SocketAddr> = ["ROTEL_OTLP_GRPC_ENDPOINT", "ROTEL_OTLP_HTTP_ENDPOINT"]
            .iter()
            .map(|v| std::env::var(v).unwrap().parse().unwrap())
            .collect();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ports.iter().all(|p| TcpStream::connect(p).is_ok()) {
            if let Some(status) = rotel.child.try_wait().unwrap() {
                panic!("rotel exited ({status}): {:?}", rotel.lines.lock().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "rotel does not listen on {ports:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        rotel
    }

    /// The spans received once `done` holds of them; panics with those
    /// received so far after `timeout`.
    fn wait_for_spans(&self, timeout: Duration, done: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let deadline = Instant::now() + timeout;
        loop {
            let spans = parse_debug_log(&self.lines.lock().unwrap());
            if done(&spans) {
                return spans;
            }
            assert!(
                Instant::now() < deadline,
                "the spans did not arrive; received: {:#?}",
                spans
                    .iter()
                    .map(|s| (&s.trace_id, &s.name))
                    .collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn rotels_debug_log_is_read_span_by_span() {
    let log: Vec<String> = "ResourceSpans #0
Resource attributes:
     -> service.name: Str(passerelle)
Span #0
    Trace ID       : 4bf92f3577b34da6a3ce929d0e0e4736
    Parent ID      : 
    ID             : 00f067aa0ba902b7
    Name           : query Portal
    Kind           : SPAN_KIND_SERVER
Attributes:
     -> graphql.operation.type: Str(query)
     -> http.status_code: Int(200)
Events:
SpanEvent #0
     -> Name: retry
     -> Attributes::
          -> level: Str(WARN)
Span #1
    Trace ID       : 4bf92f3577b34da6a3ce929d0e0e4736
    Parent ID      : 00f067aa0ba902b7
    ID             : 1111111111111111
    Name           : cci GET /api/v1/offres"
        .lines()
        .map(str::to_owned)
        .collect();
    let spans = parse_debug_log(&log);
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0].parent_id, "");
    assert_eq!(spans[0].name, "query Portal");
    assert_eq!(
        spans[0].attributes,
        [
            ("graphql.operation.type".to_owned(), "query".to_owned()),
            ("http.status_code".to_owned(), "200".to_owned())
        ]
    );
    assert_eq!(spans[1].parent_id, spans[0].id);
    assert_eq!(spans[1].name, "cci GET /api/v1/offres");
}
