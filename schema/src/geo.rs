//! Places: départements, postcodes, communes and coordinates.

use serde::{Deserialize, Serialize};

use crate::ids::{string_id, IdError};
use crate::reference;

use std::fmt;
use std::str::FromStr;

string_id!(
    /// A French département code: two digits, `2A`/`2B`, or three digits
    /// overseas (`971`).
    Departement
);

impl Departement {
    /// Parses a département code; `014` and `14` are the same département.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let t = if t.len() == 3 && t.starts_with('0') {
            t[1..].to_owned()
        } else {
            t
        };
        // The départements of the Code officiel géographique: 01 to 95
        // (Corsica's 20 is 2A and 2B), and overseas 971 to 974 and 976.
        let ok = match t.len() {
            2 => {
                t == "2A"
                    || t == "2B"
                    || (t.bytes().all(|b| b.is_ascii_digit())
                        && ("01".."96").contains(&t.as_str())
                        && t != "20")
            }
            3 => matches!(t.as_str(), "971" | "972" | "973" | "974" | "976"),
            _ => false,
        };
        if ok {
            Ok(Self(t.into()))
        } else {
            Err(IdError::Format {
                kind: "département",
                expected: "a département code like 14",
                got: s.to_owned(),
            })
        }
    }

    /// True for the five départements of Normandy.
    pub fn is_normandy(&self) -> bool {
        reference::departement_name(self.as_str()).is_some()
    }

    /// The département's name, for the Normandy ones.
    pub fn name(&self) -> Option<&'static str> {
        reference::departement_name(self.as_str())
    }
}

string_id!(
    /// A French postcode: five digits.
    Postcode
);

impl Postcode {
    /// Parses a postcode.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim();
        if t.len() == 5 && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(t.into()))
        } else {
            Err(IdError::Format {
                kind: "postcode",
                expected: "5 digits",
                got: s.to_owned(),
            })
        }
    }

    /// The département a postcode belongs to (Corsica's `20` is told apart
    /// by the postcode: 200xx–201xx are 2A, the rest 2B).
    pub fn departement(&self) -> Departement {
        let p = self.as_str();
        let code = match &p[..2] {
            "97" => p[..3].to_owned(),
            "20" if p < "20200" => "2A".to_owned(),
            "20" => "2B".to_owned(),
            d => d.to_owned(),
        };
        Departement(code.into())
    }
}

string_id!(
    /// The INSEE code of a commune of Normandy, known to the reference list.
    InseeCommune
);

impl InseeCommune {
    /// Parses an INSEE commune code and checks the commune exists in Normandy.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        if t.len() != 5 || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::Format {
                kind: "INSEE commune code",
                expected: "5 characters like 14118",
                got: s.to_owned(),
            });
        }
        if reference::commune(&t).is_none() {
            return Err(IdError::Unknown {
                kind: "Normandy commune",
                got: s.to_owned(),
            });
        }
        Ok(Self(t.into()))
    }

    /// The commune's reference record.
    pub fn commune(&self) -> &'static reference::Commune {
        reference::commune(self.as_str()).expect("checked at construction")
    }

    /// The commune's name.
    pub fn name(&self) -> &'static str {
        &self.commune().name
    }

    /// The commune's département.
    pub fn departement(&self) -> Departement {
        Departement(self.departement_code().into())
    }

    /// The code of the commune's département, without a lookup: the first
    /// two characters of a Normandy commune's INSEE code (`14`, `27`, `50`,
    /// `61`, `76`).
    pub fn departement_code(&self) -> &str {
        debug_assert_eq!(self.commune().departement, self.as_str()[..2]);
        &self.as_str()[..2]
    }
}

string_id!(
    /// The INSEE code of a current French commune (`75056`, `2A004`,
    /// `97411`), as the Code officiel géographique lists it; in Normandy,
    /// a commune of the reference list.
    CommuneCode
);

impl CommuneCode {
    /// Parses an INSEE commune code: five characters whose first two (three
    /// overseas) are a département, naming a commune of the Code officiel
    /// géographique. The code of a former commune (merged, délégué,
    /// associé) gives the current commune it belongs to.
    pub fn parse(s: &str) -> Result<Self, IdError> {
        let t = s.trim().to_ascii_uppercase();
        let shape_ok = t.len() == 5
            && t.bytes().all(|b| b.is_ascii_alphanumeric())
            && t[2..].bytes().all(|b| b.is_ascii_digit());
        if !shape_ok || Departement::parse(Self::departement_of(&t)).is_err() {
            return Err(IdError::Format {
                kind: "INSEE commune code",
                expected: "5 characters like 14118, 2A004 or 97411",
                got: s.to_owned(),
            });
        }
        let Some(current) = reference::current_commune(&t) else {
            return Err(IdError::Unknown {
                kind: "French commune (Code officiel géographique)",
                got: s.to_owned(),
            });
        };
        let code = Self(current.into());
        if code.departement().is_normandy() && reference::commune(code.as_str()).is_none() {
            return Err(IdError::Unknown {
                kind: "Normandy commune",
                got: s.to_owned(),
            });
        }
        Ok(code)
    }

    fn departement_of(t: &str) -> &str {
        if t.starts_with("97") {
            &t[..3]
        } else {
            &t[..2]
        }
    }

    /// The commune's département.
    pub fn departement(&self) -> Departement {
        Departement(Self::departement_of(self.as_str()).into())
    }

    /// True for a commune of Normandy.
    pub fn is_normandy(&self) -> bool {
        self.departement().is_normandy()
    }
}

impl InseeCommune {
    /// Where the commune lies, when the reference data knows.
    pub fn position(&self) -> Option<GeoPoint> {
        self.commune().position
    }
}

/// A search around a place: every commune within `radius_km` of `centre`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Near {
    /// The centre.
    pub centre: GeoPoint,
    /// The radius, in kilometres.
    pub radius_km: f64,
}

impl Near {
    /// The smallest radius a search takes, in kilometres.
    pub const MIN_RADIUS_KM: f64 = 1.0;
    /// The largest.
    pub const MAX_RADIUS_KM: f64 = 200.0;

    /// The distance from the centre to a commune, in kilometres, when the
    /// commune's position is known.
    pub fn distance_to(&self, commune: &InseeCommune) -> Option<f64> {
        commune.position().map(|p| self.centre.distance_km(&p))
    }

    /// Whether a commune lies within the radius; a commune whose position
    /// is unknown does not.
    pub fn holds(&self, commune: &InseeCommune) -> bool {
        self.holds_point(commune.position())
    }

    /// Whether a position lies within the radius; an unknown one does not.
    pub fn holds_point(&self, position: Option<GeoPoint>) -> bool {
        position.is_some_and(|p| self.centre.distance_km(&p) <= self.radius_km)
    }
}

impl Eq for Near {}

impl std::hash::Hash for Near {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.centre.latitude.to_bits().hash(state);
        self.centre.longitude.to_bits().hash(state);
        self.radius_km.to_bits().hash(state);
    }
}

/// A WGS84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    /// Latitude in degrees, −90 to 90.
    pub latitude: f64,
    /// Longitude in degrees, −180 to 180.
    pub longitude: f64,
}

/// The Earth's mean radius, in kilometres (IUGG).
const EARTH_RADIUS_KM: f64 = 6371.0088;

impl GeoPoint {
    /// The great-circle distance to `other`, in kilometres (haversine
    /// formula, on a sphere of the Earth's mean radius).
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (la1, la2) = (self.latitude.to_radians(), other.latitude.to_radians());
        let dla = la2 - la1;
        let dlo = (other.longitude - self.longitude).to_radians();
        let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
    }

    /// A position, when both coordinates are in range.
    pub fn new(latitude: f64, longitude: f64) -> Option<Self> {
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            Self {
                latitude,
                longitude,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_are_great_circle() {
        let caen = GeoPoint::new(49.1829, -0.3707).unwrap();
        let rouen = GeoPoint::new(49.4432, 1.0999).unwrap();
        // About 109 km as the crow flies.
        let d = caen.distance_km(&rouen);
        assert!((d - 109.9).abs() < 1.0, "{d}");
        assert_eq!(caen.distance_km(&caen), 0.0);
        assert!((caen.distance_km(&rouen) - rouen.distance_km(&caen)).abs() < 1e-9);
        // A quarter of a meridian.
        let pole = GeoPoint::new(90.0, 0.0).unwrap();
        let equator = GeoPoint::new(0.0, 0.0).unwrap();
        assert!((pole.distance_km(&equator) - 10_007.5).abs() < 1.0);
        let near = Near {
            centre: caen,
            radius_km: 10.0,
        };
        assert!(near.holds(&InseeCommune::parse("14118").unwrap()));
        assert!(!near.holds(&InseeCommune::parse("76540").unwrap()));
    }

    #[test]
    fn communes_must_be_in_normandy() {
        let caen = InseeCommune::parse("14118").unwrap();
        assert_eq!(caen.name(), "Caen");
        assert_eq!(caen.departement().as_str(), "14");
        assert!(matches!(
            InseeCommune::parse("75056"),
            Err(IdError::Unknown { .. })
        ));
        assert!(matches!(
            InseeCommune::parse("1411"),
            Err(IdError::Format { .. })
        ));
    }

    #[test]
    fn commune_codes_must_be_in_the_official_list() {
        for known in ["14118", "75056", "75101", "2A004", "97411", "13055"] {
            assert_eq!(CommuneCode::parse(known).unwrap().as_str(), known);
        }
        for unknown in ["2B999", "75999", "14999", "97199"] {
            assert!(
                matches!(CommuneCode::parse(unknown), Err(IdError::Unknown { .. })),
                "{unknown}"
            );
        }
        // No such département.
        for malformed in ["99999", "98000", "96001", "1411"] {
            assert!(
                matches!(CommuneCode::parse(malformed), Err(IdError::Format { .. })),
                "{malformed}"
            );
        }
        // A former commune of Vire Normandie names it.
        let merged = CommuneCode::parse("14717").unwrap();
        assert_eq!(merged.as_str(), "14762");
        assert!(merged.is_normandy());
        assert_eq!(CommuneCode::parse("2a004").unwrap().as_str(), "2A004");
    }

    #[test]
    fn every_normandy_commune_is_in_the_official_list() {
        for c in reference::communes() {
            assert_eq!(CommuneCode::parse(&c.code).unwrap().as_str(), c.code);
        }
    }

    #[test]
    fn postcodes_tell_their_departement() {
        assert_eq!(
            Postcode::parse("14000").unwrap().departement().as_str(),
            "14"
        );
        assert_eq!(
            Postcode::parse("97100").unwrap().departement().as_str(),
            "971"
        );
        assert_eq!(
            Postcode::parse("20000").unwrap().departement().as_str(),
            "2A"
        );
        assert!(Departement::parse("014").unwrap().is_normandy());
        assert!(!Departement::parse("75").unwrap().is_normandy());
        for missing in ["00", "20", "96", "99", "975", "98", "977", "1", "XX"] {
            assert!(Departement::parse(missing).is_err(), "{missing}");
        }
        for real in ["01", "2A", "2b", "95", "971", "976", "014"] {
            assert!(Departement::parse(real).is_ok(), "{real}");
        }
    }
}
