//! The Carif-Oref's LHÉO 2.2 catalogue through its shipped mapping, with
//! payloads written from the standard's text (`mappings/carif/samples/`).

use passerelle_schema::partner::examples;
use passerelle_schema::Formation;

use crate::catalog::tests::shipped;
use crate::{EntityKind, MappedBatch};

const OFFRES: &[u8] = include_bytes!("../carif/samples/offres-lheo-2.2.xml");
const OFFRES_LATIN1: &[u8] = include_bytes!("../carif/samples/offres-lheo-2.2-latin1.xml");
const LEVELS: &str = include_str!("../reference/diploma-levels.csv");

fn map(payload: &[u8]) -> MappedBatch<Formation> {
    let catalog = shipped();
    let mapping = catalog
        .get(examples::partner("carif"), EntityKind::Formation)
        .unwrap();
    mapping.map_payload(payload)
}

fn programme<'a>(batch: &'a MappedBatch<Formation>, id: &str) -> &'a Formation {
    batch
        .records
        .iter()
        .find(|f| f.partner_id == id)
        .unwrap_or_else(|| panic!("{id} not mapped: {:?}", batch.rejected))
}

#[test]
fn a_programme_whose_sessions_are_open_ended_or_undated_is_kept() {
    let batch = map(OFFRES);
    let bp = programme(&batch, "F-0141234R-BP");
    let open = &bp.sessions[0];
    assert_eq!(open.start.unwrap().to_string(), "2026-09-01");
    assert_eq!(open.end, None, "99999999 is an open end");
    let unknown = &bp.sessions[1];
    assert_eq!(
        (unknown.start, unknown.end),
        (None, None),
        "00000000 is unknown"
    );
    assert_eq!(unknown.recruiting, Some(false));
    let cap = programme(&batch, "F-0141234R-CAP");
    assert_eq!(cap.sessions[0].start.unwrap().to_string(), "2026-09-01");
    assert_eq!(cap.sessions[0].end.unwrap().to_string(), "2028-06-30");
}

#[test]
fn every_action_of_a_formation_is_a_place_with_its_own_sessions_and_places() {
    let batch = map(OFFRES);
    let bp = programme(&batch, "F-0141234R-BP");
    assert_eq!(bp.places.len(), 2);
    let (caen, lisieux) = (&bp.places[0], &bp.places[1]);
    assert_eq!(caen.partner_id.as_deref(), Some("A-CAEN"));
    assert_eq!(caen.commune.as_ref().unwrap().as_str(), "14118");
    assert_eq!(caen.address.as_deref(), Some("Bâtiment B, 1 rue du Marais"));
    assert_eq!(caen.postcode.as_ref().unwrap().as_str(), "14000");
    assert_eq!((caen.capacity, caen.vacancies), (30, 6));
    assert_eq!(lisieux.commune.as_ref().unwrap().as_str(), "14366");
    assert_eq!(lisieux.city.as_deref(), Some("Lisieux"));
    assert_eq!((lisieux.capacity, lisieux.vacancies), (12, 12));
    assert_eq!(bp.sessions_at(0).count(), 2);
    assert_eq!(bp.sessions_at(1).count(), 1);
    assert_eq!(bp.sessions[2].places, 12);
    // The totals are the places' sums; the first place gives the commune.
    assert_eq!((bp.capacity, bp.vacancies), (42, 18));
    assert_eq!(bp.commune.as_ref().unwrap().as_str(), "14118");
    assert_eq!(bp.communes().filter(|c| c.as_str() == "14366").count(), 1);
    // A town written without its INSEE code is found by name and postcode.
    let cap = programme(&batch, "F-0141234R-CAP");
    assert_eq!(cap.places[0].commune.as_ref().unwrap().as_str(), "27229");
}

#[test]
fn old_and_2019_levels_read_as_the_same_levels() {
    let batch = map(OFFRES);
    // 14 in the Carif-Oref network's 2019 table, V on the old scale.
    assert_eq!(programme(&batch, "F-0141234R-BP").level.unwrap().get(), 4);
    assert_eq!(programme(&batch, "F-0141234R-CAP").level.unwrap().get(), 3);
    // 6, the old dict-niveaux code of level III.
    let latin1 = map(OFFRES_LATIN1);
    assert_eq!(programme(&latin1, "F-0761234D-BTS").level.unwrap().get(), 5);
}

#[test]
fn several_formacode_rome_and_certification_codes_are_all_kept() {
    let batch = map(OFFRES);
    let bp = programme(&batch, "F-0141234R-BP");
    assert_eq!(bp.formacodes, ["21528", "21538"]);
    let romes: Vec<&str> = bp.rome_codes.iter().map(|r| r.as_str()).collect();
    assert_eq!(romes, ["D1102", "D1104"]);
    let rncps: Vec<&str> = bp.rncp_codes.iter().map(|r| r.as_str()).collect();
    assert_eq!(rncps, ["RNCP37775", "RNCP35185"]);
    assert_eq!(bp.rncp.as_ref().unwrap().as_str(), "RNCP37775");
    assert_eq!(bp.certifinfo_codes, ["109542", "54913"]);
}

#[test]
fn the_organism_and_the_actions_extras_give_the_cfa_and_the_site() {
    let batch = map(OFFRES);
    let bp = programme(&batch, "F-0141234R-BP");
    assert_eq!(bp.cfa.uai.as_ref().unwrap().as_str(), "0141234R");
    assert_eq!(bp.cfa.siret.as_ref().unwrap().as_str(), "73282932000074");
    assert_eq!(bp.places[0].uai, None);
    assert_eq!(bp.places[1].uai.as_ref().unwrap().as_str(), "0142001Z");
}

#[test]
fn the_contact_of_a_formation_is_read() {
    let batch = map(OFFRES);
    let contact = programme(&batch, "F-0141234R-BP").contact.clone().unwrap();
    assert_eq!(contact.name.as_deref(), Some("Service apprentissage"));
    assert_eq!(contact.phone.as_deref(), Some("02 31 00 00 00"));
    assert_eq!(
        contact.email.as_deref(),
        Some("apprentissage@cfa-calvados.example")
    );
    assert_eq!(
        contact.web.as_deref(),
        Some("https://cfa-calvados.example/bp-boulanger")
    );
}

#[test]
fn texts_with_entities_and_cdata_are_read_in_any_declared_charset() {
    let batch = map(OFFRES);
    let bp = programme(&batch, "F-0141234R-BP");
    assert_eq!(bp.title, "BP Boulanger & pâtissier");
    assert_eq!(
        bp.objective.as_deref(),
        Some(
            "Maîtriser la panification & les viennoiseries <traditionnelles>. Diriger un fournil."
        )
    );
    let latin1 = map(OFFRES_LATIN1);
    assert!(latin1.rejected.is_empty(), "{:?}", latin1.rejected);
    let bts = programme(&latin1, "F-0761234D-BTS");
    assert_eq!(
        bts.title,
        "BTS Négociation & digitalisation de la relation client"
    );
    assert_eq!(
        bts.objective.as_deref(),
        Some("Préparer l'épreuve E4 & la relation <client> en entreprise d\u{2019}accueil.")
    );
    assert_eq!(
        bts.contact.as_ref().unwrap().name.as_deref(),
        Some("Pôle supérieur")
    );
    assert_eq!(bts.places[0].commune.as_ref().unwrap().as_str(), "76540");
    assert_eq!(bts.sessions[0].end, None);
}

#[test]
fn a_programme_whose_organism_has_no_siret_is_kept_and_the_sync_told() {
    let batch = map(OFFRES);
    assert_eq!(batch.records.len(), 3);
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected);
    let kept = programme(&batch, "F-SANS-SIRET");
    assert_eq!(kept.cfa.siret, None);
    // An empty SIRET is no SIRET; one that fails its check is noted.
    let with_a_wrong_one = String::from_utf8(OFFRES.to_vec())
        .unwrap()
        .replace("<SIRET></SIRET>", "<SIRET>73282932000075</SIRET>");
    let batch = map(with_a_wrong_one.as_bytes());
    assert_eq!(batch.records.len(), 3);
    assert!(
        batch
            .notices
            .iter()
            .any(|n| n.contains("(F-SANS-SIRET): cfa.siret:")
                && n.contains("left out, the record kept")),
        "{:?}",
        batch.notices
    );
}

#[test]
fn the_level_code_list_agrees_with_the_reference_table() {
    let catalog = shipped();
    let mapping = catalog
        .get(examples::partner("carif"), EntityKind::Formation)
        .unwrap();
    let mut rows = LEVELS.lines();
    let header: Vec<&str> = rows.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (level, old, old_code, code_2019) = (
        col("niveau"),
        col("ancien_niveau"),
        col("code_lheo_ancien"),
        col("code_lheo_2019"),
    );
    let mut checked = 0;
    for row in rows {
        let cells: Vec<&str> = row.split(',').collect();
        let want = cells[level].parse::<u8>().unwrap();
        for code in [cells[code_2019], cells[old_code], cells[old]] {
            if code.is_empty() {
                continue;
            }
            let record = format!(
                "<formation numero=\"F\"><intitule-formation>T</intitule-formation>\
                 <code-niveau-sortie>{code}</code-niveau-sortie>\
                 <organisme-formation-responsable><SIRET-organisme-formation>\
                 <SIRET>73282932000074</SIRET></SIRET-organisme-formation>\
                 <nom-organisme>CFA</nom-organisme></organisme-formation-responsable></formation>"
            );
            let batch: MappedBatch<Formation> = mapping.map_payload(record.as_bytes());
            let got = batch.records[0].level.map(|l| l.get());
            // The old level I covered levels 7 and 8: it reads as 7.
            let want = if want == 8 && code != cells[code_2019] {
                7
            } else {
                want
            };
            assert_eq!(got, Some(want), "code {code:?} of row {row:?}");
            checked += 1;
        }
    }
    assert!(checked >= 17, "{checked}");
}

#[test]
fn places_that_add_up_past_what_a_number_holds_are_a_rejection_not_a_panic() {
    let session = |places: &str| {
        format!(
            "<session><periode><debut>20260901</debut><fin>99999999</fin></periode>\
             <extras><extra info=\"places\">{places}</extra></extras></session>"
        )
    };
    let record = format!(
        "<formation numero=\"F\"><intitule-formation>T</intitule-formation>\
         <action>{}</action><action>{}</action>\
         <organisme-formation-responsable><SIRET-organisme-formation>\
         <SIRET>73282932000074</SIRET></SIRET-organisme-formation>\
         <nom-organisme>CFA</nom-organisme></organisme-formation-responsable></formation>",
        session("4294967295"),
        session("1")
    );
    let batch = map(record.as_bytes());
    assert_eq!(batch.rejected.len(), 1, "{:?}", batch.records);
    assert_eq!(batch.rejected[0].field, "sessions.places");
}
