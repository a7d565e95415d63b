//! Places as every part of the API gives them: a commune of Normandy,
//! its département, and what the partner adds.

use async_graphql::{Object, SimpleObject};
use passerelle_schema::Offer;

use super::written::{resolved, Planned, Writer, Written};

/// A place, as every part of the API gives one: its commune, with its
/// département, and what the partner adds (postcode, street, position).
pub struct Location<'a> {
    commune: &'a passerelle_schema::InseeCommune,
    postcode: Option<&'a str>,
    address: Option<&'a str>,
    coordinates: Option<passerelle_schema::GeoPoint>,
}

impl<'a> Location<'a> {
    /// Where an offer's work takes place.
    pub fn of_offer(o: &'a Offer) -> Self {
        Self {
            commune: &o.location.commune,
            postcode: o.location.postcode.as_ref().map(|p| p.as_str()),
            address: o.location.address.as_deref(),
            coordinates: o.location.coordinates,
        }
    }

    /// A commune, known by its code alone.
    pub fn of_commune(commune: &'a passerelle_schema::InseeCommune) -> Self {
        Self {
            commune,
            postcode: None,
            address: None,
            coordinates: None,
        }
    }

    /// The same place, with its street address.
    pub fn with_address(mut self, address: Option<&'a str>) -> Self {
        self.address = address;
        self
    }

    /// The same place, with its postcode.
    pub fn with_postcode(mut self, postcode: Option<&'a str>) -> Self {
        self.postcode = postcode;
        self
    }
}

/// A place: a commune of Normandy, its département, and what the partner
/// adds. Offers, CFAs, orientation sites and places of training all give
/// their place as a `Location`.
#[Object]
impl Location<'_> {
    /// The commune's INSEE code.
    async fn commune_code(&self) -> &str {
        self.commune.as_str()
    }

    /// The commune's name.
    async fn commune_name(&self) -> &str {
        self.commune.name()
    }

    /// The postcode.
    async fn postcode(&self) -> Option<&str> {
        self.postcode
    }

    /// The département.
    async fn departement(&self) -> Departement {
        Departement::of(&self.commune.departement())
    }

    /// The street address.
    async fn address(&self) -> Option<&str> {
        self.address
    }

    /// The position, when the partner gives one.
    async fn coordinates(&self) -> Option<GeoPoint> {
        self.coordinates.map(|c| GeoPoint {
            latitude: c.latitude,
            longitude: c.longitude,
        })
    }
}

/// A département.
#[derive(SimpleObject)]
pub struct Departement {
    /// Its code (`14`).
    code: String,
    /// Its name, for the départements of Normandy.
    name: Option<String>,
}

impl Departement {
    /// The département `d`.
    pub fn of(d: &passerelle_schema::Departement) -> Self {
        Self {
            name: d.name().map(str::to_owned),
            code: d.to_string(),
        }
    }
}

/// A WGS84 position.
#[derive(SimpleObject)]
pub struct GeoPoint {
    /// Degrees north.
    latitude: f64,
    /// Degrees east.
    longitude: f64,
}

impl Written for Location<'_> {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "communeCode" => w.str(resolved!(w, self.commune_code)),
            "communeName" => w.str(resolved!(w, self.commune_name)),
            "postcode" => w.opt_str(resolved!(w, self.postcode)),
            "departement" => w.object(&resolved!(w, self.departement), f.sub()),
            "address" => w.opt_str(resolved!(w, self.address)),
            "coordinates" => w.optional(resolved!(w, self.coordinates).as_ref(), f.sub()),
            _ => None,
        }
    }
}

impl Written for Departement {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "code" => w.str(&self.code),
            "name" => w.opt_str(self.name.as_deref()),
            _ => None,
        }
    }
}

impl Written for GeoPoint {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "latitude" => w.put(self.latitude),
            "longitude" => w.put(self.longitude),
            _ => None,
        }
    }
}
