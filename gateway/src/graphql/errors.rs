//! Errors as clients see them: a safe message and a stable code in
//! `extensions.code`, with `extensions.partner` where a partner is involved.

use async_graphql::{Context, ErrorExtensions, PathSegment, ServerError};
use passerelle_connectors::ConnectorError;

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
        }
    }

    /// An error with this code.
    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        async_graphql::Error::new(message).extend_with(|_, e| e.set("code", self.as_str()))
    }
}

/// A partner's failure as a GraphQL error.
pub fn partner_error(e: &ConnectorError) -> async_graphql::Error {
    async_graphql::Error::new(e.to_string()).extend_with(|_, ext| {
        ext.set("code", e.code());
        ext.set("partner", e.partner().id());
    })
}

/// Adds partners' failures to the response beside the field's value, at the
/// field's path: the field is answered with what the other partners gave.
pub fn report_partner_errors(ctx: &Context<'_>, errors: &[ConnectorError]) {
    for e in errors {
        let mut server_error: ServerError = partner_error(e).into_server_error(ctx.item.pos);
        server_error.path = ctx
            .path_node
            .map(|p| {
                p.to_string_vec()
                    .into_iter()
                    .map(PathSegment::Field)
                    .collect()
            })
            .unwrap_or_default();
        ctx.add_error(server_error);
    }
}
