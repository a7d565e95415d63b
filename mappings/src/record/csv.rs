//! CSV payloads read into records: the rows of a document with a header
//! row, as objects keyed by the header's names; a row that cannot be read
//! is a record that says why, to be rejected alone.

use std::borrow::Cow;

use super::{Json, PayloadError, UNREADABLE};

/// The rows of a CSV document with a header row, as objects keyed by the
/// header's names. A row with a different number of fields than the header
/// is a record that carries its reason under [`UNREADABLE`], so that it is
/// rejected alone.
pub fn csv_records(bytes: &[u8], delimiter: u8) -> Result<Vec<Json<'static>>, PayloadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes)
        .map_err(|e| PayloadError::Encoding(format!("not UTF-8: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| PayloadError::Syntax {
            format: "CSV",
            reason: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if headers.iter().all(String::is_empty) {
        return Err(PayloadError::NoRecords("the header row".into()));
    }
    let mut records = Vec::new();
    let text = |v: String| Json::String(Cow::Owned(v));
    for row in reader.records() {
        let members = match row {
            Ok(row) if row.len() == headers.len() => headers
                .iter()
                .zip(row.iter())
                .map(|(h, v)| (Cow::Owned(h.clone()), text(v.to_owned())))
                .collect(),
            Ok(row) => vec![(
                UNREADABLE.into(),
                text(format!(
                    "the row has {} fields, the header {}",
                    row.len(),
                    headers.len()
                )),
            )],
            Err(e) => vec![(UNREADABLE.into(), text(e.to_string()))],
        };
        records.push(Json::Object(members));
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{select, Tree};

    #[test]
    fn csv_rows_with_a_bom_quotes_and_semicolons_are_read() {
        let text = "\u{feff}id;ville;montant\n1;\"Cork; Munster\";1 234,50\n2;Dublin\n";
        let records = csv_records(text.as_bytes(), b';').unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(select(&records[0], "id"), vec!["1"]);
        assert_eq!(select(&records[0], "ville"), vec!["Cork; Munster"]);
        assert!(records[1].child(UNREADABLE).is_some());
    }
}
