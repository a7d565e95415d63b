//! The `Formation` type: a programme of the training catalogue, its places
//! of training, sessions and contacts.

use std::sync::Arc;

use async_graphql::{Object, SimpleObject, ID};
use passerelle_schema::{DiplomaLevel, Formation};

use super::query::TextFormat;
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::partner_id::PartnerId;
use crate::graphql::common::place::Location;
use crate::graphql::common::scalars::Date;
use crate::graphql::common::written::{resolved, Planned, Writer, Written};

pub struct FormationNode(pub Arc<Formation>);

/// An apprenticeship programme of the training catalogue.
#[Object(name = "Formation")]
impl FormationNode {
    /// The programme's global identifier (`node(id)`). Before, `id` was
    /// the catalogue's identifier, now `partnerId`.
    pub(crate) async fn id(&self) -> ID {
        ID(GlobalId::encode_formation(
            self.0.partner,
            &self.0.partner_id,
        ))
    }

    /// The programme's identifier in its catalogue.
    async fn partner_id(&self) -> &str {
        &self.0.partner_id
    }

    /// The catalogue it comes from.
    async fn source(&self) -> PartnerId {
        self.0.partner.into()
    }

    /// Its title.
    async fn title(&self) -> &str {
        &self.0.title
    }

    /// The RNCP certification it prepares.
    async fn rncp(&self) -> Option<&str> {
        self.0.rncp.as_ref().map(|r| r.as_str())
    }

    /// The certification's level, 3 to 8.
    async fn level(&self) -> Option<u8> {
        self.0.level.map(DiplomaLevel::get)
    }

    /// The occupations it leads to.
    async fn rome_codes(&self) -> Vec<&str> {
        self.0.rome_codes.iter().map(|r| r.as_str()).collect()
    }

    /// The CFA responsible for it.
    async fn cfa(&self) -> TrainingOrgRef {
        TrainingOrgRef {
            uai: self.0.cfa.uai.as_ref().map(|u| u.to_string()),
            siret: self.0.cfa.siret.as_ref().map(ToString::to_string),
            name: self.0.cfa.name.clone(),
        }
    }

    /// The INSEE code of the commune where it is taught.
    #[graphql(
        deprecation = "a programme may be taught at several places: read `places { location }`",
        inaccessible
    )]
    async fn commune_code(&self) -> Option<&str> {
        self.0.commune.as_ref().map(|c| c.as_str())
    }

    /// The name of that commune.
    #[graphql(
        deprecation = "a programme may be taught at several places: read `places { location }`",
        inaccessible
    )]
    async fn commune_name(&self) -> Option<&str> {
        self.0.commune.as_ref().map(|c| c.name())
    }

    /// Its intakes, at every place.
    async fn sessions(&self) -> Vec<SessionInfo> {
        self.0.sessions.iter().map(SessionInfo::of).collect()
    }

    /// The places where it is taught, each with its address, commune,
    /// sessions and places; their capacities add up to `capacity`.
    async fn places(&self) -> Vec<FormationPlace> {
        (0..self.0.places.len())
            .map(|index| FormationPlace {
                formation: self.0.clone(),
                index,
            })
            .collect()
    }

    /// What it aims at, as the catalogue words it: as text by default, or
    /// as HTML whose markup (paragraphs, breaks, lists, emphasis) is kept
    /// and everything else taken out.
    async fn objective(&self, #[graphql(default)] format: TextFormat) -> Option<String> {
        self.0.objective.as_deref().map(|t| format.of(t))
    }

    /// What it teaches, as the catalogue words it; `format` as for
    /// `objective`.
    async fn contents(&self, #[graphql(default)] format: TextFormat) -> Option<String> {
        self.0.contents.as_deref().map(|t| format.of(t))
    }

    /// Every RNCP certification it prepares; `rncp` is the first.
    async fn rncp_codes(&self) -> Vec<&str> {
        self.0.rncp_codes.iter().map(|r| r.as_str()).collect()
    }

    /// Its certifications' codes in Certif Info.
    async fn certifinfo_codes(&self) -> &[String] {
        &self.0.certifinfo_codes
    }

    /// Its FORMACODE subject codes.
    async fn formacodes(&self) -> &[String] {
        &self.0.formacodes
    }

    /// Who answers questions about it.
    async fn contact(&self) -> Option<FormationContact> {
        self.0.contact.as_ref().map(|c| FormationContact {
            name: c.name.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            web: c.web.clone(),
        })
    }

    /// Places in all, across sessions.
    async fn capacity(&self) -> u32 {
        self.0.capacity
    }

    /// Places still free, across sessions.
    async fn vacancies(&self) -> u32 {
        self.0.vacancies
    }

    /// Hours in the training centre.
    async fn hours_centre(&self) -> Option<u32> {
        self.0.hours_centre
    }

    /// Hours in the company.
    async fn hours_company(&self) -> Option<u32> {
        self.0.hours_company
    }
}

/// A training organisation as the catalogue names it.
#[derive(SimpleObject)]
pub struct TrainingOrgRef {
    /// The establishment's UAI.
    uai: Option<String>,
    /// The organisation's SIRET; null when the catalogue gives none that
    /// passes its check.
    siret: Option<String>,
    /// Its name; null when the catalogue gives none.
    name: Option<String>,
}

/// A place where a programme is taught, with its own sessions.
pub struct FormationPlace {
    formation: Arc<Formation>,
    index: usize,
}

/// A place where a programme is taught (a training action of the
/// catalogue), with its own sessions and places.
#[Object]
impl FormationPlace {
    /// Its identifier in the catalogue.
    async fn id(&self) -> Option<&str> {
        self.place().partner_id.as_deref()
    }

    /// Where it is: its commune, postcode and street; null when the
    /// catalogue gives no commune of Normandy (see `inNormandy`).
    async fn location(&self) -> Option<Location<'_>> {
        let place = self.place();
        place.commune.as_ref().map(|c| {
            Location::of_commune(c)
                .with_postcode(place.postcode.as_ref().map(|p| p.as_str()))
                .with_address(place.address.as_deref())
        })
    }

    /// Its street address.
    #[graphql(deprecation = "read `location { address }`", inaccessible)]
    async fn address(&self) -> Option<&str> {
        self.place().address.as_deref()
    }

    /// Its postcode.
    #[graphql(deprecation = "read `location { postcode }`", inaccessible)]
    async fn postcode(&self) -> Option<&str> {
        self.place().postcode.as_ref().map(|p| p.as_str())
    }

    /// Its town, as the catalogue writes it.
    async fn city(&self) -> Option<&str> {
        self.place().city.as_deref()
    }

    /// Whether it is in Normandy, by its commune or failing it its
    /// postcode; null when the catalogue gives neither. A catalogue holds
    /// programmes taught across the region's border: a search by
    /// département and the Région's figures count only places in
    /// Normandy.
    async fn in_normandy(&self) -> Option<bool> {
        self.place().in_normandy()
    }

    /// The INSEE code of its commune wherever it is, current (a former
    /// commune's code gives the commune it merged into).
    async fn insee_code(&self) -> Option<&str> {
        self.place().commune_code.as_ref().map(|c| c.as_str())
    }

    /// The code of its département wherever it is, by its commune or
    /// failing it its postcode.
    async fn departement_code(&self) -> Option<String> {
        self.place().departement().map(|d| d.as_str().to_owned())
    }

    /// The INSEE code of its commune.
    #[graphql(deprecation = "read `location { communeCode }`", inaccessible)]
    async fn commune_code(&self) -> Option<&str> {
        self.place().commune.as_ref().map(|c| c.as_str())
    }

    /// The name of its commune.
    #[graphql(deprecation = "read `location { communeName }`", inaccessible)]
    async fn commune_name(&self) -> Option<&str> {
        self.place().commune.as_ref().map(|c| c.name())
    }

    /// The UAI of the site, when the catalogue gives it.
    async fn uai(&self) -> Option<String> {
        self.place().uai.as_ref().map(|u| u.to_string())
    }

    /// Its sessions.
    async fn sessions(&self) -> Vec<SessionInfo> {
        self.formation
            .sessions_at(self.index)
            .map(SessionInfo::of)
            .collect()
    }

    /// Places in all, across its sessions.
    async fn capacity(&self) -> u32 {
        self.place().capacity
    }

    /// Places still free, across its sessions.
    async fn vacancies(&self) -> u32 {
        self.place().vacancies
    }
}

impl FormationPlace {
    fn place(&self) -> &passerelle_schema::Place {
        &self.formation.places[self.index]
    }
}

/// Who answers questions about a programme.
#[derive(SimpleObject)]
pub struct FormationContact {
    /// A person's or a desk's name.
    name: Option<String>,
    /// A telephone number.
    phone: Option<String>,
    /// An e-mail address.
    email: Option<String>,
    /// A web page.
    web: Option<String>,
}

/// One intake of a programme.
#[derive(SimpleObject)]
pub struct SessionInfo {
    /// When it starts; null when the catalogue does not know.
    start: Option<Date>,
    /// When it ends; null when it is open-ended or unknown.
    end: Option<Date>,
    /// Whether it is recruiting; null when the catalogue does not say.
    recruiting: Option<bool>,
    /// Places in all.
    places: u32,
    /// Places still free.
    vacancies: u32,
}

impl SessionInfo {
    fn of(s: &passerelle_schema::Session) -> Self {
        SessionInfo {
            start: s.start.map(Date),
            end: s.end.map(Date),
            recruiting: s.recruiting,
            places: s.places,
            vacancies: s.vacancies,
        }
    }
}

impl Written for FormationNode {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        let ctx = w.ctx();
        match f.name() {
            "id" => w.str(&resolved!(w, self.id)),
            "partnerId" => w.str(resolved!(w, self.partner_id)),
            "source" => w.leaf(&resolved!(w, self.source), f),
            "title" => w.str(resolved!(w, self.title)),
            "rncp" => w.opt_str(resolved!(w, self.rncp)),
            "level" => w.put(resolved!(w, self.level)),
            "romeCodes" => w.strs(resolved!(w, self.rome_codes)),
            "cfa" => w.object(&resolved!(w, self.cfa), f.sub()),
            "communeCode" => w.opt_str(resolved!(w, self.commune_code)),
            "communeName" => w.opt_str(resolved!(w, self.commune_name)),
            "sessions" => w.objects(&resolved!(w, self.sessions), f.sub()),
            "objective" => {
                let text = resolved!(w, self.objective, f.arg_or_default(ctx, "format")?);
                w.opt_str(text.as_deref())
            }
            "contents" => {
                let text = resolved!(w, self.contents, f.arg_or_default(ctx, "format")?);
                w.opt_str(text.as_deref())
            }
            "rncpCodes" => w.strs(resolved!(w, self.rncp_codes)),
            "certifinfoCodes" => w.strs(
                resolved!(w, self.certifinfo_codes)
                    .iter()
                    .map(String::as_str),
            ),
            "formacodes" => w.strs(resolved!(w, self.formacodes).iter().map(String::as_str)),
            "contact" => w.optional(resolved!(w, self.contact).as_ref(), f.sub()),
            "capacity" => w.put(resolved!(w, self.capacity)),
            "vacancies" => w.put(resolved!(w, self.vacancies)),
            "hoursCentre" => w.put(resolved!(w, self.hours_centre)),
            "hoursCompany" => w.put(resolved!(w, self.hours_company)),
            _ => None,
        }
    }
}

impl Written for TrainingOrgRef {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "uai" => w.opt_str(self.uai.as_deref()),
            "siret" => w.opt_str(self.siret.as_deref()),
            "name" => w.opt_str(self.name.as_deref()),
            _ => None,
        }
    }
}

impl Written for FormationContact {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "name" => w.opt_str(self.name.as_deref()),
            "phone" => w.opt_str(self.phone.as_deref()),
            "email" => w.opt_str(self.email.as_deref()),
            "web" => w.opt_str(self.web.as_deref()),
            _ => None,
        }
    }
}

impl Written for SessionInfo {
    type As = Self;

    fn field(&self, f: &Planned<'_>, w: &mut Writer<'_>) -> Option<()> {
        match f.name() {
            "start" => w.opt_leaf(self.start.as_ref(), f),
            "end" => w.opt_leaf(self.end.as_ref(), f),
            "recruiting" => w.put(self.recruiting),
            "places" => w.put(self.places),
            "vacancies" => w.put(self.vacancies),
            _ => None,
        }
    }
}
