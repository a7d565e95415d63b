//! What a search of offers asks for, and whether an offer matches it.

use passerelle_connectors::source::{Employers, OfferQuery};
use passerelle_schema::{Departement, DiplomaLevel, InseeCommune, Near, Offer, Partner, RomeCode};

use crate::domain::words::{Said, Words};
use crate::partners::packed::OfferSummary;

/// What a search asks for; every part must hold. Saved alerts keep it as
/// JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct OfferFilter {
    /// Any of these occupations.
    pub rome: Vec<RomeCode>,
    /// In this département.
    pub departement: Option<Departement>,
    /// In this commune.
    pub commune: Option<InseeCommune>,
    /// Around this place.
    pub near: Option<Near>,
    /// At this diploma level.
    pub level: Option<DiplomaLevel>,
    /// Published on this exchange.
    pub source: Option<Partner>,
    /// With these words (see [`crate::domain::words`]) in the title,
    /// description, employer, occupation or place; as typed.
    pub text: Option<String>,
    /// Offers of public employers (`true`) or private ones (`false`).
    pub public_sector: Option<bool>,
}

impl OfferFilter {
    /// Whether the search must read the offers of a source publishing
    /// `employers`' offers. A search by source still reads the other
    /// exchanges: an offer published on several is one merged offer, whose
    /// fields (and identifier) the merge decides.
    pub(super) fn wants(&self, employers: Employers) -> bool {
        employers.admit(self.public_sector)
    }

    /// What a live exchange may filter itself.
    pub(super) fn query(&self) -> OfferQuery {
        // An exchange files offers under ROME 4.0's finer codes too.
        let finer = self.rome.iter().flat_map(|r| {
            passerelle_schema::reference::rome_finer(r.as_str())
                .filter_map(|c| RomeCode::parse(c).ok())
        });
        let mut rome = self.rome.clone();
        rome.extend(finer);
        OfferQuery {
            rome,
            departement: self.departement(),
            level: self.level,
        }
    }

    /// The département the search is limited to, by either filter.
    pub(super) fn departement(&self) -> Option<Departement> {
        self.departement
            .clone()
            .or_else(|| self.commune.as_ref().map(InseeCommune::departement))
    }

    /// Whether a record sits where the search looks; copies of a position
    /// share their commune, so this is safe to apply before merging.
    pub(super) fn place_matches(&self, o: &OfferSummary) -> bool {
        self.place_matches_at(o, || o.commune.position())
    }

    /// [`Self::place_matches`], the commune's position given (it is read
    /// only for a search around a place).
    fn place_matches_at(
        &self,
        o: &OfferSummary,
        position: impl FnOnce() -> Option<passerelle_schema::GeoPoint>,
    ) -> bool {
        self.commune.as_ref().is_none_or(|c| c == o.commune)
            && self.near.is_none_or(|n| n.holds_point(position()))
            && self
                .departement
                .as_ref()
                .is_none_or(|d| d.as_str() == o.commune.departement_code())
    }

    /// Whether the filter asks for a département and a level at most.
    pub(super) fn by_place_and_level_only(&self) -> bool {
        self.commune.is_none()
            && self.near.is_none()
            && self.rome.is_empty()
            && self.source.is_none()
            && self.text.is_none()
            && self.public_sector.is_none()
    }

    /// The words to find, read.
    pub fn words(&self) -> Option<std::sync::Arc<Words>> {
        Words::cached(self.text.as_deref()?)
    }

    /// Whether a merged offer matches.
    pub fn matches(&self, o: &Offer) -> bool {
        self.matches_summary(&OfferSummary::of(o)) && self.matches_words(o)
    }

    /// Whether an offer says the filter's words.
    fn matches_words(&self, o: &Offer) -> bool {
        self.words().is_none_or(|w| w.matches(&said(o)))
    }

    /// Whether a merged offer whose commune lies at `position` matches:
    /// [`Self::matches`] for many filters of one offer, its position read
    /// once.
    pub fn matches_at(&self, o: &Offer, position: Option<passerelle_schema::GeoPoint>) -> bool {
        let s = OfferSummary::of(o);
        self.place_matches_at(&s, || position)
            && self.matches_beside_place(&s)
            && self.matches_words(o)
    }

    /// Whether an offer matches, its words aside.
    pub(super) fn matches_summary(&self, o: &OfferSummary) -> bool {
        self.place_matches(o) && self.matches_beside_place(o)
    }

    /// Whether an offer matches, its place and words aside. An offer filed
    /// under a finer code of ROME 4.0 is of its occupation (`D1108` of
    /// `D1102`).
    fn matches_beside_place(&self, o: &OfferSummary) -> bool {
        (self.rome.is_empty() || o.rome_codes.iter().any(|r| self.names(r)))
            && self.level.is_none_or(|l| o.level == Some(l))
            && self
                .source
                .is_none_or(|s| o.sources.partners().any(|x| x == s))
            && self.public_sector.is_none_or(|p| o.public == p)
    }

    /// Whether the filter names an occupation's code, or the occupation a
    /// finer code belongs to.
    pub(super) fn names(&self, code: &RomeCode) -> bool {
        self.rome.iter().any(|r| {
            r == code
                || passerelle_schema::reference::rome_parent(code.as_str()) == Some(r.as_str())
        })
    }
}

/// What an offer says, for a words search.
pub(crate) fn said(o: &Offer) -> Said<'_> {
    Said {
        title: &o.title,
        occupations: Said::labels_of(&o.rome_codes),
        body: o
            .description
            .iter()
            .map(|d| d.as_str())
            .chain([o.employer.name.as_str()])
            .collect(),
        places: Said::places_of([&o.location.commune]),
        communes: vec![o.location.commune.as_str()],
        rome: o.rome_codes.iter().collect(),
        level: o.level,
    }
}
