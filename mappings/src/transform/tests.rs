//! Each transform read as a mapping file writes it and applied to values,
//! borrowed and owned alike; bad transforms and bad values refused with
//! why.

use std::borrow::Cow;

use crate::record::Texts;

use super::*;
use serde_json::json;

fn t(raw: &str) -> Transform {
    let v: toml::Table = toml::from_str(&format!("t = {raw}")).unwrap();
    let mut lists = BTreeMap::new();
    lists.insert(
        "d".to_owned(),
        BTreeMap::from([("Brevet Professionnel".to_owned(), "4".to_owned())]),
    );
    Transform::parse(&v["t"], &lists).unwrap()
}

/// The transform's result, the same whether the text it is given is
/// borrowed or owned.
fn run(tr: &Transform, v: &str) -> Result<Vec<String>, String> {
    let record = json!({"cp": "50000"});
    let mut results = [Cow::Borrowed(v), Cow::Owned(v.to_owned())].map(|v| {
        tr.apply(smallvec::smallvec![v], &record)
            .map(|t| t.into_iter().map(Cow::into_owned).collect::<Vec<_>>())
    });
    assert_eq!(results[0], results[1], "{tr:?} on {v:?}");
    std::mem::replace(&mut results[0], Ok(Vec::new()))
}

#[test]
fn each_transform_does_what_it_says() {
    assert_eq!(
        run(&t("\"collapse_whitespace\""), "  a \n b ").unwrap(),
        ["a b"]
    );
    assert_eq!(
        run(&t("\"digits_only\""), "732 829 320 00074").unwrap(),
        ["73282932000074"]
    );
    assert_eq!(run(&t("\"int\""), "24 mois").unwrap(), ["24"]);
    assert_eq!(run(&t("\"int\""), "2\u{a0}400 heures").unwrap(), ["2400"]);
    assert_eq!(run(&t("\"euros\""), "1 234,50").unwrap(), ["123450"]);
    assert_eq!(
        run(&t("\"departement_from_postcode\""), "76600").unwrap(),
        ["76"]
    );
    assert_eq!(
        run(&t("{date = \"%d/%m/%Y\"}"), "01/09/2027").unwrap(),
        ["2027-09-01"]
    );
    assert_eq!(
        run(&t("{datetime = \"%d/%m/%Y %H:%M\"}"), "15/11/2026 09:12").unwrap(),
        ["2026-11-15T08:12:00Z"]
    );
    assert_eq!(
        run(&t("{datetime = \"%d/%m/%Y\"}"), "15/07/2027").unwrap(),
        ["2027-07-14T22:00:00Z"]
    );
    assert_eq!(
        run(&t("{code_list = \"d\"}"), "brevet professionnel").unwrap(),
        ["4"]
    );
    assert_eq!(
        run(&t("{commune_lookup = {postcode = \"cp\"}}"), "ST LO").unwrap(),
        ["50502"]
    );
    assert_eq!(run(&t("{multiply = 7}"), "4").unwrap(), ["28"]);
    assert_eq!(
        run(&t("{format = \"https://x/{}\"}"), "7").unwrap(),
        ["https://x/7"]
    );
    assert_eq!(
        t("{split = \",\"}")
            .apply(smallvec::smallvec!["a, b,".into()], &json!({}))
            .unwrap()
            .into_vec(),
        ["a", "b"]
    );
    assert_eq!(run(&t("{split = \",\"}"), " a ,, b").unwrap(), ["a", "b"]);
    assert_eq!(
        run(&t("{date = \"%Y-%m-%d\"}"), " 2027-09-01 ").unwrap(),
        ["2027-09-01"]
    );
    assert_eq!(
        t("{default = \"1\"}")
            .apply(Texts::new(), &json!({}))
            .unwrap()
            .into_vec(),
        ["1"]
    );
}

#[test]
fn lheo_dates_unknown_and_open_give_no_value_months_and_years_a_day() {
    let start = t("\"lheo_date\"");
    let end = t("{lheo_date = \"end\"}");
    assert_eq!(run(&start, "20260901").unwrap(), ["2026-09-01"]);
    assert_eq!(run(&end, "99999999").unwrap(), Vec::<String>::new());
    assert_eq!(run(&start, "00000000").unwrap(), Vec::<String>::new());
    assert_eq!(run(&start, "20260900").unwrap(), ["2026-09-01"]);
    assert_eq!(run(&end, "20280200").unwrap(), ["2028-02-29"]);
    assert_eq!(run(&start, "20270000").unwrap(), ["2027-01-01"]);
    assert_eq!(run(&end, "20270000").unwrap(), ["2027-12-31"]);
    for bad in ["2026-09-01", "20261301", "20260231", "2026090", "20260001"] {
        let e = run(&start, bad).unwrap_err();
        assert!(e.contains("not a LHÉO date"), "{bad}: {e}");
    }
}

#[test]
fn bad_values_say_why() {
    let e = run(&t("{date = \"%d/%m/%Y\"}"), "2027-09-01").unwrap_err();
    assert!(e.contains("not a date"), "{e}");
    let e = run(&t("{code_list = \"d\"}"), "CAPA").unwrap_err();
    assert!(e.contains("not in the code list"), "{e}");
    let e = run(&t("{commune_lookup = {postcode = \"cp\"}}"), "Paris").unwrap_err();
    assert!(e.contains("no Normandy commune"), "{e}");
}

#[test]
fn derive_gives_a_missing_value_from_the_record_and_keeps_a_given_one() {
    let lists = BTreeMap::new();
    let v: toml::Table = toml::from_str("t = {derive = [\"a\", \"b\"]}").unwrap();
    let derive = Transform::parse(&v["t"], &lists).unwrap();
    let record = json!({ "a": "x", "b": "y" });
    let given = derive
        .apply(smallvec::smallvec![Cow::Borrowed("uid-1")], &record)
        .unwrap();
    assert_eq!(given.as_slice(), ["uid-1"]);
    let derived = |record: &serde_json::Value| {
        derive
            .apply(smallvec::smallvec![Cow::Borrowed(" ")], record)
            .unwrap()[0]
            .to_string()
    };
    let one = derived(&record);
    assert!(one.starts_with("derived-") && one.len() == 32, "{one}");
    assert_eq!(derived(&record), one, "the same at every read");
    assert_ne!(derived(&json!({ "a": "x", "b": "z" })), one);
    // Values moved from one path to the next are another record.
    assert_ne!(derived(&json!({ "a": "xy", "b": "" })), one);
    for bad in [
        "t = {derive = []}",
        "t = {derive = \"a\"}",
        "t = {derive = [1]}",
    ] {
        let v: toml::Table = toml::from_str(bad).unwrap();
        assert!(Transform::parse(&v["t"], &lists).is_err(), "{bad}");
    }
}

#[test]
fn a_code_list_may_give_a_code_to_what_it_does_not_hold() {
    let mut lists = BTreeMap::new();
    lists.insert(
        "k".to_owned(),
        BTreeMap::from([("Forum".to_owned(), "forum".to_owned())]),
    );
    let parse = |text: &str| {
        let v: toml::Table = toml::from_str(&format!("t = {text}")).unwrap();
        Transform::parse(&v["t"], &lists)
    };
    let otherwise = parse("{code_list = {list = \"k\", otherwise = \"other\"}}").unwrap();
    assert_eq!(run(&otherwise, "forum").unwrap(), ["forum"]);
    assert_eq!(run(&otherwise, "Salon").unwrap(), ["other"]);
    let strict = parse("{code_list = {list = \"k\"}}").unwrap();
    assert!(run(&strict, "Salon").is_err());
    for bad in [
        "{code_list = {otherwise = \"other\"}}",
        "{code_list = {list = \"k\", otherwise = 3}}",
        "{code_list = {list = \"k\", else = \"x\"}}",
        "{code_list = {list = \"nope\"}}",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn bad_transforms_are_refused_with_the_known_ones() {
    let v: toml::Table = toml::from_str("t = \"trimm\"").unwrap();
    let e = Transform::parse(&v["t"], &BTreeMap::new()).unwrap_err();
    assert!(e.contains("known transforms"), "{e}");
    let v: toml::Table = toml::from_str("t = {code_list = \"nope\"}").unwrap();
    assert!(Transform::parse(&v["t"], &BTreeMap::new()).is_err());
}
