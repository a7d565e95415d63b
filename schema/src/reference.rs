//! Reference data compiled into the binary: Normandy communes and where they
//! lie, départements, ROME occupations, OPCOs and town coordinates.
//!
//! The files live in `mappings/reference/` with their provenance; they are
//! parsed once, on first use.

use std::collections::HashMap;
use std::sync::LazyLock;

const COMMUNES_CSV: &str = include_str!("../../mappings/reference/communes-normandie.csv");
const CITIES_CSV: &str = include_str!("../../mappings/reference/cities-coordinates.csv");
const POSITIONS_CSV: &str = include_str!("../../mappings/reference/communes-coordinates.csv");
const DEPARTEMENTS_CSV: &str = include_str!("../../mappings/reference/departements.csv");
const ROME_CSV: &str = include_str!("../../mappings/reference/rome.csv");
const APPELLATIONS_CSV: &str = include_str!("../../mappings/reference/rome-appellations.csv");
const ROME_PARENTS_CSV: &str = include_str!("../../mappings/reference/rome-parents.csv");
const COMMON_ROME_CSV: &str = include_str!("../../mappings/reference/rome-subset.csv");
const OPCO_CSV: &str = include_str!("../../mappings/reference/opco.csv");
const FRANCE_CSV: &str = include_str!("../../mappings/reference/communes-france.csv");

/// A commune of Région Normandie, as INSEE's official geographic code lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Commune {
    /// The INSEE code (`14118` for Caen).
    pub code: String,
    /// The commune's name.
    pub name: String,
    /// The département code (`14`).
    pub departement: String,
    /// The postcodes that serve the commune.
    pub postcodes: Vec<String>,
    /// The legal population.
    pub population: u32,
    /// Approximate coordinates, known for the main towns only (the
    /// simulators place CFAs and sites there).
    pub coordinates: Option<(f64, f64)>,
    /// Where the commune lies, for distances: its GeoNames position, or
    /// that of the communes sharing its postcode; unknown for the smallest
    /// communes (see `mappings/reference/README.md`).
    pub position: Option<crate::GeoPoint>,
    /// The commune's own SIREN, as an employer.
    pub siren: String,
}

struct Communes {
    all: Vec<Commune>,
    by_code: HashMap<String, usize>,
    by_postcode: HashMap<String, Vec<usize>>,
}

static COMMUNES: LazyLock<Communes> = LazyLock::new(|| {
    let coordinates: HashMap<String, (f64, f64)> = rows(CITIES_CSV)
        .filter_map(|r| {
            Some((
                r.first()?.clone(),
                (r.get(3)?.parse().ok()?, r.get(4)?.parse().ok()?),
            ))
        })
        .collect();
    let positions: HashMap<String, crate::GeoPoint> = rows(POSITIONS_CSV)
        .filter_map(|r| {
            let point = crate::GeoPoint::new(r.get(1)?.parse().ok()?, r.get(2)?.parse().ok()?)?;
            Some((r.first()?.clone(), point))
        })
        .collect();
    let all: Vec<Commune> = rows(COMMUNES_CSV)
        .filter_map(|r| {
            Some(Commune {
                coordinates: coordinates.get(r.first()?).copied(),
                position: positions.get(r.first()?).copied(),
                code: r.first()?.clone(),
                name: r.get(1)?.clone(),
                departement: r.get(2)?.clone(),
                postcodes: r.get(3)?.split_whitespace().map(str::to_owned).collect(),
                population: r.get(4)?.parse().unwrap_or(0),
                siren: r.get(5).cloned().unwrap_or_default(),
            })
        })
        .collect();
    let by_code = all
        .iter()
        .enumerate()
        .map(|(i, c)| (c.code.clone(), i))
        .collect();
    let mut by_postcode: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, c) in all.iter().enumerate() {
        for p in &c.postcodes {
            by_postcode.entry(p.clone()).or_default().push(i);
        }
    }
    Communes {
        all,
        by_code,
        by_postcode,
    }
});

static DEPARTEMENTS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    rows(DEPARTEMENTS_CSV)
        .filter_map(|r| Some((r.first()?.clone(), r.get(1)?.clone())))
        .collect()
});

static ROME: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    static_rows(ROME_CSV)
        .filter_map(|r| Some((*r.first()?, *r.get(1)?)))
        .collect()
});

/// The occupations the simulators publish offers for, with the labels
/// they title them with.
static COMMON_ROME: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    // Labels may hold unquoted commas: split on the first comma only.
    COMMON_ROME_CSV
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .map(|(c, l)| (c.to_owned(), l.trim().to_owned()))
        .collect()
});

/// Each code's occupation (fiche métier), by code: ROME 4.0 lists finer
/// codes (emplois) under 532 of them.
static ROME_PARENTS: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
    static_rows(ROME_PARENTS_CSV)
        .filter_map(|r| Some((*r.first()?, *r.get(1)?)))
        .collect()
});

/// A job title of the ROME referential (an appellation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RomeAppellation {
    /// The ROME code it is listed under (`D1102`).
    pub rome: &'static str,
    /// Its own code (`11573`).
    pub code: &'static str,
    /// The title, masculine and feminine (`Boulanger / Boulangère`).
    pub label: &'static str,
    /// The title shortened for a narrow screen, as the referential gives
    /// it (often the same).
    pub short_label: &'static str,
}

/// Ordered by ROME code, then label.
static APPELLATIONS: LazyLock<Vec<RomeAppellation>> = LazyLock::new(|| {
    let mut all: Vec<RomeAppellation> = static_rows(APPELLATIONS_CSV)
        .filter_map(|r| {
            Some(RomeAppellation {
                rome: r.first()?,
                code: r.get(1)?,
                label: r.get(2)?,
                short_label: r.get(3).or(r.get(2))?,
            })
        })
        .collect();
    all.sort_by(|a, b| (a.rome, a.label).cmp(&(b.rome, b.label)));
    all
});

/// The rows of a CSV file compiled into the binary, past its header, each
/// field a slice of the file: the reference's large files take no memory
/// but their index. A quoted field is its text between the quotes; one
/// holding a doubled quote is unescaped once, for the process's life.
fn static_rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines().skip(1).filter(|l| !l.is_empty()).map(|line| {
        let mut fields = Vec::new();
        let mut rest = line;
        loop {
            let (field, after) = match rest.strip_prefix('"') {
                Some(quoted) => {
                    // The closing quote is the first one not doubled.
                    let bytes = quoted.as_bytes();
                    let mut end = 0;
                    while end < bytes.len() {
                        if bytes[end] == b'"' {
                            if bytes.get(end + 1) == Some(&b'"') {
                                end += 2;
                                continue;
                            }
                            break;
                        }
                        end += 1;
                    }
                    let inner = &quoted[..end.min(quoted.len())];
                    let field: &'static str = match inner.contains("\"\"") {
                        true => Box::leak(inner.replace("\"\"", "\"").into_boxed_str()),
                        false => inner,
                    };
                    (field, quoted.get(end + 1..).unwrap_or(""))
                }
                None => match rest.find(',') {
                    Some(i) => (&rest[..i], &rest[i..]),
                    None => (rest, ""),
                },
            };
            fields.push(field);
            match after.strip_prefix(',') {
                Some(next) => rest = next,
                None => break,
            }
        }
        fields
    })
}

static OPCOS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    rows(OPCO_CSV)
        .filter_map(|r| Some((r.first()?.clone(), r.get(1)?.clone())))
        .collect()
});

fn rows(text: &'static str) -> impl Iterator<Item = Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes())
        .into_records()
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect::<Vec<_>>()
        .into_iter()
}

/// An INSEE commune code, as five ASCII bytes.
type Code = [u8; 5];

/// Every code of the Code officiel géographique that names a commune of
/// France (current communes, arrondissements municipaux, and former
/// communes: délégués, associés, merged), sorted, each with the current
/// commune it belongs to (itself when it is current).
static FRANCE: LazyLock<Vec<(Code, Code)>> = LazyLock::new(|| {
    let code = |s: &str| -> Option<Code> { s.as_bytes().try_into().ok() };
    let mut all: Vec<(Code, Code)> = FRANCE_CSV
        .lines()
        .skip(1)
        .filter_map(|l| {
            let (c, current) = l.split_once(',')?;
            let c = code(c)?;
            Some((
                c,
                if current.is_empty() {
                    c
                } else {
                    code(current)?
                },
            ))
        })
        .collect();
    all.sort_unstable();
    all
});

/// The current commune that an INSEE code names: itself when it is a
/// current commune (or an arrondissement municipal), the commune it merged
/// into when it is a former one; `None` for a code the Code officiel
/// géographique does not know.
pub fn current_commune(code: &str) -> Option<&'static str> {
    let wanted: Code = code.as_bytes().try_into().ok()?;
    let france = &*FRANCE;
    let i = france.binary_search_by(|(c, _)| c.cmp(&wanted)).ok()?;
    std::str::from_utf8(&france[i].1).ok()
}

/// Every commune of Normandy.
pub fn communes() -> &'static [Commune] {
    &COMMUNES.all
}

/// The commune with this INSEE code.
pub fn commune(code: &str) -> Option<&'static Commune> {
    COMMUNES.by_code.get(code).map(|&i| &COMMUNES.all[i])
}

/// The communes served by a postcode.
pub fn communes_by_postcode(postcode: &str) -> impl Iterator<Item = &'static Commune> {
    COMMUNES
        .by_postcode
        .get(postcode)
        .into_iter()
        .flatten()
        .map(|&i| &COMMUNES.all[i])
}

/// Finds a commune by its name, helped by a postcode when one is given.
///
/// Names are compared without case, accents, hyphens or apostrophes, and
/// `Saint`/`St` are treated alike, so `ST LO` finds Saint-Lô.
pub fn find_commune(name: &str, postcode: Option<&str>) -> Option<&'static Commune> {
    let wanted = fold_name(strip_cedex(name));
    let matches = |c: &&Commune| fold_name(&c.name) == wanted;
    match postcode.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) => communes_by_postcode(p).find(matches),
        None => {
            let mut it = COMMUNES.all.iter().filter(matches);
            match (it.next(), it.next()) {
                (Some(c), None) => Some(c),
                _ => None,
            }
        }
    }
}

/// Drops a `CEDEX` suffix (`CAEN CEDEX 4`) from a postal town name.
fn strip_cedex(name: &str) -> &str {
    let upper = name.to_ascii_uppercase();
    match upper.find(" CEDEX") {
        Some(i) => &name[..i],
        None => name,
    }
}

/// Folds a commune name for comparison: lower case, no accents, words only.
pub fn fold_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        let start = out.len();
        out.extend(word.chars().map(fold_char));
        let long = match &out[start..] {
            "st" => "saint",
            "ste" => "sainte",
            _ => continue,
        };
        out.truncate(start);
        out.push_str(long);
    }
    out
}

fn fold_char(c: char) -> char {
    match c.to_lowercase().next().unwrap_or(c) {
        'à' | 'â' | 'ä' | 'á' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ö' | 'ó' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ç' => 'c',
        'ÿ' => 'y',
        'œ' => 'o',
        'æ' => 'a',
        other => other,
    }
}

/// The five départements of Normandy, code and name.
pub fn departements() -> &'static [(String, String)] {
    &DEPARTEMENTS
}

/// The name of a Normandy département.
pub fn departement_name(code: &str) -> Option<&'static str> {
    DEPARTEMENTS
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, n)| n.as_str())
}

/// Every ROME code of the referential, with its label, by code.
pub fn rome_codes() -> &'static [(&'static str, &'static str)] {
    &ROME
}

/// The label of a ROME code in the referential.
pub fn rome_label(code: &str) -> Option<&'static str> {
    ROME.binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| ROME[i].1)
}

/// The occupation (fiche métier) a ROME code belongs to: the code itself
/// for one of the 532 occupations, the broader one for a finer code of
/// ROME 4.0 (`D1108` → `D1102`).
pub fn rome_parent(code: &str) -> Option<&'static str> {
    ROME_PARENTS
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| ROME_PARENTS[i].1)
}

/// The finer codes of ROME 4.0 filed under an occupation (fiche métier),
/// the occupation itself aside.
pub fn rome_finer(code: &str) -> impl Iterator<Item = &'static str> + '_ {
    ROME_PARENTS
        .iter()
        .filter(move |(c, parent)| *parent == code && *c != code)
        .map(|(c, _)| *c)
}

/// Every job title of the referential, by ROME code, then label.
pub fn rome_appellations() -> &'static [RomeAppellation] {
    &APPELLATIONS
}

/// The job titles listed under a ROME code, by label.
pub fn appellations_of(code: &str) -> &'static [RomeAppellation] {
    let start = APPELLATIONS.partition_point(|a| a.rome < code);
    let end = APPELLATIONS.partition_point(|a| a.rome <= code);
    &APPELLATIONS[start..end]
}

/// The occupations common in apprenticeship that the partner simulators
/// publish for, with the labels they title offers with.
pub fn common_rome_codes() -> &'static [(String, String)] {
    &COMMON_ROME
}

/// The label the simulators give an occupation of
/// [`common_rome_codes`].
pub fn common_rome_label(code: &str) -> Option<&'static str> {
    COMMON_ROME
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, l)| l.as_str())
}

/// The OPCOs, code and name.
pub fn opcos() -> &'static [(String, String)] {
    &OPCOS
}

/// The OPCO code for a code or name, compared without case, spaces or
/// punctuation (`Opco 2i` → `OPCO2I`).
pub fn opco_code(s: &str) -> Option<&'static str> {
    let wanted: String = opco_key(s).collect();
    OPCO_KEYS
        .iter()
        .find(|(key, _)| *key == wanted)
        .map(|(_, code)| *code)
}

/// What names an OPCO when compared: its letters and digits, upper case.
fn opco_key(text: &str) -> impl Iterator<Item = char> + '_ {
    text.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
}

/// Each OPCO's code and name as compared, with the code they name.
static OPCO_KEYS: LazyLock<Vec<(String, &'static str)>> = LazyLock::new(|| {
    OPCOS
        .iter()
        .flat_map(|(code, name)| [code, name].map(|text| (opco_key(text).collect(), code.as_str())))
        .collect()
});

/// The name of an OPCO.
pub fn opco_name(code: &str) -> Option<&'static str> {
    OPCOS
        .iter()
        .find(|(c, _)| c == code)
        .map(|(_, n)| n.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_to_lower_case_words_without_accents() {
        assert_eq!(fold_name("Saint-Lô"), "saint lo");
        assert_eq!(fold_name("  ST-LÔ "), "saint lo");
        assert_eq!(fold_name("Ste Mère-Église"), "sainte mere eglise");
        assert_eq!(fold_name("Stella"), "stella");
        assert_eq!(fold_name("Œuvre, st"), "ouvre saint");
        assert_eq!(fold_name("-- "), "");
    }

    #[test]
    fn every_reference_file_loads() {
        assert_eq!(communes().len(), 2644);
        assert_eq!(departements().len(), 5);
        assert_eq!(common_rome_codes().len(), 59);
        assert!(rome_codes().len() > 500, "{}", rome_codes().len());
        assert!(
            rome_codes().windows(2).all(|w| w[0].0 < w[1].0),
            "by code, each once"
        );
        assert!(rome_appellations().len() > 10_000);
        assert!(rome_appellations()
            .iter()
            .all(|a| rome_label(a.rome).is_some()));
        assert_eq!(
            rome_label("G1805"),
            Some("Gérant / Gérante de café, bar-brasserie"),
            "a quoted label is read whole, without its quotes"
        );
        assert!(rome_codes().iter().all(|(c, _)| {
            let parent = rome_parent(c).unwrap();
            rome_parent(parent) == Some(parent)
        }));
        assert_eq!(rome_parent("D1108"), Some("D1102"));
        assert_eq!(rome_label("D1102"), Some("Boulanger / Boulangère"));
        assert_eq!(opcos().len(), 11);
        let with_coordinates = communes()
            .iter()
            .filter(|c| c.coordinates.is_some())
            .count();
        assert!(with_coordinates >= 30, "{with_coordinates}");
        let placed: Vec<&Commune> = communes().iter().filter(|c| c.position.is_some()).collect();
        assert_eq!(placed.len(), 2096);
        // Every position is in Normandy (its bounding box, with a margin).
        for c in &placed {
            let p = c.position.unwrap();
            assert!(
                (48.1..=50.2).contains(&p.latitude) && (-2.0..=1.9).contains(&p.longitude),
                "{} at {p:?}",
                c.code
            );
        }
        let caen = commune("14118").unwrap().position.unwrap();
        assert!((caen.latitude - 49.18).abs() < 0.02 && (caen.longitude + 0.36).abs() < 0.02);
    }

    #[test]
    fn static_rows_read_quotes_as_csv_does() {
        let rows: Vec<Vec<&str>> =
            static_rows("h1,h2,h3\na,\"b \"\"c\"\", d\",e\n\"\",f,\n").collect();
        assert_eq!(rows, [vec!["a", "b \"c\", d", "e"], vec!["", "f", ""]]);
    }

    #[test]
    fn labels_with_commas_are_read_whole() {
        assert_eq!(
            common_rome_label("D1104"),
            Some("Pâtisserie, confiserie, chocolaterie et glacerie")
        );
    }

    #[test]
    fn communes_are_found_by_name_and_postcode() {
        assert_eq!(commune("14118").map(|c| c.name.as_str()), Some("Caen"));
        assert_eq!(find_commune("CAEN", Some("14000")).unwrap().code, "14118");
        assert_eq!(find_commune("st lo", None).unwrap().code, "50502");
        assert_eq!(
            find_commune("CAEN CEDEX 4", Some("14000")).unwrap().code,
            "14118"
        );
        assert!(find_commune("Atlantis", Some("14000")).is_none());
    }
}
