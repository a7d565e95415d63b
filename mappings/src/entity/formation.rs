//! Programmes of the training catalogue: the fields a mapping fills, and
//! the [`Formation`] built from them, with its sessions, its places (and
//! what each holds) and its contact.

use std::borrow::Cow;

use passerelle_schema::{
    CommuneCode, Contact, DiplomaLevel, Formation, InseeCommune, Partner, Place, Postcode, Rncp,
    RomeCode, Session, Siret, TrainingOrg, Uai,
};

use super::kind::field;
use super::parse::{at, column, date, digits, each, flag, number, text};
use super::{Entity, EntityKind, FieldDef, Values};
use crate::error::FieldError;

/// The fields a mapping of a programme may fill, with where each sits in
/// its JSON form.
pub(super) const FORMATION_FIELDS: &[FieldDef] = &[
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
