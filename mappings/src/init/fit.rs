//! How well a path's values fit a unified field: what each field holds
//! (a SIRET, a ROME code, a date…), what partners call it, and a score.

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use passerelle_schema::{InseeCommune, RomeCode, Siret, Uai};

/// What a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Id,
    Siret,
    Uai,
    Rome,
    Commune,
    Postcode,
    Date,
    DateTime,
    Level,
    Title,
    LongText,
    Name,
    Url,
    Email,
    Phone,
    Latitude,
    Longitude,
    Count,
    Country,
    Text,
}

/// What a field holds, by its name.
pub(super) fn kind_of(field: &str) -> Kind {
    let last = field.rsplit('.').next().unwrap_or(field);
    match last {
        "partner_id" => Kind::Id,
        "siret" => Kind::Siret,
        // A mobility's `cfa` is its CFA's UAI.
        "uai" | "cfa" => Kind::Uai,
        "rome_codes" => Kind::Rome,
        "commune" => Kind::Commune,
        "postcode" => Kind::Postcode,
        "start_date" | "start" | "end" | "end_date" => Kind::Date,
        "published_at" | "expires_at" | "updated_at" => Kind::DateTime,
        "level" => Kind::Level,
        "title" => Kind::Title,
        "description" | "objective" | "contents" => Kind::LongText,
        "name" | "city" | "address" => Kind::Name,
        "url" | "web" => Kind::Url,
        "email" => Kind::Email,
        "phone" => Kind::Phone,
        "latitude" => Kind::Latitude,
        "longitude" => Kind::Longitude,
        "duration_months" | "duration_days" | "openings" | "places" | "capacity" | "vacancies"
        | "participants" | "amount" => Kind::Count,
        "country" => Kind::Country,
        _ => Kind::Text,
    }
}

/// The date formats tried, most common first.
pub(super) const DATE_FORMATS: [&str; 4] = ["%Y-%m-%d", "%d/%m/%Y", "%Y%m%d", "%d-%m-%Y"];
/// The date-time formats tried besides RFC 3339.
pub(super) const DATETIME_FORMATS: [&str; 3] =
    ["%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"];

/// The first of `formats` that reads `v` as a date.
pub(super) fn date_format(v: &str) -> Option<&'static str> {
    DATE_FORMATS
        .into_iter()
        .find(|f| NaiveDate::parse_from_str(v.trim(), f).is_ok())
}

/// How `v` reads as a date-time: `rfc3339`, one of the formats, or a date.
pub(super) fn datetime_format(v: &str) -> Option<&'static str> {
    let v = v.trim();
    if DateTime::parse_from_rfc3339(v).is_ok() {
        return Some("rfc3339");
    }
    DATETIME_FORMATS
        .into_iter()
        .find(|f| NaiveDateTime::parse_from_str(v, f).is_ok())
        .or_else(|| date_format(v))
}

/// Whether `v` fits a field of kind `kind`.
pub(super) fn fits(kind: Kind, v: &str) -> bool {
    let t = v.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let number = || t.replace(',', ".").parse::<f64>().ok();
    match kind {
        Kind::Id => !t.is_empty() && t.len() <= 80,
        Kind::Siret => digits.len() == 14 && Siret::parse(&digits).is_ok(),
        Kind::Uai => Uai::parse(t).is_ok(),
        Kind::Rome => RomeCode::parse(&t.to_ascii_uppercase()).is_ok(),
        Kind::Commune => InseeCommune::parse(t).is_ok(),
        Kind::Postcode => t.len() == 5 && digits.len() == 5,
        Kind::Date => date_format(t).is_some(),
        Kind::DateTime => datetime_format(t).is_some(),
        Kind::Level => t.parse::<u8>().is_ok_and(|l| (3..=8).contains(&l)),
        Kind::Title => {
            let n = t.chars().count();
            (4..=160).contains(&n) && t.chars().any(char::is_alphabetic)
        }
        Kind::LongText => t.chars().count() > 40 && t.contains(' '),
        Kind::Name => t.chars().any(char::is_alphabetic) && t.chars().count() <= 160,
        Kind::Url => t.starts_with("http://") || t.starts_with("https://"),
        Kind::Email => t.contains('@') && t.contains('.') && !t.contains(' '),
        Kind::Phone => {
            (10..=13).contains(&digits.len())
                && t.chars()
                    .all(|c| c.is_ascii_digit() || " +.-()".contains(c))
        }
        Kind::Latitude => number().is_some_and(|x| (41.0..=51.5).contains(&x)),
        Kind::Longitude => number().is_some_and(|x| (-5.5..=10.0).contains(&x)),
        Kind::Count => digits.len() == t.len() && !t.is_empty() && t.len() <= 7,
        Kind::Country => t.len() == 2 && t.chars().all(|c| c.is_ascii_alphabetic()),
        Kind::Text => !t.is_empty(),
    }
}

/// What partners call a field, besides its own name's words: French and
/// English, folded.
fn synonyms(field: &str) -> &'static [&'static str] {
    let last = field.rsplit('.').next().unwrap_or(field);
    match last {
        "partner_id" => &["id", "ref", "reference", "numero", "identifiant", "code"],
        "title" => &["titre", "intitule", "libelle", "title"],
        "description" => &[
            "descriptif",
            "description",
            "missions",
            "presentation",
            "texte",
        ],
        "objective" => &["objectif", "objectifs"],
        "contents" => &["contenu", "programme"],
        "rome_codes" => &["rome", "codes_rome", "code_rome", "metier"],
        "level" => &["niveau", "niveau_vise", "europeen"],
        "siret" => &["siret"],
        "uai" => &["uai", "rne"],
        "name" => &["nom", "raison_sociale", "enseigne", "name", "libelle"],
        "commune" => &["insee", "code_insee", "commune", "cog"],
        "postcode" => &["cp", "code_postal", "postcode", "zip"],
        "address" => &["adresse", "address", "rue"],
        "latitude" => &["lat", "latitude"],
        "longitude" => &["lon", "lng", "longitude"],
        "start_date" | "start" => &["debut", "date_debut", "start", "depart", "date_depart"],
        "end" | "end_date" => &["fin", "date_fin", "end"],
        "published_at" => &[
            "publication",
            "publie",
            "creation",
            "date_publication",
            "cree",
        ],
        "expires_at" => &["expiration", "expire", "fin_publication"],
        "duration_months" => &["duree", "duree_mois"],
        "openings" => &["postes", "nombre_postes", "places"],
        "rhythm" => &["rythme"],
        "url" | "web" => &["url", "lien", "site"],
        "email" => &["email", "courriel", "mail"],
        "phone" => &["telephone", "tel", "phone"],
        "country" => &["pays", "country", "pays_destination"],
        "city" => &["ville", "city", "ville_destination"],
        "amount" => &["montant", "amount"],
        "size" => &["effectif", "tranche_effectif", "taille"],
        "naf" => &["naf", "code_naf", "ape"],
        "opco" => &["opco"],
        "status" => &["statut", "status", "etat"],
        _ => &[],
    }
}

/// How much a path's name says it is `field`: 1 for a synonym of its last
/// word, 0.5 for one of an earlier word (`employeur/siret` for
/// `employer.siret`: the owner's words are the partner's), 0 otherwise.
fn named(field: &str, path: &str) -> f64 {
    let fold = |s: &str| {
        s.trim_start_matches('@')
            .to_ascii_lowercase()
            .replace('-', "_")
    };
    let words: Vec<String> = path.split('/').map(fold).collect();
    let last = field.rsplit('.').next().unwrap_or(field);
    let known = |w: &str| w == last || synonyms(field).contains(&w);
    // A word made of words (`intitule_formation`, `date-debut`) one of
    // which names it.
    let part = |w: &str| w.split('_').any(known);
    match words.last() {
        Some(w) if known(w) => 1.0,
        Some(w) if part(w) => 0.75,
        _ if words.iter().any(|w| known(w)) => 0.5,
        _ => 0.0,
    }
}

/// The owner a field belongs to (`employer` of `employer.siret`), and the
/// words partners use for it.
fn owner_words(field: &str) -> &'static [&'static str] {
    match field.split_once('.').map(|(o, _)| o) {
        Some("employer") => &[
            "employeur",
            "entreprise",
            "employer",
            "etablissement",
            "company",
        ],
        Some("cfa") => &["organisme", "cfa", "etablissement", "centre"],
        Some("location") => &["lieu", "adresse", "location", "localisation", "geo"],
        Some("contact") => &["contact", "coordonnees"],
        _ => &[],
    }
}

/// How well the values of `path` (each record's texts) fit `field`:
/// the share of records whose texts fit, plus what the path's name says;
/// `None` below half of the records, or for a generic field that the
/// path's name does not name.
pub(super) fn score(field: &str, path: &str, values: &[Vec<String>]) -> Option<f64> {
    let kind = kind_of(field);
    let with: Vec<&Vec<String>> = values.iter().filter(|t| !t.is_empty()).collect();
    if with.is_empty() {
        return None;
    }
    let fitting = with
        .iter()
        .filter(|t| t.iter().all(|v| fits(kind, v)))
        .count();
    let share = fitting as f64 / values.len() as f64;
    if share < 0.5 {
        return None;
    }
    let mut name = named(field, path);
    let owner = owner_words(field);
    let lower = path.to_ascii_lowercase();
    if !owner.is_empty() && owner.iter().any(|o| lower.contains(o)) {
        name += 0.5;
    }
    // A field any text fits is chosen by its name alone.
    let generic = matches!(
        kind,
        Kind::Text | Kind::Name | Kind::Title | Kind::Count | Kind::Id | Kind::LongText
    );
    if generic && name == 0.0 {
        return None;
    }
    if kind == Kind::Id {
        // An identifier differs from record to record.
        let distinct: std::collections::BTreeSet<&String> =
            with.iter().flat_map(|t| t.iter()).collect();
        if distinct.len() < with.len() {
            return None;
        }
    }
    Some(share + name)
}
