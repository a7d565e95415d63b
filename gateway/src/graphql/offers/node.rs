//! The `Offer` type and what it holds: its employer, OPCO, occupations
//! and sources.

use std::sync::Arc;

use async_graphql::{Enum, Object, SimpleObject, ID};
use passerelle_schema::Offer;

use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::scalars::{Date, DateTime};
use crate::graphql::common::written::{resolved, Planned, Writer, Written};

use crate::graphql::common::partner_id::PartnerId;
use crate::graphql::common::place::Location;
use crate::graphql::occupations::Rome;

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

pub struct OfferNode(pub Arc<Offer>);

/// An apprenticeship offer, the same whichever exchange published it.
#[Object(name = "Offer")]
impl OfferNode {
    /// The offer's global identifier.
    pub(crate) async fn id(&self) -> ID {
        ID(GlobalId::encode_offer(&self.0))
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
    async fn rome_codes(&self) -> Vec<Rome<'_>> {
        self.0.rome_codes.iter().map(|r| Rome(r.as_str())).collect()
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

impl Written for OfferNode {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "id" => w.str(&resolved!(w, self.id)),
            "title" => w.str(resolved!(w, self.title)),
            "description" => w.opt_str(resolved!(w, self.description)),
            "level" => w.put(resolved!(w, self.level)),
            "employer" => w.object(&resolved!(w, self.employer), f.sub()),
            "location" => w.object(&resolved!(w, self.location), f.sub()),
            "startDate" => w.opt_leaf(resolved!(w, self.start_date).as_ref(), f),
            "durationMonths" => w.put(resolved!(w, self.duration_months)),
            "rhythm" => w.opt_str(resolved!(w, self.rhythm)),
            "openings" => w.put(resolved!(w, self.openings)),
            "publishedAt" => w.leaf(&resolved!(w, self.published_at), f),
            "expiresAt" => w.opt_leaf(resolved!(w, self.expires_at).as_ref(), f),
            "publicSector" => w.put(resolved!(w, self.public_sector)),
            "status" => w.leaf(&resolved!(w, self.status), f),
            "sources" => w.objects(&resolved!(w, self.sources), f.sub()),
            _ => None,
        }
    }
}

impl Written for OfferSource {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "partner" => w.leaf(&self.partner, f),
            "partnerId" => w.str(&self.partner_id),
            "url" => w.opt_str(self.url.as_deref()),
            _ => None,
        }
    }
}

impl Written for Employer<'_> {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "siret" => w.str(resolved!(w, self.siret)),
            "siren" => w.str(resolved!(w, self.siren)),
            "name" => w.str(resolved!(w, self.name)),
            "size" => w.opt_str(resolved!(w, self.size)),
            "naf" => w.opt_str(resolved!(w, self.naf)),
            "publicType" => w.opt_leaf(resolved!(w, self.public_type).as_ref(), f),
            "opco" => w.optional(resolved!(w, self.opco).as_ref(), f.sub()),
            _ => None,
        }
    }
}

impl Written for Opco {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "code" => w.str(&self.code),
            "name" => w.str(&self.name),
            _ => None,
        }
    }
}
