//! Errors as clients see them: a safe message and a stable code in
//! `extensions.code`, with `extensions.partner` where a partner is involved.

use async_graphql::{Context, ErrorExtensions, PathSegment, QueryPathSegment, ServerError};
use passerelle_connectors::ConnectorError;
use passerelle_schema::Partner;

use crate::partners::health::Health;
use crate::store::{Store, StoreError};

/// A store failure as clients see it: `STORE_UNAVAILABLE`, to retry, when
/// the store itself fails, `INTERNAL_ERROR` otherwise; either way a safe
/// message saying `what` is missing, the cause in the operators' log. The
/// store is probed at once, so that the requests that follow fail fast
/// while it is down.
pub fn store_failure<'s>(
    store: &'s Store,
    what: &'static str,
) -> impl FnOnce(StoreError) -> async_graphql::Error + 's {
    move |e| {
        store.suspect(&e);
        if e.is_unavailable() {
            tracing::warn!(error = %e, what, "store unavailable");
            ErrorCode::StoreUnavailable.error(format!(
                "{what} cannot be read from the store for now; retry later"
            ))
        } else {
            tracing::error!(error = %e, what, "store query failed");
            ErrorCode::Internal.error(format!("{what} cannot be read"))
        }
    }
}

/// The codes clients can rely on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// An argument is not acceptable (a malformed code, a page too large).
    InvalidInput,
    /// A cursor is not one this API gave.
    InvalidCursor,
    /// The document is not GraphQL.
    ParseFailed,
    /// The document does not fit the schema.
    ValidationFailed,
    /// Something failed inside the gateway.
    Internal,
    /// The query nests deeper than `limits.max_depth`.
    TooDeep,
    /// The query selects more than `limits.max_complexity` fields.
    TooComplex,
    /// The document uses more than `limits.max_aliases` aliases.
    TooManyAliases,
    /// The operation selects more than `limits.max_root_fields` root fields.
    TooManyRootFields,
    /// The batch holds more than `limits.max_batch` operations.
    BatchTooLarge,
    /// The document defines more than `limits.max_operations` operations.
    TooManyOperations,
    /// An operation declares more than `limits.max_variables` variables.
    TooManyVariables,
    /// A field, fragment, operation or variable carries more than
    /// `limits.max_directives` directives.
    TooManyDirectives,
    /// The document selects more than `limits.max_selections` fields with
    /// its fragments expanded.
    TooManySelections,
    /// A graphql-ws connection holds `subscriptions.per_connection`
    /// subscriptions already.
    TooManySubscriptions,
    /// `_entities` is given more than `limits.max_representations`
    /// representations.
    TooManyRepresentations,
    /// A representation given to `_entities` is not one of this
    /// subgraph's entities with a well-formed key.
    InvalidRepresentation,
    /// The body is larger than `limits.max_body_bytes`.
    RequestTooLarge,
    /// An automatic persisted query's hash is not known yet: send the
    /// document with it once.
    PersistedQueryNotFound,
    /// Only trusted documents run here, and this is not one.
    NotTrusted,
    /// The bearer token does not check.
    Unauthenticated,
    /// The caller lacks the scope or claim the field needs.
    Forbidden,
    /// The caller made too many requests: `Retry-After` says when to retry.
    RateLimited,
    /// The HTTP method is not one the route answers (`Allow` lists them).
    MethodNotAllowed,
    /// No route has this path.
    NotFound,
    /// The client already keeps `alerts.max_per_client` saved alerts.
    TooManyAlerts,
    /// The store does not answer, or takes no writes, for now: the same
    /// request may succeed later.
    StoreUnavailable,
}

impl ErrorCode {
    /// The code's text.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::InvalidCursor => "INVALID_CURSOR",
            ErrorCode::ParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::Internal => "INTERNAL_ERROR",
            ErrorCode::TooDeep => "QUERY_TOO_DEEP",
            ErrorCode::TooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::TooManyAliases => "TOO_MANY_ALIASES",
            ErrorCode::TooManyRootFields => "TOO_MANY_ROOT_FIELDS",
            ErrorCode::BatchTooLarge => "BATCH_TOO_LARGE",
            ErrorCode::TooManyOperations => "TOO_MANY_OPERATIONS",
            ErrorCode::TooManyVariables => "TOO_MANY_VARIABLES",
            ErrorCode::TooManyDirectives => "TOO_MANY_DIRECTIVES",
            ErrorCode::TooManySelections => "TOO_MANY_SELECTIONS",
            ErrorCode::TooManySubscriptions => "TOO_MANY_SUBSCRIPTIONS",
            ErrorCode::TooManyRepresentations => "TOO_MANY_REPRESENTATIONS",
            ErrorCode::InvalidRepresentation => "INVALID_REPRESENTATION",
            ErrorCode::RequestTooLarge => "REQUEST_TOO_LARGE",
            ErrorCode::PersistedQueryNotFound => "PERSISTED_QUERY_NOT_FOUND",
            ErrorCode::NotTrusted => "PERSISTED_QUERY_NOT_ALLOWED",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::MethodNotAllowed => "METHOD_NOT_ALLOWED",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::TooManyAlerts => "TOO_MANY_ALERTS",
            ErrorCode::StoreUnavailable => "STORE_UNAVAILABLE",
        }
    }

    /// An error with this code.
    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        async_graphql::Error::new(message).extend_with(|_, e| e.set("code", self.as_str()))
    }
}

/// Lets a field through for callers granted a scope; others get
/// `FORBIDDEN` in its place, and the rest of the answer.
pub struct RequireScope(pub &'static str);

impl async_graphql::Guard for RequireScope {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let granted = ctx
            .data_opt::<crate::auth::Caller>()
            .is_some_and(|c| c.has(self.0));
        if granted {
            Ok(())
        } else {
            Err(ErrorCode::Forbidden.error(format!("this field needs the scope {}", self.0)))
        }
    }
}

/// A partner's failure as a GraphQL error.
pub fn partner_error(e: &ConnectorError) -> async_graphql::Error {
    async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
        ext.set("code", e.code());
        ext.set("partner", e.partner().id());
        if let Some(n) = e.rejected() {
            ext.set("rejected", n as u64);
        }
    })
}

/// Adds partners' failures to the response beside the field's value, at the
/// field's path: the field is answered with what the other partners gave.
pub fn report_partner_errors(ctx: &Context<'_>, errors: &[ConnectorError]) {
    for e in errors {
        add_at_field(ctx, partner_error(e));
    }
}

fn add_at_field(ctx: &Context<'_>, error: async_graphql::Error) {
    let mut server_error: ServerError = error.into_server_error(ctx.item.pos);
    let mut path: Vec<PathSegment> = match &ctx.path_node {
        Some(node) => std::iter::once(node)
            .chain(node.parents())
            .map(|n| match n.segment {
                QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
                QueryPathSegment::Index(i) => PathSegment::Index(i),
            })
            .collect(),
        None => Vec::new(),
    };
    path.reverse();
    server_error.path = path;
    ctx.add_error(server_error);
}

/// Says, beside the field's value, that the synced partners among
/// `partners` whose last sync failed are served from their last good sync:
/// `STALE_DATA`, with the partner and when it last succeeded.
pub fn report_stale(ctx: &Context<'_>, health: &Health, partners: &[Partner]) {
    for &partner in partners {
        let state = health.state(partner);
        let Some(failure) = &state.last_error else {
            continue;
        };
        if state.last_success.is_some_and(|ok| ok >= failure.at) {
            continue;
        }
        let since = state.last_success.map_or_else(
            || "an earlier run".to_owned(),
            |t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        );
        let error = async_graphql::Error::new(format!(
            "{partner} failed ({}); its data is served as of {since}",
            failure.code
        ))
        .extend_with(|_, ext| {
            ext.set("code", "STALE_DATA");
            ext.set("partner", partner.id());
        });
        add_at_field(ctx, error);
    }
}
