//! Uploads in both formats read through [`Records`], as the gateway reads
//! them: delimiters, headers, malformed lines and documents, and the bound
//! on a record.

use super::*;

fn all(format: Format, text: &str) -> Result<(Option<String>, Vec<Item>), FormatError> {
    let mut r = Records::new(format, text.as_bytes())?;
    let campaign = r.campaign().map(str::to_owned);
    let mut out = Vec::new();
    while let Some(item) = r.next_item()? {
        out.push(item);
    }
    Ok((campaign, out))
}

#[test]
fn csv_with_either_delimiter_and_french_headers() {
    let semi = "\u{feff}Référence;SIRET;Code INSEE;UAI;Montant;Date\nA-1;73282932000074;14118;0141687H;1 234,50;2026-06-02\n";
    let comma = "reference,employer_siret,employer_commune,establishment_uai,amount,allocated_at\nA-1,73282932000074,14118,0141687H,\"1 234,50\",2026-06-02\n";
    for text in [semi, comma] {
        let (_, items) = all(Format::Csv, text).unwrap();
        assert_eq!(items.len(), 1);
        let a = items[0].record.as_ref().unwrap();
        assert_eq!(a.reference, "A-1");
        assert_eq!(a.amount, "1 234,50");
        assert_eq!(a.establishment_uai, "0141687H");
    }
}

#[test]
fn a_short_csv_record_is_rejected_alone() {
    let text = "reference;siret;commune;uai;amount;date\nA-1;1\nA-2;73282932000074;14118;0141687H;10;2026-06-02\n";
    let (_, items) = all(Format::Csv, text).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(
        items[0].record.as_ref().unwrap_err().code,
        "UNREADABLE_RECORD"
    );
    assert_eq!(items[1].index, 1);
    assert!(items[1].record.is_ok());
}

#[test]
fn a_csv_header_without_a_column_is_refused() {
    let e = all(Format::Csv, "reference;siret;commune;uai;amount\n").unwrap_err();
    assert!(
        matches!(e, FormatError::MissingColumn("allocatedAt")),
        "{e}"
    );
}

#[test]
fn a_csv_header_naming_a_column_twice_is_refused_naming_it() {
    for (header, field, first, second) in [
        (
            "reference;siret;commune;uai;amount;date;amount",
            "amount",
            ("amount", 5),
            ("amount", 7),
        ),
        (
            "reference;siret;commune;uai;montant;date;Amount",
            "amount",
            ("montant", 5),
            ("Amount", 7),
        ),
        (
            "\u{feff}SIRET,reference,employer_siret,commune,uai,amount,date",
            "employerSiret",
            ("SIRET", 1),
            ("employer_siret", 3),
        ),
    ] {
        let text = format!("{header}\nA-1;73282932000074;14118;0141687H;10;2026-06-02;11\n");
        let e = all(Format::Csv, &text).unwrap_err();
        match &e {
            FormatError::DuplicateColumn {
                field: f,
                first: a,
                first_at: i,
                second: b,
                second_at: j,
            } => assert_eq!(
                (*f, (a.as_str(), *i), (b.as_str(), *j)),
                (field, first, second),
                "{header}"
            ),
            other => panic!("{header}: {other}"),
        }
        assert!(
            e.to_string().contains(&format!("two {field} columns")),
            "{e}"
        );
    }
    // A column Passerelle does not read may appear twice.
    let text = "reference;note;siret;commune;uai;amount;date;note\nA-1;x;73282932000074;14118;0141687H;10;2026-06-02;y\n";
    assert_eq!(all(Format::Csv, text).unwrap().1.len(), 1);
}

#[test]
fn xml_records_and_campaign() {
    let text = r#"<?xml version="1.0"?>
<allocations campaign="2026">
  <allocation><reference>A-1</reference><employerSiret>73282932000074</employerSiret>
    <employerCommune>14118</employerCommune><establishmentUai>0141687H</establishmentUai>
    <amount>10.50</amount><allocatedAt>2026-06-02</allocatedAt><note>ignored</note></allocation>
  <allocation><reference>A-&amp;2</reference></allocation>
</allocations>"#;
    let (campaign, items) = all(Format::Xml, text).unwrap();
    assert_eq!(campaign.as_deref(), Some("2026"));
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].record.as_ref().unwrap().amount, "10.50");
    assert_eq!(items[1].record.as_ref().unwrap().reference, "A-&2");
    assert_eq!(items[1].index, 1);
}

#[test]
fn malformed_xml_is_refused_with_its_position() {
    for text in [
        "",
        "<offers/>",
        "<allocations><allocation><reference>A</allocation></allocations>",
        "<allocations><allocation>",
        "<allocations><x/><other></other></allocations>",
    ] {
        assert!(
            matches!(all(Format::Xml, text), Err(FormatError::Xml { .. })),
            "{text}"
        );
    }
}

const HEADER: &str = "reference;siret;commune;uai;amount;date\n";

fn good(n: usize) -> String {
    format!("A-{n};73282932000074;14118;0141687H;10;2026-06-02\n")
}

#[test]
fn a_stray_quote_rejects_its_line_alone() {
    for rows in [5, 49] {
        let mut text = HEADER.to_owned();
        for n in 0..rows {
            if n == 1 {
                text.push_str("\"A-1;73282932000074;14118;0141687H;10;2026-06-02\n");
            } else {
                text.push_str(&good(n));
            }
        }
        let (_, items) = all(Format::Csv, &text).unwrap();
        assert_eq!(items.len(), rows, "every data line is a record");
        let rejected: Vec<_> = items.iter().filter(|i| i.record.is_err()).collect();
        assert_eq!(rejected.len(), 1);
        let r = rejected[0].record.as_ref().unwrap_err();
        assert_eq!(r.line, Some(3));
        assert_eq!(r.index, 1);
        assert!(r.reason.contains("line 3"), "{}", r.reason);
        assert_eq!(items.last().unwrap().line, Some(rows as u64 + 1));
    }
}

#[test]
fn a_carriage_return_inside_a_line_rejects_it_rather_than_losing_its_end() {
    let text = format!(
        "{HEADER}A-1;73282932000074;14118\r0141687H;10;2026-06-02\n{}",
        good(2)
    );
    let (_, items) = all(Format::Csv, &text).unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].record.as_ref().unwrap_err().line, Some(2));
    assert!(items[1].record.is_ok());
}

#[test]
fn quoted_fields_and_crlf_lines_read_as_records() {
    let text = "reference;siret;commune;uai;amount;date\r\n\"A;\"\"1\";73282932000074;14118;0141687H;\"10,5\";2026-06-02\r\n\r\n\nA-2;73282932000074;14118;0141687H;10;2026-06-02";
    let (_, items) = all(Format::Csv, text).unwrap();
    assert_eq!(items.len(), 2, "blank lines are not records");
    assert_eq!(items[0].record.as_ref().unwrap().reference, "A;\"1");
    assert_eq!(items[0].record.as_ref().unwrap().amount, "10,5");
    assert_eq!(items[1].record.as_ref().unwrap().allocated_at, "2026-06-02");
    assert_eq!(items[1].line, Some(5));
}

#[test]
fn a_line_over_the_bound_refuses_the_upload_naming_it() {
    let mut text = HEADER.to_owned();
    text.push_str(&good(0));
    text.push_str(&"x".repeat(MAX_RECORD_BYTES + 10));
    text.push('\n');
    text.push_str(&good(2));
    let mut r = Records::new(Format::Csv, text.as_bytes()).unwrap();
    assert!(r.next_item().unwrap().unwrap().record.is_ok());
    match r.next_item() {
        Err(FormatError::Csv { line, .. }) => assert_eq!(line, 3),
        other => panic!("{other:?}"),
    }
    // A line just under the bound is a record (rejected for its content).
    let mut text = HEADER.to_owned();
    text.push_str(&"y".repeat(MAX_RECORD_BYTES - 10));
    text.push('\n');
    let (_, items) = all(Format::Csv, &text).unwrap();
    assert_eq!(items.len(), 1);
}

#[test]
fn an_xml_record_over_the_bound_is_refused() {
    let text = format!(
        "<allocations><allocation><reference>{}</reference></allocation></allocations>",
        "z".repeat(MAX_RECORD_BYTES + 10)
    );
    assert!(matches!(
        all(Format::Xml, &text),
        Err(FormatError::Xml { .. })
    ));
    let mut many = String::from("<allocations>");
    for n in 0..2_000 {
        many.push_str(&format!(
            "<allocation><reference>R-{n}</reference></allocation>"
        ));
    }
    many.push_str("</allocations>");
    let (_, items) = all(Format::Xml, &many).unwrap();
    assert_eq!(
        items.len(),
        2_000,
        "the bound is per record, not per upload"
    );
}
