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

/// The target of the events that say each request sent to a partner (at
/// debug level: `passerelle partner check` shows them), its URL's secrets
/// hidden.
pub const REQUESTS: &str = "passerelle::partner_requests";

/// Query parameters whose values are hidden when a request is shown.
const SECRET_PARAMS: [&str; 6] = ["key", "token", "secret", "password", "signature", "auth"];

/// `url`, the values of its parameters that look like secrets hidden.
fn shown(url: &url::Url) -> String {
    let mut shown = url.clone();
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let name = k.to_ascii_lowercase();
                let secret = SECRET_PARAMS.iter().any(|s| name.contains(s));
                (
                    k.into_owned(),
                    if secret { "***".into() } else { v.into_owned() },
                )
            })
            .collect();
        shown.query_pairs_mut().clear().extend_pairs(pairs);
    }
    shown.to_string()
}

/// Adds the current span's trace context (`traceparent`) to a request to a
/// partner, when a propagator is installed; nothing otherwise. Says the
/// request on [`REQUESTS`] when that is enabled.
pub fn traced(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    if tracing::enabled!(target: REQUESTS, tracing::Level::DEBUG) {
        if let Some(built) = request.try_clone().and_then(|r| r.build().ok()) {
            tracing::debug!(target: REQUESTS, "{} {}", built.method(), shown(built.url()));
        }
    }
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_shown_request_hides_its_secrets() {
        let url = url::Url::parse("https://api.example/v1?rome=D1102&api_key=abc&Token=t").unwrap();
        assert_eq!(
            super::shown(&url),
            "https://api.example/v1?rome=D1102&api_key=***&Token=***"
        );
    }
}
