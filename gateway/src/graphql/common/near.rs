//! Searches around a place: the `near` argument of the offer and programme
//! filters, and the order by distance of their connections. Distances are
//! great-circle, from the commune's position in the reference data.

use async_graphql::InputObject;
use base64::Engine;
use passerelle_schema::{GeoPoint, InseeCommune, Near};

use crate::graphql::common::connection::B64;
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

/// The cursor of an item in a list ordered by distance: its distance and
/// the cursor it has in the list's own order.
pub fn distance_cursor(metres: u32, inner: &str) -> String {
    B64.encode(format!("d1|{metres}|{inner}"))
}

/// Reads a cursor of a list ordered by distance: the distance and the
/// item's cursor in the list's own order.
pub fn decode_distance_cursor(cursor: &str) -> async_graphql::Result<(u32, String)> {
    B64.decode(cursor.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            let rest = s.strip_prefix("d1|")?;
            let (m, inner) = rest.split_once('|')?;
            Some((m.parse().ok()?, inner.to_owned()))
        })
        .ok_or_else(|| {
            ErrorCode::InvalidCursor.error("after is not a cursor of this list ordered by distance")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_by_distance_are_nearest_first_then_in_list_order() {
        let order = by_distance([Some(2.0), None, Some(0.5), Some(2.0)].into_iter());
        assert_eq!(order, [(500, 2), (2000, 0), (2000, 3)]);
        let c = distance_cursor(2000, "abc|d");
        assert_eq!(decode_distance_cursor(&c).unwrap(), (2000, "abc|d".into()));
        assert!(decode_distance_cursor("abc").is_err());
    }
}
