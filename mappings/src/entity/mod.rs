//! The unified entities a mapping can produce, and their fields.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use passerelle_schema::{
    Cents, CommuneCode, Contact, DiplomaLevel, Employer, Event, EventDuration, EventKind,
    EventPeriod, EventStatus, EventTime, Formation, GeoPoint, InseeCommune, Location, Mobility,
    MobilityProgram, Naf, Offer, OfferSource, OfferStatus, Opco, OrientationSite, Partner, Place,
    Postcode, PublicEmployerType, Rncp, RomeCode, Session, Siret, SiteKind, TrainingOrg, Uai,
};
use serde::Serialize;

use crate::error::FieldError;
use crate::record::Texts;

/// A unified field a mapping file may fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDef {
    /// The name mapping files use (`employer.siret`).
    pub name: &'static str,
    /// Whether every mapping of the entity must fill it.
    pub required: bool,
    /// Where the value sits in the entity's JSON form, for test cases.
    pub json: &'static str,
}

const fn field(name: &'static str, required: bool, json: &'static str) -> FieldDef {
    FieldDef {
        name,
        required,
        json,
    }
}

/// The kinds of unified entity, a closed set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// An apprenticeship offer.
    Offer,
    /// An apprenticeship programme of the training catalogue.
    Formation,
    /// A mobility abroad (Pass Monde, Erasmus+).
    Mobility,
    /// An orientation event.
    Event,
    /// An orientation site.
    Site,
}

impl EntityKind {
    /// Every kind.
    pub const ALL: [EntityKind; 5] = [
        EntityKind::Offer,
        EntityKind::Formation,
        EntityKind::Mobility,
        EntityKind::Event,
        EntityKind::Site,
    ];

    /// The name mapping files use.
    pub fn name(self) -> &'static str {
        match self {
            EntityKind::Offer => "offer",
            EntityKind::Formation => "formation",
            EntityKind::Mobility => "mobility",
            EntityKind::Event => "event",
            EntityKind::Site => "site",
        }
    }

    /// The fields of the entity.
    pub fn fields(self) -> &'static [FieldDef] {
        match self {
            EntityKind::Offer => OFFER_FIELDS,
            EntityKind::Formation => FORMATION_FIELDS,
            EntityKind::Mobility => MOBILITY_FIELDS,
            EntityKind::Event => EVENT_FIELDS,
            EntityKind::Site => SITE_FIELDS,
        }
    }

    /// Parses a kind's name; the error lists the known ones.
    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown entity {s:?}; known entities: {}",
                    Self::ALL.map(Self::name).join(", ")
                )
            })
    }
}

/// The mapped values of one record, by unified field name, borrowed from
/// the record and the mapping where no step changed them.
#[derive(Debug, Default)]
pub struct Values<'a> {
    /// In the mapping's order: a few dozen, found by a scan.
    fields: Vec<(&'static str, Texts<'a>)>,
    /// The fields read `each` element of a path, element by element.
    slots: Vec<(&'static str, Slots<'a>)>,
    /// Values left out of a record that was kept, each with why.
    notes: Vec<FieldError>,
}

/// A field read `each` element of a path: for every element, the index of
/// the element of the path's first step it belongs to, and its value.
pub type Slots<'a> = Vec<(usize, Option<Cow<'a, str>>)>;

impl<'a> Values<'a> {
    pub(crate) fn with_capacity(fields: usize) -> Self {
        Self {
            fields: Vec::with_capacity(fields),
            slots: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// Sets a field read `each` element; its values are also the field's
    /// values, without the elements that have none.
    pub(crate) fn insert_slots(&mut self, field: &'static str, slots: Slots<'a>) {
        self.insert(field, slots.iter().filter_map(|(_, v)| v.clone()).collect());
        self.slots.retain(|(f, _)| *f != field);
        self.slots.push((field, slots));
    }

    /// A field's values element by element, when it is read `each` element.
    pub fn slots(&self, field: &str) -> Option<&Slots<'a>> {
        self.slots.iter().find(|(f, _)| *f == field).map(|(_, s)| s)
    }

    pub(crate) fn insert(&mut self, field: &'static str, values: Texts<'a>) {
        match self.get_mut(field) {
            Some(v) => *v = values,
            None => self.fields.push((field, values)),
        }
    }

    fn get_mut(&mut self, field: &str) -> Option<&mut Texts<'a>> {
        self.fields
            .iter_mut()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v)
    }

    /// All values of a field.
    pub fn all(&self, field: &str) -> &[Cow<'a, str>] {
        self.fields
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, v)| v.as_slice())
            .unwrap_or_default()
    }

    /// The first value of a field.
    pub fn one(&self, field: &str) -> Option<&str> {
        self.all(field).first().map(AsRef::as_ref)
    }

    /// The first value of a field, taken out.
    pub fn take(&mut self, field: &str) -> Option<Cow<'a, str>> {
        let values = self.get_mut(field)?;
        (!values.is_empty()).then(|| values.remove(0))
    }

    /// The first value of a field that must have one, taken out.
    pub fn take_required(&mut self, field: &str) -> Result<Cow<'a, str>, FieldError> {
        self.take(field)
            .ok_or_else(|| FieldError::new(field, "is missing"))
    }

    /// The first value of a field that must have one.
    pub fn required(&self, field: &str) -> Result<&str, FieldError> {
        self.one(field)
            .ok_or_else(|| FieldError::new(field, "is missing"))
    }

    /// The field parsed by `parse`, when it has a value.
    pub fn parse<T, E: std::fmt::Display>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<Option<T>, FieldError> {
        self.one(field)
            .map(|v| parse(v).map_err(|e| FieldError::new(field, e)))
            .transpose()
    }

    /// The field parsed by `parse`, or none when it does not parse, noted
    /// with why: for a value whose failure is not the record's (an
    /// organism's SIRET that fails its check, in a programme).
    pub fn parse_or_note<T, E: std::fmt::Display>(
        &mut self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Option<T> {
        match self.parse(field, parse) {
            Ok(v) => v,
            Err(e) => {
                self.notes.push(FieldError::new(
                    e.field,
                    format!("{}: left out, the record kept", e.reason),
                ));
                None
            }
        }
    }

    /// The values left out of the record, with why.
    pub(crate) fn take_notes(&mut self) -> Vec<FieldError> {
        std::mem::take(&mut self.notes)
    }

    /// The field parsed by `parse`; it must have a value.
    pub fn parse_required<T, E: std::fmt::Display>(
        &self,
        field: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
    ) -> Result<T, FieldError> {
        self.parse(field, parse)?
            .ok_or_else(|| FieldError::new(field, "is missing"))
    }
}

/// A unified entity that mappings build.
pub trait Entity: Sized + Serialize + serde::de::DeserializeOwned + Send + Sync + 'static {
    /// Which kind it is.
    const KIND: EntityKind;
    /// Builds the entity from a record's mapped values.
    fn build(partner: Partner, values: &mut Values<'_>) -> Result<Self, FieldError>;
    /// The record's identifier at the partner it was mapped from.
    fn partner_id(&self) -> &str;
}

const OFFER_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/sources/0/partner_id"),
    field("url", false, "/sources/0/url"),
    field("title", true, "/title"),
    field("description", false, "/description"),
    field("rome_codes", false, "/rome_codes"),
    field("level", false, "/level"),
    field("employer.siret", true, "/employer/siret"),
    field("employer.name", true, "/employer/name"),
    field("employer.size", false, "/employer/size"),
    field("employer.naf", false, "/employer/naf"),
    field("employer.opco", false, "/employer/opco"),
    field("employer.public_type", false, "/employer/public_type"),
    field("location.commune", true, "/location/commune"),
    field("location.postcode", false, "/location/postcode"),
    field("location.address", false, "/location/address"),
    field("location.latitude", false, "/location/coordinates/latitude"),
    field(
        "location.longitude",
        false,
        "/location/coordinates/longitude",
    ),
    field("start_date", false, "/start_date"),
    field("duration_months", false, "/duration_months"),
    field("rhythm", false, "/rhythm"),
    field("openings", false, "/openings"),
    field("published_at", true, "/published_at"),
    field("expires_at", false, "/expires_at"),
    field("status", false, "/status"),
];

fn datetime(v: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(v)
        .map(|d| d.to_utc())
        .map_err(|_| format!("{v:?} is not an RFC 3339 date-time (add a `datetime` transform)"))
}

fn date(v: &str) -> Result<NaiveDate, String> {
    v.parse()
        .map_err(|_| format!("{v:?} is not an ISO date (add a `date` transform)"))
}

fn number<T: std::str::FromStr>(v: &str) -> Result<T, String> {
    v.trim()
        .parse()
        .map_err(|_| format!("{v:?} is not a whole number in range"))
}

fn coordinate(v: &str) -> Result<f64, String> {
    let t = v.trim();
    // A decimal comma, as French writes it, is read as a point.
    let read = if t.contains(',') {
        t.replace(',', ".").parse()
    } else {
        t.parse()
    };
    read.map_err(|_| format!("{v:?} is not a coordinate"))
}

impl Entity for Offer {
    const KIND: EntityKind = EntityKind::Offer;

    fn partner_id(&self) -> &str {
        &self.primary_source().partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let rome_codes = v
            .all("rome_codes")
            .iter()
            .map(|c| RomeCode::parse(c).map_err(|e| FieldError::new("rome_codes", e)))
            .collect::<Result<Vec<_>, _>>()?;
        let latitude = v.parse("location.latitude", coordinate)?;
        let longitude = v.parse("location.longitude", coordinate)?;
        let coordinates = match (latitude, longitude) {
            (Some(lat), Some(lon)) => Some(GeoPoint::new(lat, lon).ok_or_else(|| {
                FieldError::new("location.latitude", format!("{lat}, {lon} is out of range"))
            })?),
            _ => None,
        };
        let status = v
            .parse("status", |s| {
                let s = s.trim();
                [
                    ("active", OfferStatus::Active),
                    ("filled", OfferStatus::Filled),
                    ("cancelled", OfferStatus::Cancelled),
                    ("pending", OfferStatus::Pending),
                ]
                .into_iter()
                .find(|(name, _)| s.eq_ignore_ascii_case(name))
                .map(|(_, status)| status)
                .ok_or_else(|| {
                    format!(
                        "{:?} is not active, filled, cancelled or pending (add a `code_list`)",
                        s.to_ascii_lowercase()
                    )
                })
            })?
            .unwrap_or_default();
        let title = v.take_required("title")?.into();
        Ok(Offer {
            sources: vec![OfferSource {
                partner,
                partner_id: v.take_required("partner_id")?.into(),
                url: v.take("url").map(Into::into),
            }],
            title,
            description: v.take("description").map(Into::into),
            rome_codes,
            level: v.parse("level", DiplomaLevel::parse)?,
            employer: Employer {
                siret: v.parse_required("employer.siret", Siret::parse)?,
                name: v.take_required("employer.name")?.into(),
                size: v.take("employer.size").map(Into::into),
                naf: v.parse("employer.naf", Naf::parse)?,
                opco: v.parse("employer.opco", Opco::parse)?,
                public_type: v.parse("employer.public_type", PublicEmployerType::parse)?,
            },
            location: Location {
                commune: v.parse_required("location.commune", InseeCommune::parse)?,
                postcode: v.parse("location.postcode", Postcode::parse)?,
                address: v.take("location.address").map(Into::into),
                coordinates,
            },
            start_date: v.parse("start_date", date)?,
            duration_months: v.parse("duration_months", number::<u32>)?,
            rhythm: v.take("rhythm").map(Into::into),
            openings: v.parse("openings", number::<u32>)?.unwrap_or(1),
            published_at: v.parse_required("published_at", datetime)?,
            expires_at: v.parse("expires_at", datetime)?,
            status,
        })
    }
}

const FORMATION_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("title", true, "/title"),
    field("objective", false, "/objective"),
    field("contents", false, "/contents"),
    field("rncp", false, "/rncp_codes"),
    field("certifinfo", false, "/certifinfo_codes"),
    field("formacodes", false, "/formacodes"),
    field("level", false, "/level"),
    field("rome_codes", false, "/rome_codes"),
    field("contact.name", false, "/contact/name"),
    field("contact.phone", false, "/contact/phone"),
    field("contact.email", false, "/contact/email"),
    field("contact.web", false, "/contact/web"),
    field("cfa.uai", false, "/cfa/uai"),
    field("cfa.siret", false, "/cfa/siret"),
    field("cfa.name", false, "/cfa/name"),
    field("commune", false, "/commune"),
    field("places.id", false, "/places/0/partner_id"),
    field("places.address", false, "/places/0/address"),
    field("places.postcode", false, "/places/0/postcode"),
    field("places.city", false, "/places/0/city"),
    field("places.commune", false, "/places/0/commune_code"),
    field("places.uai", false, "/places/0/uai"),
    field("sessions.start", false, "/sessions/0/start"),
    field("sessions.end", false, "/sessions/0/end"),
    field("sessions.recruiting", false, "/sessions/0/recruiting"),
    field("sessions.places", false, "/sessions/0/places"),
    field("sessions.vacancies", false, "/sessions/0/vacancies"),
    field("hours_centre", false, "/hours_centre"),
    field("hours_company", false, "/hours_company"),
];

fn flag(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "oui" => Ok(true),
        "false" | "0" | "no" | "non" => Ok(false),
        other => Err(format!(
            "{other:?} is not a yes/no value (add a `code_list`)"
        )),
    }
}

/// Parses every value of a list field.
fn each<T>(
    v: &Values<'_>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, FieldError> {
    v.all(field)
        .iter()
        .map(|x| parse(x).map_err(|e| FieldError::new(field, e)))
        .collect()
}

/// A field's values parsed, one per element with the element's group:
/// from its slots when it is read `each` element, else its values, in
/// group 0.
fn column<T>(
    v: &Values<'_>,
    field: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<(usize, Option<T>)>, FieldError> {
    let parse = |x: &str| parse(x).map_err(|e| FieldError::new(field, e));
    match v.slots(field) {
        Some(slots) => slots
            .iter()
            .map(|(g, x)| Ok((*g, x.as_deref().map(parse).transpose()?)))
            .collect(),
        None => v
            .all(field)
            .iter()
            .map(|x| Ok((0, Some(parse(x)?))))
            .collect(),
    }
}

/// The value of element `i` of a column, if any.
fn at<T: Clone>(column: &[(usize, Option<T>)], i: usize) -> Option<T> {
    column.get(i).and_then(|(_, v)| v.clone())
}

fn text(v: &str) -> Result<String, String> {
    Ok(v.to_owned())
}

/// A code of digits only, of `min` to `max` of them.
fn digits(kind: &'static str, min: usize, max: usize) -> impl Fn(&str) -> Result<String, String> {
    move |v: &str| {
        let t = v.trim();
        if (min..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()) {
            Ok(t.to_owned())
        } else {
            Err(format!(
                "{t:?} is not a {kind} code ({min} to {max} digits)"
            ))
        }
    }
}

/// The sessions of a programme, each with its place.
fn sessions(v: &Values<'_>) -> Result<Vec<Session>, FieldError> {
    let starts = column(v, "sessions.start", date)?;
    let n = starts.len();
    // Session fields line up, one value or none per session.
    let aligned = |field: &str, len: usize| -> Result<(), FieldError> {
        if len == n || len == 0 {
            Ok(())
        } else {
            Err(FieldError::new(
                field,
                format!("has {len} values for {n} sessions"),
            ))
        }
    };
    let ends = column(v, "sessions.end", date)?;
    aligned("sessions.end", ends.len())?;
    let recruiting = column(v, "sessions.recruiting", flag)?;
    aligned("sessions.recruiting", recruiting.len())?;
    let places = column(v, "sessions.places", number::<u32>)?;
    aligned("sessions.places", places.len())?;
    let vacancies = column(v, "sessions.vacancies", number::<u32>)?;
    aligned("sessions.vacancies", vacancies.len())?;
    let sessions: Vec<Session> = starts
        .iter()
        .enumerate()
        .map(|(i, (place, start))| Session {
            place: *place,
            start: *start,
            end: at(&ends, i),
            recruiting: at(&recruiting, i),
            places: at(&places, i).unwrap_or(0),
            vacancies: at(&vacancies, i).unwrap_or(0),
        })
        .collect();
    if let Some(s) = sessions.iter().find(|s| s.vacancies > s.places) {
        return Err(FieldError::new(
            "sessions.vacancies",
            format!(
                "{} free places of {} is more than there are",
                s.vacancies, s.places
            ),
        ));
    }
    if let Some(s) = sessions
        .iter()
        .find(|s| matches!((s.start, s.end), (Some(a), Some(b)) if b < a))
    {
        return Err(FieldError::new(
            "sessions.end",
            format!(
                "{} is before the start, {}",
                s.end.expect("an end"),
                s.start.expect("a start")
            ),
        ));
    }
    Ok(sessions)
}

/// The places of a programme, from the `places.*` fields, with the
/// capacity and free places of the sessions held there. A mapping without
/// `places.*` fields gives one place, in `commune`, when it has sessions or
/// a commune.
fn places(
    v: &mut Values<'_>,
    sessions: &[Session],
    commune: Option<&InseeCommune>,
) -> Result<Vec<Place>, FieldError> {
    let ids = column(v, "places.id", text)?;
    let addresses = column(v, "places.address", text)?;
    let postcodes = column(v, "places.postcode", |p| {
        Postcode::parse(p).map_err(|e| e.to_string())
    })?;
    let cities = column(v, "places.city", text)?;
    // A commune wherever it is (a catalogue holds places across the
    // region's border), by its current code (a former commune's code
    // names the commune it merged into).
    let communes = column(v, "places.commune", |c| {
        CommuneCode::parse(c).map_err(|e| e.to_string())
    })?;
    let uais = column(v, "places.uai", |u| {
        Uai::parse(u).map_err(|e| e.to_string())
    })?;
    let m = [
        ids.len(),
        addresses.len(),
        postcodes.len(),
        cities.len(),
        communes.len(),
        uais.len(),
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    // A code that names a commune of another département than its
    // postcode's is no code of that place (a postcode written as the code,
    // `75019`, names a former commune of the Seine, now 92019): the commune
    // is left unknown, and said so.
    let mut communes = communes;
    for (i, (_, code)) in communes.iter_mut().enumerate() {
        let postcode = at(&postcodes, i);
        if let (Some(c), Some(pc)) = (code.as_ref(), postcode) {
            if c.departement() != pc.departement() {
                v.notes.push(FieldError::new(
                    "places.commune",
                    format!(
                        "{c} is in département {}, its postcode {pc} in {}: left out, the record kept",
                        c.departement(),
                        pc.departement()
                    ),
                ));
                *code = None;
            }
        }
    }
    let mut places: Vec<Place> = (0..m)
        .map(|i| Place {
            partner_id: at(&ids, i),
            address: at(&addresses, i),
            postcode: at(&postcodes, i),
            city: at(&cities, i),
            commune: at(&communes, i)
                .filter(CommuneCode::is_normandy)
                .and_then(|c| InseeCommune::parse(c.as_str()).ok()),
            commune_code: at(&communes, i),
            uai: at(&uais, i),
            capacity: 0,
            vacancies: 0,
        })
        .collect();
    if places.is_empty() && (!sessions.is_empty() || commune.is_some()) {
        places.push(Place {
            partner_id: None,
            address: None,
            postcode: None,
            city: None,
            commune: commune.cloned(),
            commune_code: commune.and_then(|c| CommuneCode::parse(c.as_str()).ok()),
            uai: None,
            capacity: 0,
            vacancies: 0,
        });
    }
    for s in sessions {
        let place = places.get_mut(s.place).ok_or_else(|| {
            FieldError::new(
                "sessions.start",
                format!("a session belongs to place {}, of {m}", s.place + 1),
            )
        })?;
        place.capacity = place.capacity.checked_add(s.places).ok_or_else(too_many)?;
        // No more than the places, which did not overflow.
        place.vacancies += s.vacancies;
    }
    places
        .iter()
        .try_fold(0u32, |all, p| all.checked_add(p.capacity))
        .ok_or_else(too_many)?;
    Ok(places)
}

fn too_many() -> FieldError {
    FieldError::new(
        "sessions.places",
        format!("add up to more than {} places", u32::MAX),
    )
}

/// Who answers about a programme, when the record names anyone.
fn contact(v: &mut Values<'_>) -> Option<Contact> {
    let mut take = |f: &str| v.take(f).map(Cow::into_owned);
    let c = Contact {
        name: take("contact.name"),
        phone: take("contact.phone"),
        email: take("contact.email"),
        web: take("contact.web"),
    };
    (c != Contact::default()).then_some(c)
}

impl Entity for Formation {
    const KIND: EntityKind = EntityKind::Formation;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let sessions = sessions(v)?;
        let commune = v.parse("commune", InseeCommune::parse)?;
        let places = places(v, &sessions, commune.as_ref())?;
        let rncp_codes = each(v, "rncp", |r| Rncp::parse(r).map_err(|e| e.to_string()))?;
        Ok(Formation {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            title: v.take_required("title")?.into_owned(),
            objective: v.take("objective").map(Cow::into_owned),
            contents: v.take("contents").map(Cow::into_owned),
            rncp: rncp_codes.first().cloned(),
            rncp_codes,
            certifinfo_codes: each(v, "certifinfo", digits("Certif Info", 1, 10))?,
            formacodes: each(v, "formacodes", digits("FORMACODE", 5, 5))?,
            level: v.parse("level", DiplomaLevel::parse)?,
            rome_codes: each(v, "rome_codes", |c| {
                RomeCode::parse(c).map_err(|e| e.to_string())
            })?,
            contact: contact(v),
            cfa: TrainingOrg {
                // The organism's identifiers failing their check are the
                // organism's, not the programme's: left out, and noted.
                uai: v.parse_or_note("cfa.uai", Uai::parse),
                siret: v.parse_or_note("cfa.siret", Siret::parse),
                name: v.take("cfa.name").map(Cow::into_owned),
            },
            commune: commune.or_else(|| places.iter().find_map(|p| p.commune.clone())),
            capacity: places.iter().map(|p| p.capacity).sum(),
            vacancies: places.iter().map(|p| p.vacancies).sum(),
            places,
            sessions,
            hours_centre: v.parse("hours_centre", number::<u32>)?,
            hours_company: v.parse("hours_company", number::<u32>)?,
        })
    }
}

const MOBILITY_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("program", true, "/program"),
    field("cfa", true, "/cfa"),
    field("grant_agreement", false, "/grant_agreement"),
    field("country", true, "/country"),
    field("city", false, "/city"),
    field("start", true, "/start"),
    field("end", false, "/end"),
    field("duration_days", false, "/duration_days"),
    field("amount", false, "/amount"),
    field("participants", false, "/participants"),
];

impl Entity for Mobility {
    const KIND: EntityKind = EntityKind::Mobility;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let country = v.required("country")?.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(FieldError::new(
                "country",
                format!("{country:?} is not an ISO 3166 country code (add a `code_list`)"),
            ));
        }
        let start = v.parse_required("start", date)?;
        let end = v.parse("end", date)?;
        if end.is_some_and(|e| e < start) {
            return Err(FieldError::new("end", "is before the start"));
        }
        let duration_days = match v.parse("duration_days", number::<u32>)? {
            Some(d) => d,
            None => end
                .map(|e| (e - start).num_days() as u32 + 1)
                .ok_or_else(|| FieldError::new("duration_days", "is missing, and so is the end"))?,
        };
        let amount = v.parse("amount", |a| {
            a.trim()
                .parse::<i64>()
                .map(Cents)
                .map_err(|_| format!("{a:?} is not cents (add a `euros` transform)"))
        })?;
        if amount.is_some_and(|a| a.0 < 0) {
            return Err(FieldError::new("amount", "is negative"));
        }
        Ok(Mobility {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            program: v.parse_required("program", MobilityProgram::parse)?,
            cfa: v.parse_required("cfa", Uai::parse)?,
            grant_agreement: v.take("grant_agreement").map(Cow::into_owned),
            country,
            city: v.take("city").map(Cow::into_owned),
            start,
            end,
            duration_days,
            amount,
            participants: v.parse("participants", number::<u32>)?.unwrap_or(1),
        })
    }
}

const EVENT_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("site", true, "/site"),
    field("title", true, "/title"),
    field("description", false, "/description"),
    field("kind", true, "/kind"),
    field("kind_label", false, "/kind_label"),
    field("start", true, "/start"),
    field("start_tzid", false, "/start/tz"),
    field("end", false, "/end"),
    field("end_tzid", false, "/end/tz"),
    field("duration", false, "/duration"),
    field("status", false, "/status"),
    field("rrule", false, "/rrule"),
    field("rdate", false, "/rdates"),
    field("exdate", false, "/exdates"),
    field("recurrence_id", false, "/recurrence_id"),
    field("recurrence_id_tzid", false, "/recurrence_id/tz"),
    field("recurrence_range", false, "/this_and_future"),
    field("sequence", false, "/sequence"),
    field("location", false, "/location"),
    field("url", false, "/url"),
];

impl Entity for Event {
    const KIND: EntityKind = EntityKind::Event;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        let start_tzid = v.one("start_tzid");
        let start = EventTime::parse_ical(v.required("start")?, start_tzid)
            .map_err(|e| FieldError::new("start", e))?;
        // An end in no zone beside a start in one is in the start's, as
        // calendar clients read it.
        let end = v
            .one("end")
            .map(|e| {
                EventTime::parse_ical(e, v.one("end_tzid").or(start_tzid))
                    .map_err(|e| FieldError::new("end", e))
            })
            .transpose()?;
        if end.is_some_and(|e| e.instant() < start.instant()) {
            return Err(FieldError::new("end", "is before the start"));
        }
        // An end and a duration may not both be given: the end is read.
        let duration = match end {
            Some(_) => None,
            None => v.parse("duration", EventDuration::parse_ical)?,
        };
        let end = Some(match (end, duration) {
            (Some(end), _) => end,
            (None, Some(d)) => d.after(start),
            (None, None) => start.default_end(),
        });
        // Dates of a list are in UTC or a date once read (see
        // `record::ical_records`); in no zone, they are in the start's. A
        // period is its start and its end, or its start and its length.
        let mut periods = Vec::new();
        let mut dates = |v: &Values<'_>, field: &'static str| {
            v.all(field)
                .iter()
                .map(|d| {
                    let time = |at| {
                        EventTime::parse_ical(at, start_tzid).map_err(|e| FieldError::new(field, e))
                    };
                    let Some((at, until)) = d.split_once('/') else {
                        return time(d);
                    };
                    let at = time(at)?;
                    let end = match EventDuration::parse_ical(until) {
                        Ok(length) => length.after(at),
                        Err(_) => time(until)?,
                    };
                    if end.instant() < at.instant() {
                        return Err(FieldError::new(
                            field,
                            format!("{d:?} ends before it starts"),
                        ));
                    }
                    periods.push(EventPeriod {
                        start: at.instant(),
                        end: end.instant(),
                    });
                    Ok(at)
                })
                .collect::<Result<Vec<_>, _>>()
        };
        let rdates = dates(v, "rdate")?;
        let exdates = dates(v, "exdate")?;
        periods.retain(|p| rdates.iter().any(|r| r.instant() == p.start));
        let recurrence_id = v
            .one("recurrence_id")
            .map(|r| {
                EventTime::parse_ical(r, v.one("recurrence_id_tzid").or(start_tzid))
                    .map_err(|e| FieldError::new("recurrence_id", e))
            })
            .transpose()?;
        // Several rules (RFC 2445 allowed them, Zimbra writes them) are
        // kept one a line.
        let rrule = Some(v.all("rrule").join("\n")).filter(|r| !r.is_empty());
        // Checked against the event's own start, as its occurrences will be
        // expanded.
        if let Some(rule) = &rrule {
            if passerelle_schema::event::rule_set(start, rule).is_none() {
                return Err(FieldError::new(
                    "rrule",
                    format!("{rule:?} is not a recurrence rule"),
                ));
            }
        }
        Ok(Event {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            site: v.take_required("site")?.into_owned(),
            title: v.take_required("title")?.into_owned(),
            description: v.take("description").map(Cow::into_owned),
            kind: v.parse_required("kind", EventKind::parse)?,
            kind_label: v.take("kind_label").map(Cow::into_owned),
            start,
            end,
            duration,
            status: v.parse("status", EventStatus::parse)?.unwrap_or_default(),
            rrule,
            rdates,
            periods,
            exdates,
            this_and_future: v
                .one("recurrence_range")
                .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE")),
            recurrence_id,
            sequence: v.parse("sequence", number::<u32>)?.unwrap_or(0),
            overrides: Vec::new(),
            location: v.take("location").map(Cow::into_owned),
            url: v.take("url").map(Cow::into_owned),
            read_rule: Default::default(),
        })
    }
}

const SITE_FIELDS: &[FieldDef] = &[
    field("partner_id", true, "/partner_id"),
    field("name", true, "/name"),
    field("kind", true, "/kind"),
    field("address", false, "/address"),
    field("commune", true, "/commune"),
    field("uai", false, "/uai"),
    field("calendar_url", false, "/calendar_url"),
];

impl Entity for OrientationSite {
    const KIND: EntityKind = EntityKind::Site;

    fn partner_id(&self) -> &str {
        &self.partner_id
    }

    fn build(partner: Partner, v: &mut Values<'_>) -> Result<Self, FieldError> {
        Ok(OrientationSite {
            partner,
            partner_id: v.take_required("partner_id")?.into_owned(),
            name: v.take_required("name")?.into_owned(),
            kind: v.parse_required("kind", SiteKind::parse)?,
            address: v.take("address").map(Cow::into_owned),
            commune: v.parse_required("commune", InseeCommune::parse)?,
            uai: v.parse("uai", Uai::parse)?,
            calendar_url: v.take("calendar_url").map(Cow::into_owned),
        })
    }
}
