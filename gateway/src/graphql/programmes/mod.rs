//! Apprenticeship programmes in the API.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use base64::Engine;
use passerelle_schema::{DiplomaLevel, Formation, Near, Rncp};

use crate::domain::formations::{distance_km, search, FormationFilter};
use crate::graphql::common::errors::{report_stale, ErrorCode};
use crate::graphql::common::ids::GlobalId;
use crate::graphql::common::inputs::{self, page_size};
use crate::graphql::common::near::{
    by_distance, decode_distance_cursor, distance_cursor, order_centre, NearInput,
};
use crate::graphql::common::page_info::PageInfo;
use crate::graphql::common::partner_id::PartnerId;
use crate::graphql::common::place::Location;
use crate::graphql::common::scalars::Date;
use crate::graphql::common::ApiState;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The programmes' part of the root of queries.
#[derive(Default)]
pub struct FormationQuery;

/// What programmes to list; every field given must hold.
#[derive(InputObject, Default)]
#[graphql(name = "FormationFilter")]
pub struct FormationFilterInput {
    /// Leading to any of these ROME codes.
    rome: Option<Vec<String>>,
    /// Preparing this RNCP certification (`RNCP35185`).
    rncp: Option<String>,
    /// At this level, 3 to 8.
    level: Option<i32>,
    /// Taught in this département.
    departement: Option<String>,
    /// Taught in this commune (INSEE code).
    commune: Option<String>,
    /// Taught around a place: at a place within the radius.
    near: Option<NearInput>,
    /// Run by the CFA with this UAI.
    cfa: Option<String>,
    /// With free places (`true`) or full (`false`).
    has_vacancies: Option<bool>,
}

impl FormationFilterInput {
    pub(crate) fn parse(self, ctx: &Context<'_>) -> async_graphql::Result<FormationFilter> {
        Ok(FormationFilter {
            rome: inputs::romes("filter.rome", self.rome)?,
            rncp: self
                .rncp
                .map(|r| Rncp::parse(&r).map_err(|e| inputs::invalid("filter.rncp", e)))
                .transpose()?,
            level: inputs::level("filter.level", self.level)?,
            departement: inputs::departement(ctx, "filter.departement", self.departement)?,
            commune: inputs::commune("filter.commune", self.commune)?,
            near: self.near.map(|n| n.parse("filter.near")).transpose()?,
            cfa: inputs::uai("filter.cfa", self.cfa)?,
            has_vacancies: self.has_vacancies,
        })
    }
}

/// How a catalogue's text is given.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextFormat {
    /// Without markup: a new line after each paragraph, break or list
    /// item.
    #[default]
    Plain,
    /// As HTML a page can insert as it is: paragraphs, breaks, lists and
    /// emphasis, without attributes; nothing else.
    Html,
}

impl TextFormat {
    fn of(self, text: &str) -> String {
        match self {
            TextFormat::Plain => crate::domain::markup::plain(text),
            TextFormat::Html => crate::domain::markup::sanitised(text),
        }
    }
}

/// The order of a list of programmes.
#[derive(Enum, Clone, Copy, PartialEq, Eq, Default)]
pub enum FormationOrder {
    /// By identifier, the catalogue's order.
    #[default]
    Catalogue,
    /// Nearest first (a programme at its place nearest the centre of
    /// `filter.near`), then by identifier.
    Distance,
}

/// A page of programmes.
pub struct FormationConnection {
    items: Vec<Arc<Formation>>,
    /// When the list is ordered by distance: the programmes' positions in
    /// `items`, nearest first, each with its distance in metres.
    by_distance: Option<Vec<(u32, u32)>>,
    /// The centre the edges give their distance from.
    near: Option<Near>,
    start: usize,
    end: usize,
}

fn cursor(f: &Formation) -> String {
    B64.encode(format!("f1|{}", f.partner_id))
}

/// Where a page of programmes starts: after a programme, in the
/// catalogue's order or by distance.
pub enum FormationAfter {
    /// After this identifier.
    Catalogue(String),
    /// After this distance in metres, then this identifier.
    Distance(u32, String),
}

impl FormationConnection {
    /// Reads an `after` argument: a cursor of a programme list, the
    /// identifier of the programme it follows.
    pub fn cursor(after: Option<String>) -> async_graphql::Result<Option<String>> {
        after.map(|a| Self::identifier(&a)).transpose()
    }

    fn identifier(after: &str) -> async_graphql::Result<String> {
        B64.decode(after.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("f1|").map(str::to_owned))
            .ok_or_else(|| ErrorCode::InvalidCursor.error("after is not a cursor of this list"))
    }

    /// The page of `first` programmes of `items` (by identifier) after the
    /// programme `after`.
    pub fn at(items: Vec<Arc<Formation>>, first: usize, after: Option<&str>) -> Self {
        let after = after.map(|a| FormationAfter::Catalogue(a.to_owned()));
        Self::ordered(items, None, None, first, after)
    }

    /// The page of `first` programmes after `after`, nearest first from
    /// `order`'s centre when given; edges give their distance from
    /// `near`'s centre.
    fn ordered(
        items: Vec<Arc<Formation>>,
        near: Option<Near>,
        order: Option<Near>,
        first: usize,
        after: Option<FormationAfter>,
    ) -> Self {
        let by_distance = order.map(|o| by_distance(items.iter().map(|f| distance_km(f, &o))));
        let start = match (&after, &by_distance) {
            (None, _) => 0,
            (Some(FormationAfter::Catalogue(id)), None) => {
                items.partition_point(|f| f.partner_id.as_str() <= id.as_str())
            }
            (Some(FormationAfter::Distance(m, id)), Some(order)) => {
                order.partition_point(|(at, i)| {
                    *at < *m || (*at == *m && items[*i as usize].partner_id.as_str() <= id.as_str())
                })
            }
            // A cursor of the other order: refused before.
            (Some(_), _) => 0,
        };
        let len = by_distance.as_ref().map_or(items.len(), Vec::len);
        let end = (start + first).min(len);
        Self {
            items,
            by_distance,
            near,
            start,
            end,
        }
    }

    fn len(&self) -> usize {
        self.by_distance.as_ref().map_or(self.items.len(), Vec::len)
    }

    /// The `k`th programme of the list.
    fn item(&self, k: usize) -> &Arc<Formation> {
        let i = self
            .by_distance
            .as_ref()
            .map_or(k, |order| order[k].1 as usize);
        &self.items[i]
    }

    /// The cursor of the `k`th programme of the list.
    fn cursor_at(&self, k: usize) -> String {
        let inner = cursor(self.item(k));
        match &self.by_distance {
            Some(order) => distance_cursor(order[k].0, &inner),
            None => inner,
        }
    }
}

/// A page of programmes.
#[Object]
impl FormationConnection {
    /// How many programmes match, across every page.
    async fn total_count(&self) -> usize {
        self.len()
    }

    /// Places in all and free places, across every page.
    async fn totals(&self) -> PlaceTotals {
        PlaceTotals {
            capacity: self.items.iter().map(|f| u64::from(f.capacity)).sum(),
            vacancies: self.items.iter().map(|f| u64::from(f.vacancies)).sum(),
        }
    }

    /// The programmes of the page.
    async fn nodes(&self) -> Vec<FormationNode> {
        (self.start..self.end)
            .map(|k| FormationNode(self.item(k).clone()))
            .collect()
    }

    /// The programmes of the page, with their cursors.
    async fn edges(&self) -> Vec<FormationEdge> {
        (self.start..self.end)
            .map(|k| {
                let f = self.item(k);
                FormationEdge {
                    cursor: self.cursor_at(k),
                    distance_km: self
                        .near
                        .and_then(|n| distance_km(f, &n))
                        .map(|d| (d * 1000.0).round() / 1000.0),
                    node: FormationNode(f.clone()),
                }
            })
            .collect()
    }

    /// Where the page stands.
    async fn page_info(&self) -> PageInfo {
        PageInfo::at(self.len(), self.start, self.end, |k| self.cursor_at(k))
    }
}

/// Places of a set of programmes.
#[derive(SimpleObject)]
pub struct PlaceTotals {
    /// Places in all.
    capacity: u64,
    /// Places still free.
    vacancies: u64,
}

/// A programme and its cursor.
#[derive(SimpleObject)]
pub struct FormationEdge {
    /// The position to page from.
    cursor: String,
    /// The programme.
    node: FormationNode,
    /// The distance from the centre of `filter.near` to the programme's
    /// nearest place, in kilometres (great-circle); null without `near`.
    distance_km: Option<f64>,
}

pub struct FormationNode(pub Arc<Formation>);

/// An apprenticeship programme of the training catalogue.
#[Object(name = "Formation")]
impl FormationNode {
    /// The programme's global identifier (`node(id)`). Before, `id` was
    /// the catalogue's identifier, now `partnerId`.
    pub(crate) async fn id(&self) -> ID {
        ID(GlobalId::Formation {
            partner: self.0.partner,
            partner_id: self.0.partner_id.clone(),
        }
        .encode())
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

#[Object]
impl FormationQuery {
    /// Apprenticeship programmes of the training catalogue (Carif-Oref),
    /// with their sessions, capacity and free places; in catalogue order.
    async fn formations(
        &self,
        ctx: &Context<'_>,
        filter: Option<FormationFilterInput>,
        #[graphql(
            default = 20,
            desc = "How many programmes, at most `limits.max_page_size`."
        )]
        first: Option<i32>,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
        #[graphql(
            default,
            desc = "The catalogue's order, or nearest first from `filter.near`."
        )]
        order_by: FormationOrder,
    ) -> async_graphql::Result<FormationConnection> {
        let first = first.unwrap_or(20);
        let state = ctx.data::<ApiState>()?;
        let first = page_size(first, state.limits.max_page_size)?;
        let filter = filter.unwrap_or_default().parse(ctx)?;
        let order = order_centre(order_by == FormationOrder::Distance, filter.near.as_ref())?;
        let after = match (after, order) {
            (None, _) => None,
            (Some(a), None) => Some(FormationAfter::Catalogue(FormationConnection::identifier(
                &a,
            )?)),
            (Some(a), Some(_)) => {
                let (m, inner) = decode_distance_cursor(&a)?;
                Some(FormationAfter::Distance(
                    m,
                    FormationConnection::identifier(&inner)?,
                ))
            }
        };
        let catalogues = &state.sources.formations;
        let partners: Vec<_> = catalogues.iter().map(|f| f.partner()).collect();
        report_stale(ctx, &state.health, &partners);
        let items = search(catalogues, &filter);
        Ok(FormationConnection::ordered(
            items,
            filter.near,
            order,
            first,
            after,
        ))
    }
}
