//! `[telemetry]` and `[log]`: where traces go, and how logs are written.

use serde::Deserialize;

/// Where traces go.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// The OTLP collector's endpoint traces are sent to; no traces when
    /// unset. Over gRPC, the collector's address (`http://collector:4317`);
    /// over HTTP, the full URL of its traces route
    /// (`http://collector:4318/v1/traces`).
    #[serde(default)]
    pub otlp_endpoint: Option<url::Url>,
    /// How traces reach the collector: `grpc` (the default) or
    /// `http/protobuf`.
    #[serde(default)]
    pub otlp_protocol: OtlpProtocol,
    /// The service name traces carry.
    #[serde(default = "default_service_name")]
    pub service_name: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            otlp_endpoint: None,
            otlp_protocol: OtlpProtocol::default(),
            service_name: default_service_name(),
        }
    }
}

/// The OTLP transports traces can be exported over, named as in the
/// OpenTelemetry specification (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum OtlpProtocol {
    /// OTLP over gRPC, on a collector's port 4317.
    #[default]
    #[serde(rename = "grpc")]
    Grpc,
    /// OTLP as protobuf over HTTP, on a collector's port 4318.
    #[serde(rename = "http/protobuf")]
    HttpProtobuf,
}

fn default_service_name() -> String {
    "passerelle".into()
}

/// Log output settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `text`, `json`, or `auto` (text on a terminal, JSON otherwise).
    #[serde(default)]
    pub format: LogFormat,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Text on a terminal, JSON lines otherwise.
    #[default]
    Auto,
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}
