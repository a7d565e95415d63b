//! Checking the arguments clients send: every failure is `INVALID_INPUT`
//! naming the argument.

use async_graphql::Context;
use passerelle_schema::{Departement, DiplomaLevel, InseeCommune, RomeCode, Uai};

use crate::domain::words;
use crate::graphql::common::errors::ErrorCode;

/// An `INVALID_INPUT` error about `field`.
pub fn invalid(field: &str, e: impl std::fmt::Display) -> async_graphql::Error {
    ErrorCode::InvalidInput.error(format!("{field}: {e}"))
}

/// A département code: `INVALID_INPUT` for one that does not exist; one
/// outside Normandy is answered empty, with a notice (`OUTSIDE_NORMANDY`).
pub fn departement(
    ctx: &Context<'_>,
    field: &str,
    v: Option<String>,
) -> async_graphql::Result<Option<Departement>> {
    let departement = any_departement(field, v)?;
    if let Some(d) = departement.as_ref().filter(|d| !d.is_normandy()) {
        crate::graphql::common::notices::notice(
            ctx,
            "OUTSIDE_NORMANDY",
            format!(
                "{field}: département {d} is outside Normandy, whose data alone Passerelle holds: \
                 nothing matches"
            ),
        );
    }
    Ok(departement)
}

/// A code of any French département: `INVALID_INPUT` for one that does
/// not exist.
pub fn any_departement(
    field: &str,
    v: Option<String>,
) -> async_graphql::Result<Option<Departement>> {
    v.map(|d| Departement::parse(&d).map_err(|e| invalid(field, e)))
        .transpose()
}

/// An INSEE commune code of Normandy.
pub fn commune(field: &str, v: Option<String>) -> async_graphql::Result<Option<InseeCommune>> {
    v.map(|c| InseeCommune::parse(&c).map_err(|e| invalid(field, e)))
        .transpose()
}

/// A UAI.
pub fn uai(field: &str, v: Option<String>) -> async_graphql::Result<Option<Uai>> {
    v.map(|u| Uai::parse(&u).map_err(|e| invalid(field, e)))
        .transpose()
}

/// Words to search: as typed, folded; `None` when none is left to find
/// (blank, or small words only); `INVALID_INPUT` beyond
/// [`words::MAX_TEXT`] characters.
pub fn words(field: &str, v: Option<String>) -> async_graphql::Result<Option<String>> {
    let Some(text) = v else { return Ok(None) };
    let chars = text.chars().count();
    if chars > words::MAX_TEXT {
        return Err(invalid(
            field,
            format!("{chars} characters: at most {}", words::MAX_TEXT),
        ));
    }
    let folded = passerelle_schema::reference::fold_name(&text);
    Ok(words::Words::cached(&folded).map(|_| folded))
}

/// ROME codes.
pub fn romes(field: &str, v: Option<Vec<String>>) -> async_graphql::Result<Vec<RomeCode>> {
    v.unwrap_or_default()
        .iter()
        .map(|r| RomeCode::parse(r).map_err(|e| invalid(field, e)))
        .collect()
}

/// A diploma level, 3 to 8.
pub fn level(field: &str, v: Option<i32>) -> async_graphql::Result<Option<DiplomaLevel>> {
    v.map(|l| {
        u8::try_from(l)
            .ok()
            .and_then(|l| DiplomaLevel::new(l).ok())
            .ok_or_else(|| invalid(field, "a level is 3 to 8"))
    })
    .transpose()
}

/// The size of a page: `first`, between 0 and `max`.
pub fn page_size(first: i32, max: usize) -> async_graphql::Result<usize> {
    usize::try_from(first)
        .ok()
        .filter(|n| *n <= max)
        .ok_or_else(|| invalid("first", format!("must be between 0 and {max}")))
}
