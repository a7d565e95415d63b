//! The GraphQL types of the unified model.

use std::sync::Arc;

use async_graphql::{Enum, Interface, Object, SimpleObject, ID};
use passerelle_schema::Offer;

use super::ids::GlobalId;
use super::scalars::{Date, DateTime};

pub use super::partner_id::PartnerId;

/// How Passerelle reaches a partner's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::PartnerMode")]
pub enum PartnerMode {
    /// Asked at request time; answers cached.
    Live,
    /// Pulled on a schedule into the store.
    Synced,
    /// The partner pushes to Passerelle.
    Push,
}

/// The parts of the public sector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::PublicEmployerType")]
pub enum PublicEmployerType {
    /// The State.
    Etat,
    /// Local authorities.
    Territoriale,
    /// Public hospitals.
    Hospitaliere,
}

/// Whether an offer is still open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "passerelle_schema::OfferStatus")]
pub enum OfferStatus {
    /// Open to candidates.
    Active,
    /// Taken.
    Filled,
    /// Withdrawn.
    Cancelled,
    /// Not yet open.
    Pending,
}

/// An object with a global identifier, which `node(id)` resolves: every
/// entity a page may refetch (Relay's `@refetchable`, a normalised cache).
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global identifier."))]
pub enum Node {
    /// An apprenticeship offer.
    Offer(OfferNode),
    /// A CFA.
    Cfa(super::cfa::CfaNode),
    /// A programme of the training catalogue.
    Formation(super::formation::FormationNode),
    /// One occurrence of an orientation event.
    Event(super::events::EventNode),
    /// An orientation site.
    OrientationSite(super::events::OrientationSite),
}

pub struct OfferNode(pub Arc<Offer>);

/// An apprenticeship offer, the same whichever exchange published it.
#[Object(name = "Offer")]
impl OfferNode {
    /// The offer's global identifier.
    async fn id(&self) -> ID {
        ID(GlobalId::of_offer(&self.0).encode())
    }

    /// The position's title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// What the apprentice will do.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// The occupations of the position (ROME), most specific first.
    async fn rome_codes(&self) -> Vec<Rome> {
        self.0
            .rome_codes
            .iter()
            .map(|r| Rome {
                code: r.to_string(),
                label: r.label().map(str::to_owned),
            })
            .collect()
    }

    /// The level of the diploma prepared, 3 (CAP) to 8 (doctorate).
    async fn level(&self) -> Option<u8> {
        self.0.level.map(|l| l.get())
    }

    /// The employer.
    async fn employer(&self) -> Employer<'_> {
        Employer(&self.0)
    }

    /// Where the apprentice works.
    async fn location(&self) -> Location<'_> {
        Location::of_offer(&self.0)
    }

    /// When the contract starts.
    async fn start_date(&self) -> Option<Date> {
        self.0.start_date.map(Date)
    }

    /// The contract's length in months.
    async fn duration_months(&self) -> Option<u32> {
        self.0.duration_months
    }

    /// The alternation between training centre and company.
    async fn rhythm(&self) -> Option<&str> {
        self.0.rhythm.as_deref()
    }

    /// How many apprentices the employer takes.
    async fn openings(&self) -> u32 {
        self.0.openings
    }

    /// When the offer was first published (the earliest of its sources).
    async fn published_at(&self) -> DateTime {
        DateTime(self.0.published_at)
    }

    /// When the offer stops being valid.
    async fn expires_at(&self) -> Option<DateTime> {
        self.0.expires_at.map(DateTime)
    }

    /// Whether the employer is public (State, local authority, hospital).
    async fn public_sector(&self) -> bool {
        self.0.employer.public_type.is_some()
    }

    /// Whether the offer is still open.
    async fn status(&self) -> OfferStatus {
        self.0.status.into()
    }

    /// The exchanges that publish this offer; several when the employer
    /// posted it on more than one.
    async fn sources(&self) -> Vec<OfferSource> {
        self.0
            .sources
            .iter()
            .map(|s| OfferSource {
                partner: s.partner.into(),
                partner_id: s.partner_id.to_string(),
                url: s.url.as_ref().map(ToString::to_string),
            })
            .collect()
    }
}

/// An occupation of the ROME referential.
#[derive(SimpleObject)]
pub struct Rome {
    /// The code (`D1102`).
    code: String,
    /// The label, when the code is in Passerelle's reference list.
    label: Option<String>,
}

/// One exchange's copy of an offer.
#[derive(SimpleObject)]
pub struct OfferSource {
    /// The exchange.
    partner: PartnerId,
    /// The offer's identifier at the exchange.
    partner_id: String,
    /// The offer's page at the exchange.
    url: Option<String>,
}

pub struct Employer<'a>(&'a Offer);

/// The employer of an offer.
#[Object]
impl Employer<'_> {
    /// The establishment's SIRET.
    async fn siret(&self) -> &str {
        self.0.employer.siret.as_str()
    }

    /// The company's SIREN.
    async fn siren(&self) -> &str {
        self.0.employer.siret.siren()
    }

    /// The trade name.
    async fn name(&self) -> &str {
        &self.0.employer.name
    }

    /// The headcount band, as the exchange states it.
    async fn size(&self) -> Option<&str> {
        self.0.employer.size.as_deref()
    }

    /// The activity code (NAF).
    async fn naf(&self) -> Option<&str> {
        self.0.employer.naf.as_ref().map(|n| n.as_str())
    }

    /// For a public employer, which part of the public sector.
    async fn public_type(&self) -> Option<PublicEmployerType> {
        self.0.employer.public_type.map(Into::into)
    }

    /// The OPCO the employer belongs to.
    async fn opco(&self) -> Option<Opco> {
        self.0.employer.opco.as_ref().map(|o| Opco {
            code: o.to_string(),
            name: o.name().to_owned(),
        })
    }
}

/// An OPCO (opérateur de compétences).
#[derive(SimpleObject)]
pub struct Opco {
    /// Its code (`AKTO`).
    code: String,
    /// Its name.
    name: String,
}

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
