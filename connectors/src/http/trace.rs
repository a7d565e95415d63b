//! W3C trace context on calls to partners.

use opentelemetry::propagation::Injector;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tracing_opentelemetry::OpenTelemetrySpanExt;

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Adds the current span's trace context (`traceparent`) to a request to a
/// partner, when a propagator is installed; nothing otherwise.
pub fn traced(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    let cx = tracing::Span::current().context();
    let mut headers = HeaderMap::new();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(&mut headers))
    });
    request.headers(headers)
}

/// Records a partner's HTTP status on the span of the call.
pub fn record_status(status: reqwest::StatusCode) {
    tracing::Span::current().record("http.status_code", status.as_u16());
}
