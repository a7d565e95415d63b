//! The six fields of an allocation: the names a CSV column or an XML
//! element gives them, in English or French, and the input they make.

use passerelle_schema::AllocationInput;

/// The fields of an allocation, in the order the CSV columns are mapped.
pub(super) const FIELDS: [&str; 6] = [
    "reference",
    "employerSiret",
    "employerCommune",
    "establishmentUai",
    "amount",
    "allocatedAt",
];

pub(super) fn field_of(header: &str) -> Option<usize> {
    let h: String = header
        .trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .flat_map(char::to_lowercase)
        .collect();
    Some(match h.as_str() {
        "reference" | "ref" | "référence" => 0,
        "employersiret" | "siret" | "siretemployeur" => 1,
        "employercommune" | "commune" | "codeinsee" | "communeemployeur" => 2,
        "establishmentuai" | "uai" | "uaietablissement" => 3,
        "amount" | "montant" => 4,
        "allocatedat" | "date" | "dateallocation" => 5,
        _ => return None,
    })
}

pub(super) fn input_from(values: [String; 6]) -> AllocationInput {
    let [reference, employer_siret, employer_commune, establishment_uai, amount, allocated_at] =
        values;
    AllocationInput {
        employer_siret,
        employer_commune,
        establishment_uai,
        amount,
        allocated_at,
        reference,
    }
}
