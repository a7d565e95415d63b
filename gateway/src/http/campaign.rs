//! The HTTP side of the campaign for systems that do not speak GraphQL:
//! `POST /ingest/allocations` for OPCOs' batch systems, and
//! `GET /export/tax-campaign/{year}.csv` for the Région's BI tools.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{StreamExt, TryStreamExt};
use passerelle_schema::Departement;
use serde::Deserialize;
use tokio_util::io::{StreamReader, SyncIoBridge};

use crate::auth::{Caller, Validator};
use crate::domain::campaign::{self, figures, BatchError, Format, FormatError, IngestError};
use crate::graphql::transports::ratelimit::Limiter;
use crate::graphql::transports::{bearer, identify_with, over_rate_with, refuse_with, MediaType};
use crate::graphql::ErrorCode;
use crate::http::client::ClientAddress;
use crate::store::Store;

/// What the campaign's HTTP routes share.
#[derive(Clone)]
pub struct CampaignHttp {
    /// The store.
    pub store: Store,
    /// Checks callers' tokens.
    pub validator: Arc<Validator>,
    /// Callers' rates, shared with `/graphql`'s doors.
    pub limiter: Arc<Limiter>,
    /// The name of the web console's session cookie.
    pub session_cookie: &'static str,
}

/// The query string of an upload.
#[derive(Debug, Deserialize)]
pub struct UploadParams {
    /// The campaign year (required for CSV; XML may declare it).
    campaign: Option<String>,
    /// The OPCO the batch is for; it must be the token's.
    opco: Option<String>,
}

/// The longest idempotency key.
const MAX_KEY: usize = 200;

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body.to_string(),
    )
        .into_response()
}

/// The caller of a request, counted against its rate as a request to
/// `/graphql` is (a token that does not check against its address's); for
/// a download (`console_cookie`), the web console's session cookie also
/// names one, so that a page can link to it. Nothing that changes data
/// takes the cookie.
async fn authenticate(
    http: &CampaignHttp,
    headers: &HeaderMap,
    console_cookie: bool,
    address: std::net::IpAddr,
) -> Result<Caller, Response> {
    let from_cookie = match console_cookie {
        true => super::console::cookie_caller(&http.validator, headers, http.session_cookie).await,
        false => None,
    };
    let caller = match from_cookie {
        Some(c) => c,
        None => {
            let token = bearer(headers).map_err(|r| r.response(MediaType::Json))?;
            identify_with(&http.validator, &http.limiter, token, address)
                .await
                .map_err(|r| r.response(MediaType::Json))?
        }
    };
    over_rate_with(&http.limiter, &caller, address, 1).map_err(|r| r.response(MediaType::Json))?;
    if caller.subject.is_none() && caller.scopes.is_empty() {
        return Err(refuse_with(
            StatusCode::UNAUTHORIZED,
            MediaType::Json,
            ErrorCode::Unauthenticated,
            "send Authorization: Bearer <token>",
        ));
    }
    Ok(caller)
}

/// `POST /ingest/allocations?campaign=YEAR`: a CSV or XML upload, read as a
/// stream and stored in one transaction; answered with the batch's report
/// once it is committed.
pub async fn upload(
    State(http): State<CampaignHttp>,
    ClientAddress(client): ClientAddress,
    Query(params): Query<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let caller = match authenticate(&http, &headers, false, client).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let opco = match campaign::pushing_opco(&caller, params.opco.as_deref()) {
        Ok(o) => o,
        Err(why) => return refuse(StatusCode::FORBIDDEN, ErrorCode::Forbidden.as_str(), &why),
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= MAX_KEY);
    let Some(key) = key else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "MISSING_IDEMPOTENCY_KEY",
            "send an Idempotency-Key header (1 to 200 characters), the same for every retry of this upload",
        );
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let format = match Format::from_content_type(content_type) {
        Ok(f) => f,
        Err(e) => return batch_error(&BatchError::Format(e)),
    };
    let stream = body.into_data_stream().map_err(std::io::Error::other);
    let input = SyncIoBridge::new(StreamReader::new(stream));
    let started = std::time::Instant::now();
    let result = campaign::ingest_upload(
        &http.store,
        &opco,
        key,
        params.campaign.as_deref(),
        format,
        input,
        |_| {},
    )
    .await;
    let outcome = match &result {
        Ok(r) if r.replayed => "replayed",
        Ok(_) => "stored",
        Err(e) => e.code(),
    };
    metrics::counter!("passerelle_ingest_batches_total", "channel" => "upload", "outcome" => outcome)
        .increment(1);
    metrics::histogram!("passerelle_ingest_batch_duration_seconds", "channel" => "upload")
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(report) => {
            let mut r = axum::Json(&report).into_response();
            if report.replayed {
                r.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            r
        }
        Err(e) => batch_error(&e),
    }
}

fn batch_error(e: &BatchError) -> Response {
    let status = match e {
        BatchError::Campaign(_)
        | BatchError::Format(FormatError::MissingColumn(_) | FormatError::DuplicateColumn { .. }) => {
            StatusCode::BAD_REQUEST
        }
        BatchError::Format(FormatError::Xml { .. } | FormatError::Csv { .. }) => {
            StatusCode::BAD_REQUEST
        }
        BatchError::Format(FormatError::UnsupportedType(_)) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        BatchError::Format(FormatError::Io(io)) => {
            if io.to_string().contains("length limit") {
                StatusCode::PAYLOAD_TOO_LARGE
            } else {
                StatusCode::BAD_REQUEST
            }
        }
        BatchError::Ingest(IngestError::KeyReused(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        BatchError::Ingest(IngestError::Store(se)) => {
            tracing::error!(error = %se, "an upload could not be stored");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                e.code(),
                "the store is unavailable; nothing of this upload was kept, retry it with the same key",
            );
        }
    };
    refuse(status, e.code(), &e.to_string())
}

/// Rows of the export fetched at a time.
const EXPORT_PAGE: i64 = 5_000;

/// `GET /export/tax-campaign/{year}.csv` (scope `region:bi`): every
/// allocation of the campaign as CSV, streamed a page at a time.
pub async fn export(
    State(http): State<CampaignHttp>,
    ClientAddress(client): ClientAddress,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let caller = match authenticate(&http, &headers, true, client).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !caller.has("region:bi") {
        return refuse(
            StatusCode::FORBIDDEN,
            ErrorCode::Forbidden.as_str(),
            "the campaign export needs the scope region:bi",
        );
    }
    let Some(year) = file
        .strip_suffix(".csv")
        .and_then(|y| y.parse::<i64>().ok())
    else {
        return refuse(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "the export is /export/tax-campaign/YEAR.csv",
        );
    };
    let year = match campaign::campaign_year(year) {
        Ok(y) => y,
        Err(e) => return batch_error(&e),
    };
    let store = http.store.clone();
    let header_line = "opco;reference;employer_siret;employer_commune;employer_departement;\
                       establishment_uai;establishment_departement;amount;allocated_at\n";
    // The first page is read before answering, so that a store that
    // fails is a 503 to retry rather than a download broken at once.
    let first = match figures::allocations_page(&store, year, None, EXPORT_PAGE).await {
        Ok(page) => page,
        Err(e) => {
            store.suspect(&e);
            tracing::error!(error = %e, "the export could not be read");
            return refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::StoreUnavailable.as_str(),
                "the store is unavailable; retry the export later",
            );
        }
    };
    let pages = futures::stream::try_unfold(
        (store, Some(first), None::<(String, String)>, false),
        move |(store, first, after, done)| async move {
            if done {
                return Ok::<_, std::io::Error>(None);
            }
            let page = match first {
                Some(page) => page,
                None => figures::allocations_page(&store, year, after, EXPORT_PAGE)
                    .await
                    .map_err(std::io::Error::other)?,
            };
            let done = (page.len() as i64) < EXPORT_PAGE;
            let next = page.last().map(|a| (a.opco.clone(), a.reference.clone()));
            let mut text = String::with_capacity(page.len() * 120);
            for a in &page {
                let employer_departement =
                    passerelle_schema::CommuneCode::parse(&a.employer_commune)
                        .map(|c| c.departement().as_str().to_owned())
                        .unwrap_or_default();
                let establishment_departement = passerelle_schema::Uai::parse(&a.establishment_uai)
                    .ok()
                    .and_then(|u| Departement::parse(u.departement_code()).ok())
                    .map(|d| d.as_str().to_owned())
                    .unwrap_or_default();
                text.push_str(&format!(
                    "{};{};{};{};{};{};{};{};{}\n",
                    csv_field(&a.opco),
                    csv_field(&a.reference),
                    csv_field(&a.employer_siret),
                    csv_field(&a.employer_commune),
                    employer_departement,
                    csv_field(&a.establishment_uai),
                    establishment_departement,
                    passerelle_schema::Cents(a.amount_cents).to_decimal_string(),
                    a.allocated_at
                ));
            }
            Ok(Some((text, (store, None, next, done))))
        },
    );
    let body = futures::stream::once(async move { Ok(header_line.to_owned()) }).chain(pages);
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"tax-campaign-{year}.csv\""))
                    .expect("a header value"),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// The characters a spreadsheet reads a formula (or a DDE command) from
/// when a cell begins with them, their full-width forms included: some
/// spreadsheets fold those to the ASCII ones.
const FORMULA_STARTS: [char; 12] = [
    '=', '+', '-', '@', '\t', '\r', '|', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}', '\u{FF5C}',
];

/// A CSV field, quoted when it holds the delimiter, a quote or a line break.
/// A text that a spreadsheet would read as a formula (it begins with `=`,
/// `+`, `-`, `@`, `|`, a tab or a carriage return, or a full-width `＝`,
/// `＋`, `－`, `＠` or `｜`, after any leading white space) is neutralised
/// as OWASP recommends for CSV injection: a single quote before it, and the
/// whole field quoted. Amounts are written as numbers, not through here.
pub(crate) fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    let formula = s.starts_with(FORMULA_STARTS)
        || s.trim_start_matches(char::is_whitespace)
            .starts_with(FORMULA_STARTS);
    if formula {
        format!("\"'{}\"", s.replace('"', "\"\"")).into()
    } else if s.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn formula_leading_cells_are_neutralised() {
        assert_eq!(csv_field("AKTO-2026-1"), "AKTO-2026-1");
        assert_eq!(csv_field("a;b"), "\"a;b\"");
        assert_eq!(
            csv_field("=HYPERLINK(\"http://x\";\"clic\")"),
            "\"'=HYPERLINK(\"\"http://x\"\";\"\"clic\"\")\""
        );
        for lead in [
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "|cmd",
            "=1+2",
            "\u{FF1D}1+2",
            "\u{FF0B}1",
            "\u{FF0D}1+2",
            "\u{FF20}SUM(A1)",
            "\u{FF5C}cmd",
            " =1+2",
            "  \u{FF1D}1+2",
            "\u{3000}=1",
            "\u{a0}+1",
            " \t|cmd",
        ] {
            let cell = csv_field(lead);
            assert!(cell.starts_with("\"'"), "{lead:?} gave {cell:?}");
            assert_eq!(cell[2..cell.len() - 1], *lead, "{lead:?} gave {cell:?}");
        }
        // Inside a text, the same characters are harmless.
        for text in ["AKTO-2026-1", "a=b", "x|y", "12\u{FF1D}3", " x"] {
            assert_eq!(csv_field(text), text);
        }
    }
}
