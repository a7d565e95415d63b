//! Searches around a place: the `near` argument of the offer and programme
//! filters, and the order by distance of their connections. Distances are
//! great-circle, from the commune's position in the reference data.

use async_graphql::InputObject;
use base64::Engine;
use passerelle_schema::{GeoPoint, InseeCommune, Near};

use crate::graphql::common::connection::{b64_of, B64};
use crate::graphql::common::errors::ErrorCode;
use crate::graphql::common::inputs::invalid;

/// Around a place: a commune of Normandy, or a position.
#[derive(InputObject, Clone)]
pub struct NearInput {
    /// The INSEE code of the commune at the centre (`14118`).
    commune: Option<String>,
    /// The centre's latitude, −90 to 90 (with `lon`, instead of `commune`).
    lat: Option<f64>,
    /// The centre's longitude, −180 to 180.
    lon: Option<f64>,
    /// How far from the centre, in kilometres: 1 to 200.
    radius_km: f64,
}

impl NearInput {
    /// The search around the place, or `INVALID_INPUT` naming `field`'s
    /// part that is wrong.
    pub fn parse(self, field: &str) -> async_graphql::Result<Near> {
        if !(Near::MIN_RADIUS_KM..=Near::MAX_RADIUS_KM).contains(&self.radius_km) {
            return Err(invalid(
                &format!("{field}.radiusKm"),
                format!(
                    "{} is out of bounds: {} to {} km",
                    self.radius_km,
                    Near::MIN_RADIUS_KM,
                    Near::MAX_RADIUS_KM
                ),
            ));
        }
        let centre = match (self.commune, self.lat, self.lon) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(invalid(
                    field,
                    "give either commune or lat and lon, not both",
                ))
            }
            (Some(code), None, None) => {
                let field = format!("{field}.commune");
                let commune = InseeCommune::parse(&code).map_err(|e| invalid(&field, e))?;
                commune.position().ok_or_else(|| {
                    invalid(
                        &field,
                        format!(
                            "the position of {} ({code}) is not known: search around a \
                             neighbouring commune or by lat and lon",
                            commune.name()
                        ),
                    )
                })?
            }
            (None, Some(lat), Some(lon)) => {
                if !(-90.0..=90.0).contains(&lat) {
                    return Err(invalid(
                        &format!("{field}.lat"),
                        format!("{lat} is out of range: -90 to 90"),
                    ));
                }
                if !(-180.0..=180.0).contains(&lon) {
                    return Err(invalid(
                        &format!("{field}.lon"),
                        format!("{lon} is out of range: -180 to 180"),
                    ));
                }
                GeoPoint::new(lat, lon).expect("checked above")
            }
            (None, _, _) => return Err(invalid(field, "give a commune, or both lat and lon")),
        };
        Ok(Near {
            centre,
            radius_km: self.radius_km,
        })
    }
}

/// The centre a list is ordered from, when it is ordered by distance:
/// `INVALID_INPUT` for an order by distance without a centre.
pub fn order_centre(by_distance: bool, near: Option<&Near>) -> async_graphql::Result<Option<Near>> {
    match (by_distance, near) {
        (false, _) => Ok(None),
        (true, Some(near)) => Ok(Some(*near)),
        (true, None) => Err(invalid(
            "orderBy",
            "DISTANCE needs a centre: give filter.near",
        )),
    }
}

/// A distance in whole metres: lists ordered by distance compare these, so
/// that a cursor names its position exactly.
pub fn metres(km: f64) -> u32 {
    (km * 1000.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
}

/// The positions of a list's items ordered by distance (nearest first, ties
/// in list order), each with its distance in metres; items whose distance
/// is unknown are left out (a search by distance does not find them).
pub fn by_distance(distances: impl Iterator<Item = Option<f64>>) -> Vec<(u32, u32)> {
    let mut order: Vec<(u32, u32)> = (0u32..)
        .zip(distances)
        .filter_map(|(i, d)| Some((metres(d?), i)))
        .collect();
    order.sort_unstable();
    order
}

/// How a list is ranked when not in its own order.
#[derive(Debug, Clone)]
pub enum Ranking {
    /// Nearest first from this centre.
    Distance(Near),
    /// Highest first, by these scores of the list's records (by position).
    Relevance(std::sync::Arc<[f32]>),
}

impl Ranking {
    /// The kind of rank.
    pub fn rank(&self) -> Rank {
        match self {
            Ranking::Distance(_) => Rank::Distance,
            Ranking::Relevance(_) => Rank::Relevance,
        }
    }

    /// The ranking `rank` asks for a list of `len` records: around
    /// `near`'s centre, or by the search's `scores` (equal for a list that
    /// has none).
    pub fn asked(
        rank: Option<Rank>,
        near: Option<Near>,
        scores: Option<std::sync::Arc<[f32]>>,
        len: usize,
    ) -> Option<Ranking> {
        match rank? {
            Rank::Distance => near.map(Ranking::Distance),
            Rank::Relevance => Some(Ranking::Relevance(
                scores.unwrap_or_else(|| vec![0.0; len].into()),
            )),
        }
    }

    /// The order of a list: (key, position) of its records, in order;
    /// `distance` gives the distance of a record from a centre.
    pub fn order(&self, distances: impl FnOnce(&Near) -> Vec<Option<f64>>) -> Vec<(u32, u32)> {
        match self {
            Ranking::Distance(centre) => by_distance(distances(centre).into_iter()),
            Ranking::Relevance(scores) => by_relevance(scores),
        }
    }
}

/// The rank `orderBy` asks for, refused when the search lacks what it
/// ranks by: `DISTANCE` a centre, `RELEVANCE` words.
pub fn rank_asked(
    distance: bool,
    relevance: bool,
    near: Option<&Near>,
    text: Option<&str>,
) -> async_graphql::Result<Option<Rank>> {
    if distance {
        return order_centre(true, near).map(|_| Some(Rank::Distance));
    }
    if relevance {
        return match text {
            Some(_) => Ok(Some(Rank::Relevance)),
            None => Err(invalid(
                "orderBy",
                "RELEVANCE ranks by words: give filter.text (more than small words)",
            )),
        };
    }
    Ok(None)
}

/// A list ordered by a key other than its own order: nearest first, or
/// most relevant first. Its cursors name the order they page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rank {
    /// By distance in metres.
    Distance,
    /// By score, highest first.
    Relevance,
}

impl Rank {
    fn tag(self) -> &'static str {
        match self {
            Rank::Distance => "d1",
            Rank::Relevance => "r1",
        }
    }
}

/// The ranks of the records scored `scores`, by position, most relevant
/// first: (a key that orders them, their position).
pub fn by_relevance(scores: &[f32]) -> Vec<(u32, u32)> {
    let mut order: Vec<(u32, u32)> = (0u32..)
        .zip(scores)
        // Scores are positive: their bits order them.
        .map(|(i, s)| (u32::MAX - s.max(0.0).to_bits(), i))
        .collect();
    order.sort_unstable();
    order
}

/// The cursor of a record of a ranked list: its key, and its cursor in the
/// list's own order, which breaks ties.
pub fn ranked_cursor(rank: Rank, key: u32, inner: &str) -> String {
    b64_of(format_args!("{}|{key}|{inner}", rank.tag()))
}

/// Reads a cursor of a list ranked by `rank`.
pub fn decode_ranked_cursor(rank: Rank, cursor: &str) -> async_graphql::Result<(u32, String)> {
    B64.decode(cursor.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let rest = s.strip_prefix(rank.tag())?.strip_prefix('|')?;
            let (key, inner) = rest.split_once('|')?;
            Some((key.parse().ok()?, inner.to_owned()))
        })
        .ok_or_else(|| {
            let order = match rank {
                Rank::Distance => "by distance",
                Rank::Relevance => "by relevance",
            };
            ErrorCode::InvalidCursor.error(format!(
                "after is not a cursor of this list ordered {order}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_by_distance_are_nearest_first_then_in_list_order() {
        let order = by_distance([Some(2.0), None, Some(0.5), Some(2.0)].into_iter());
        assert_eq!(order, [(500, 2), (2000, 0), (2000, 3)]);
        let c = ranked_cursor(Rank::Distance, 2000, "abc|d");
        assert_eq!(
            decode_ranked_cursor(Rank::Distance, &c).unwrap(),
            (2000, "abc|d".into())
        );
        assert!(decode_ranked_cursor(Rank::Distance, "abc").is_err());
        assert!(decode_ranked_cursor(Rank::Relevance, &c).is_err());
    }

    #[test]
    fn lists_by_relevance_are_highest_first_then_in_list_order() {
        let order = by_relevance(&[1.5, 3.0, 1.5, 0.25]);
        let positions: Vec<u32> = order.iter().map(|(_, i)| *i).collect();
        assert_eq!(positions, [1, 0, 2, 3]);
    }
}
