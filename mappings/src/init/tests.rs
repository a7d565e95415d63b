//! First mappings written from samples of each format.

use passerelle_schema::partner::examples::partner;

use super::*;
use crate::entity::EntityKind;
use crate::Mapping;

const JSON_PAGE: &str = r#"{
  "data": [
    { "id": "CCI-1", "intitule": "Vendeur  en boulangerie (H/F)", "codes_rome": ["d1106"],
      "niveau_vise": { "europeen": 3 },
      "entreprise": { "siret": "73282932000074", "raison_sociale": "Boulangerie Martin" },
      "lieu": { "code_insee": "14118", "code_postal": "14000", "geo": { "lat": 49.18, "lon": -0.37 } },
      "contrat": { "date_debut": "2027-09-01", "duree_mois": 24 },
      "publication": { "creation": "2026-11-02T08:00:00Z" } },
    { "id": "CCI-2", "intitule": "Boulanger", "codes_rome": ["D1102"],
      "niveau_vise": { "europeen": 4 },
      "entreprise": { "siret": "55208131766522", "raison_sociale": "Fournil du port" },
      "lieu": { "code_insee": "76351", "code_postal": "76600", "geo": { "lat": 49.49, "lon": 0.11 } },
      "contrat": { "date_debut": "2027-10-01", "duree_mois": 12 },
      "publication": { "creation": "2026-11-03T09:30:00Z" } }
  ],
  "pagination": { "total": 2, "suivant": null }
}"#;

/// The line of `field` in `text`.
fn line<'a>(text: &'a str, field: &str) -> &'a str {
    text.lines()
        .find(|l| {
            l.starts_with(&format!("{field} = ")) || l.starts_with(&format!("\"{field}\" = "))
        })
        .unwrap_or_else(|| panic!("no line for {field} in:\n{text}"))
}

#[test]
fn a_json_page_gives_each_field_its_path_and_a_test_that_passes() {
    let p = partner("init-json");
    let sample = Sample::read(JSON_PAGE.as_bytes()).unwrap();
    assert_eq!(sample.records.len(), 2);
    let text = first_mapping(p.id(), EntityKind::Offer, &sample, "page.json");
    assert!(text.contains("records = \"/data\""), "{text}");
    assert!(
        line(&text, "partner_id").contains("from = \"id\""),
        "{text}"
    );
    assert!(
        line(&text, "title").contains("from = \"intitule\""),
        "{text}"
    );
    assert!(
        line(&text, "rome_codes")
            .contains("from = \"codes_rome\", transforms = [\"trim\", \"uppercase\"]"),
        "{text}"
    );
    assert!(
        line(&text, "level").contains("niveau_vise/europeen"),
        "{text}"
    );
    assert!(
        line(&text, "employer.siret").contains("entreprise/siret"),
        "{text}"
    );
    assert!(
        line(&text, "employer.name").contains("entreprise/raison_sociale"),
        "{text}"
    );
    assert!(
        line(&text, "location.commune").contains("lieu/code_insee"),
        "{text}"
    );
    assert!(
        line(&text, "location.postcode").contains("lieu/code_postal"),
        "{text}"
    );
    assert!(
        line(&text, "location.latitude").contains("lieu/geo/lat"),
        "{text}"
    );
    assert!(
        line(&text, "start_date").contains("{ date = \"%Y-%m-%d\" }"),
        "{text}"
    );
    assert!(
        line(&text, "published_at").contains("{ datetime = \"rfc3339\" }"),
        "{text}"
    );
    assert!(
        line(&text, "duration_months").contains("contrat/duree_mois"),
        "{text}"
    );
    // It loads, and its test case (the first record) passes.
    let mapping = Mapping::parse("init.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(
        text.contains("[test.expect]\npartner_id = \"CCI-1\""),
        "{text}"
    );
    let outcomes = mapping.run_tests();
    assert_eq!(outcomes.len(), 1);
    assert!(
        outcomes.iter().all(|o| o.failure.is_none()),
        "{:?}",
        outcomes[0].failure
    );
}

#[test]
fn an_xml_feed_gives_its_repeated_element_and_attributes() {
    let p = partner("init-xml");
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<catalogue xmlns="urn:x">
  <programme code="BR-001"><intitule>CAP  Boulanger</intitule><niveau>3</niveau><rome>D1102</rome>
    <organisme siret="73282932000074" uai="0141234R">CFA de la branche</organisme><commune>14118</commune></programme>
  <programme code="BR-002"><intitule>BP Boulanger</intitule><niveau>4</niveau><rome>D1102</rome>
    <organisme siret="73282932000074" uai="0141234R">CFA de la branche</organisme><commune>14118</commune></programme>
</catalogue>"#;
    let sample = Sample::read(xml.as_bytes()).unwrap();
    let text = first_mapping(p.id(), EntityKind::Formation, &sample, "catalogue.xml");
    assert!(text.contains("record = \"programme\""), "{text}");
    assert!(line(&text, "partner_id").contains("\"@code\""), "{text}");
    assert!(line(&text, "title").contains("\"intitule\""), "{text}");
    assert!(
        line(&text, "cfa.siret").contains("organisme/@siret"),
        "{text}"
    );
    assert!(line(&text, "cfa.uai").contains("organisme/@uai"), "{text}");
    assert!(line(&text, "level").contains("\"niveau\""), "{text}");
    assert!(
        text.contains("input = '''\n<programme code=\"BR-001\">"),
        "{text}"
    );
    let mapping = Mapping::parse("init.toml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(
        mapping.run_tests().iter().all(|o| o.failure.is_none()),
        "{text}"
    );
}

#[test]
fn a_csv_export_gives_its_delimiter_and_columns() {
    let p = partner("init-csv");
    let csv = "numero;uai_etablissement;pays_destination;date_depart;duree_semaines\n\
               PM-1;0141234R;it;2026-06-04;14\nPM-2;0761234A;de;2026-07-01;20\n";
    let sample = Sample::read(csv.as_bytes()).unwrap();
    let text = first_mapping(p.id(), EntityKind::Mobility, &sample, "export.csv");
    assert!(text.contains("delimiter = \";\""), "{text}");
    assert!(line(&text, "partner_id").contains("\"numero\""), "{text}");
    assert!(
        line(&text, "cfa").contains("\"uai_etablissement\""),
        "{text}"
    );
    assert!(
        line(&text, "country")
            .contains("\"pays_destination\", transforms = [\"trim\", \"uppercase\"]"),
        "{text}"
    );
    assert!(
        line(&text, "start").contains("{ date = \"%Y-%m-%d\" }"),
        "{text}"
    );
    // What it cannot know is left to a person, named.
    assert!(text.contains("# program = { from = \"…\" }"), "{text}");
}

#[test]
fn a_real_lheo_catalogue_finds_its_programmes() {
    let p = partner("init-lheo");
    let sample = Sample::read(include_bytes!("../../carif/samples/offres-lheo-2.2.xml")).unwrap();
    let text = first_mapping(
        p.id(),
        EntityKind::Formation,
        &sample,
        "offres-lheo-2.2.xml",
    );
    assert!(text.contains("record = \"formation\""), "{text}");
    assert_eq!(sample.records.len(), 3);
}

#[test]
fn what_is_no_payload_is_refused() {
    assert!(Sample::read(b"   ").is_err());
    assert!(Sample::read(b"{ \"a\": 1 }")
        .unwrap_err()
        .contains("no array of records"));
}
