//! The bounds of a filter kept for as long as an alert or a subscription
//! lives: how many ROME codes, how long a text.

use crate::graphql::common::inputs::invalid;
use crate::graphql::offers::OfferFilterInput;

/// The most ROME codes an alert's or a subscription's filter names.
const MAX_ROME_CODES: usize = 50;

/// The longest text of an alert's or a subscription's filter, in
/// characters.
const MAX_TEXT_CHARS: usize = 200;

/// Refuses a filter too large to keep for as long as an alert or a
/// subscription lives: `INVALID_INPUT` naming the field (under `at`) and
/// its bound.
pub(super) fn bounded(at: &str, filter: &OfferFilterInput) -> async_graphql::Result<()> {
    if filter.rome_count() > MAX_ROME_CODES {
        return Err(invalid(
            &format!("{at}.rome"),
            format!("at most {MAX_ROME_CODES} ROME codes"),
        ));
    }
    if filter.text_chars() > MAX_TEXT_CHARS {
        return Err(invalid(
            &format!("{at}.text"),
            format!("at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}
