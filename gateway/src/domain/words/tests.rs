use passerelle_schema::{DiplomaLevel, RomeCode};

use super::*;

fn stems(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_word(text, |w| out.push(w.to_owned()));
    out
}

fn code(c: &str) -> RomeCode {
    RomeCode::parse(c).unwrap()
}

#[test]
fn words_are_folded_elided_and_stemmed_alike() {
    // Plurals, feminines, accents typed or not: one word.
    assert_eq!(stems("boulangers"), stems("Boulanger"));
    assert_eq!(stems("coiffeuses"), stems("coiffeuse"));
    assert_eq!(stems("pâtisserie"), stems("patisserie"));
    assert_eq!(stems("électricien"), stems("electriciens"));
    // A trade and its workshop, a woman and a man of it.
    for (a, b) in [
        ("boulangerie", "boulangère"),
        ("pâtissière", "pâtisserie"),
        ("cuisinier", "cuisine"),
        ("plombier", "plomberie"),
        ("coiffeuse", "coiffeur"),
        ("serveuse", "serveurs"),
        ("conductrice", "conducteur"),
        ("maçonnerie", "maçon"),
    ] {
        assert_eq!(stems(a), stems(b), "{a} {b}");
    }
    // Elisions and small words go.
    assert_eq!(
        stems("l'apprenti(e) d'une boulangerie"),
        stems("boulangerie")
    );
    assert_eq!(
        stems("Vendeur (H/F) — contrat d'apprentissage"),
        stems("vendeur")
    );
}

#[test]
fn a_diploma_is_a_level_and_a_run_of_words_names_occupations() {
    let w = Words::read("CAP coiffure").unwrap();
    assert_eq!(w.level.map(DiplomaLevel::get), Some(3));
    assert_eq!(w.words.len(), 1);
    assert!(w.words[0].occupations.contains(&"D1202"), "{w:?}");

    let w = Words::read("bac pro cuisine").unwrap();
    assert_eq!(w.level.map(DiplomaLevel::get), Some(4));

    // `caen` is a town: a place, not a word to find.
    let w = Words::read("boulanger près de Caen").unwrap();
    assert_eq!(w.words.len(), 1, "{w:?}");
    assert!(w.words[0].occupations.contains(&"D1102"), "{w:?}");
    let place = w.place.unwrap();
    assert_eq!(place.commune, "14118");
    assert!(place.around.contains(&"14327"), "Hérouville-Saint-Clair");
    assert!(!place.around.contains(&"14366"), "Lisieux");
    let w = Words::read("mecano st lo").unwrap();
    assert_eq!(w.place.unwrap().commune, "50502", "Saint-Lô");
    let w = Words::read("coiffure le havre").unwrap();
    assert_eq!(w.place.unwrap().commune, "76351", "Le Havre");

    assert_eq!(Words::read("de la"), None);
    assert_eq!(Words::read(""), None);
}

#[test]
fn a_record_matches_by_its_words_a_typo_or_its_occupation() {
    let rome = [code("D1104")];
    let said = Said {
        title: "Apprenti(e) en pâtisserie",
        occupations: Said::labels_of(&rome),
        body: vec!["Maison Durand"],
        places: vec!["Caen", "Calvados"],
        communes: vec!["14118"],
        rome: rome.iter().collect(),
        level: DiplomaLevel::new(3).ok(),
    };
    let matches = |text: &str| Words::read(text).unwrap().matches(&said);
    assert!(matches("patisserie caen"));
    assert!(
        matches("patisserie pres de herouville st clair"),
        "a town around"
    );
    assert!(!matches("patisserie le havre"));
    assert!(matches("pâtissier"), "the occupation it names");
    assert!(matches("patiserie"), "one typo");
    assert!(matches("durand"), "its employer");
    assert!(!matches("durnad"), "no typo in the body");
    assert!(!matches("patisserie rouen"));
    assert!(matches("cap"));
    assert!(!matches("bts"));
}

#[test]
fn the_index_finds_what_a_record_matches_and_ranks_titles_first() {
    let records: Vec<(&str, &str, &str)> = vec![
        ("Boulanger", "D1102", "Caen"),
        ("Vendeur en boulangerie", "D1106", "Rouen"),
        ("Pâtissier", "D1104", "Caen"),
        ("Coiffeur", "D1202", "Lisieux"),
        ("Serveur", "G1803", "Caen"),
    ];
    let codes: Vec<RomeCode> = records.iter().map(|r| code(r.1)).collect();
    let said = |i: usize| Said {
        title: records[i].0,
        occupations: Said::labels_of(&codes[i..=i]),
        body: vec!["Une belle maison, près de la mer"],
        places: vec![match records[i].2 {
            "Caen" => "Caen",
            "Rouen" => "Rouen",
            _ => "Lisieux",
        }],
        communes: vec![match records[i].2 {
            "Caen" => "14118",
            "Rouen" => "76540",
            _ => "14366",
        }],
        rome: vec![&codes[i]],
        level: None,
    };
    let positions: Vec<usize> = (0..records.len()).collect();
    let index = WordsIndex::of(&positions, |i, add| add(&said(*i)));
    assert_eq!(index.len(), 5);
    for text in [
        "boulanger",
        "boulangerie",
        "boulnager",
        "patissier",
        "caen",
        "serveuse caen",
        "caen",
        "boulangerie rouen",
        "coiffure",
        "mer",
        "vendeuse",
    ] {
        let words = Words::read(text).unwrap();
        let found = index.search(&words, &WordsStatistics(vec![&index]));
        let matched: Vec<u32> = (0..records.len() as u32)
            .filter(|i| words.matches(&said(*i as usize)))
            .collect();
        let positions: Vec<u32> = found.iter().map(|(p, _)| *p).collect();
        assert_eq!(positions, matched, "{text}: the index and the record agree");
        assert!(!found.is_empty(), "{text} finds a record");
    }
    let words = Words::read("boulangerie").unwrap();
    let mut found = index.search(&words, &WordsStatistics(vec![&index]));
    found.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Both say it; the baker's title does, and its occupation is named.
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0].0, 0, "{found:?}");
}
