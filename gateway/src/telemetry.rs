//! Logs: structured, as text on a terminal and JSON lines elsewhere.
//! Traces: exported to an OTLP collector, over gRPC or HTTP.

use std::io::IsTerminal;

use anyhow::Context as _;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tokio::runtime::Runtime;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

use crate::config::{LogFormat, OtlpProtocol, TelemetryConfig};

/// The tracer provider, when traces are exported; flushed at shutdown.
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
    /// The runtime the gRPC client runs on. It is the exporter's own: the
    /// batch processor exports from a thread of its own, outside the
    /// gateway's runtime, and the last spans leave after that runtime
    /// has stopped.
    grpc_runtime: Option<Runtime>,
}

impl Telemetry {
    /// Sends the spans not yet sent.
    pub fn flush(&self) {
        if let Some(p) = &self.provider {
            if let Err(e) = p.force_flush() {
                tracing::warn!(error = %e, "traces could not be flushed");
            }
        }
    }

    /// Sends the spans not yet sent and stops exporting.
    pub fn shutdown(mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.shutdown();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        // Without waiting: dropping a runtime may not block in async code.
        if let Some(rt) = self.grpc_runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// The exporter of spans to the collector at `endpoint` over `protocol`,
/// with the runtime its gRPC client runs on.
fn exporter(
    endpoint: &url::Url,
    protocol: OtlpProtocol,
) -> anyhow::Result<(SpanExporter, Option<Runtime>)> {
    let builder = SpanExporter::builder();
    match protocol {
        OtlpProtocol::HttpProtobuf => {
            let exporter = builder
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(endpoint.as_str())
                .build()?;
            Ok((exporter, None))
        }
        OtlpProtocol::Grpc => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("otlp-grpc")
                .enable_all()
                .build()
                .context("cannot start the gRPC exporter's runtime")?;
            // The channel spawns its connection task on the runtime entered.
            let exporter = {
                let _entered = runtime.enter();
                builder
                    .with_tonic()
                    .with_endpoint(endpoint.as_str())
                    .build()?
            };
            Ok((exporter, Some(runtime)))
        }
    }
}

/// Installs the global log subscriber — the level from `RUST_LOG` (default
/// `info`) — and, when `telemetry` names an OTLP endpoint, the exporter of
/// traces over its protocol, with W3C trace context accepted from callers
/// and passed to partners. Does nothing when a subscriber is installed
/// already. May be called inside or outside an async runtime.
pub fn init(format: LogFormat, telemetry: &TelemetryConfig) -> Telemetry {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let exporter = telemetry.otlp_endpoint.as_ref().and_then(|url| {
        exporter(url, telemetry.otlp_protocol)
            .map_err(|e| eprintln!("passerelle: traces will not be exported: {e:#}"))
            .ok()
    });
    let (provider, grpc_runtime) = match exporter {
        Some((exporter, runtime)) => {
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(
                    Resource::builder()
                        .with_service_name(telemetry.service_name.clone())
                        .build(),
                )
                .build();
            (Some(provider), runtime)
        }
        None => (None, None),
    };
    if provider.is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    }
    let otel = provider
        .as_ref()
        .map(|p| tracing_opentelemetry::layer().with_tracer(p.tracer("passerelle")));
    let fmt: Box<dyn Layer<Registry> + Send + Sync> = if json {
        Box::new(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(true)
                .with_writer(std::io::stderr),
        )
    } else {
        Box::new(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
    };
    let _ = tracing_subscriber::registry()
        .with(fmt)
        .with(otel)
        .with(filter)
        .try_init();
    Telemetry {
        provider,
        grpc_runtime,
    }
}

static METRICS: std::sync::OnceLock<Option<metrics_exporter_prometheus::PrometheusHandle>> =
    std::sync::OnceLock::new();

/// The process's Prometheus registry, installed as the metrics recorder the
/// first time it is asked for. `None` when another recorder was installed
/// first.
pub fn metrics() -> Option<&'static metrics_exporter_prometheus::PrometheusHandle> {
    METRICS
        .get_or_init(|| {
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}
