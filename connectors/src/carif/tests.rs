use passerelle_schema::Formation;

use super::*;
use crate::declared::shipped;
use crate::feed::FeedConnector;
use crate::sandbox::cfas::{cfas, programmes};
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::FeedPull;

async fn sim(faults: Faults) -> (SimServer, FeedConnector) {
    let s = DatasetSettings::default();
    let cfas = cfas(&s);
    let programmes = programmes(&s, &cfas);
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&cfas, &programmes, faults),
    )
    .await
    .unwrap();
    let url = server.base_url().join(simulator::FEED_PATH).unwrap();
    (server, shipped::CARIF.connect(url).unwrap())
}

#[tokio::test]
async fn the_lheo_catalogue_maps_every_programme_with_its_sessions() {
    let (_server, connector) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, etag, .. } = connector.pull::<Formation>(None).await.unwrap()
    else {
        panic!("a first pull fetches");
    };
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected.first());
    let formations: Vec<Formation> = batch.records;
    assert_eq!(formations.len(), 500);
    let cfas: std::collections::HashSet<_> = formations
        .iter()
        .filter_map(|f| f.cfa.uai.clone())
        .collect();
    assert_eq!(cfas.len(), 71);
    assert!(formations
        .iter()
        .all(|f| !f.sessions.is_empty() && f.capacity >= f.vacancies));
    assert!(formations.iter().any(|f| f.vacancies > 0));
    assert!(matches!(
        connector.pull::<Formation>(etag.as_deref()).await.unwrap(),
        FeedPull::NotModified
    ));
}

#[tokio::test]
async fn broken_programmes_are_rejected_one_by_one() {
    let faults = Faults::default();
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.1),
            ..Default::default()
        })
        .unwrap();
    let (_server, connector) = sim(faults).await;
    let FeedPull::Fetched { batch, .. } = connector.pull::<Formation>(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert!(!batch.rejected.is_empty());
    assert_eq!(batch.records.len() + batch.rejected.len(), 500);
    let mut fields: Vec<_> = batch.rejected.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["sessions.start", "sessions.vacancies"]);
    // A UAI with a wrong check letter is the organism's: left out of its
    // programme, which is kept, and noted.
    assert!(
        batch
            .notices
            .iter()
            .any(|n| n.contains("cfa.uai") && n.contains("left out, the record kept")),
        "{:?}",
        batch.notices.first()
    );
}

#[tokio::test]
async fn the_catalogue_has_open_ended_sessions_programmes_at_two_places_and_every_level_scale() {
    let (_server, connector) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, .. } = connector.pull::<Formation>(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    let formations: Vec<Formation> = batch.records;
    let open = formations
        .iter()
        .filter(|f| f.sessions.iter().any(|s| s.end.is_none()))
        .count();
    assert!(open >= 50, "{open} programmes with an open-ended session");
    let two: Vec<&Formation> = formations.iter().filter(|f| f.places.len() == 2).collect();
    assert!(two.len() >= 20, "{} programmes at two places", two.len());
    for f in &two {
        let (a, b) = (&f.places[0], &f.places[1]);
        assert_ne!(a.commune, b.commune, "{}", f.partner_id);
        assert_eq!(
            a.commune.as_ref().unwrap().departement(),
            b.commune.as_ref().unwrap().departement()
        );
        assert_eq!(a.capacity + b.capacity, f.capacity);
        assert_eq!(a.vacancies + b.vacancies, f.vacancies);
        assert_eq!(f.sessions_at(1).count(), 1);
    }
    // The generated levels, whichever scale the catalogue wrote them on.
    let s = DatasetSettings::default();
    let programmes = programmes(&s, &cfas(&s));
    for (f, p) in formations.iter().zip(&programmes) {
        assert_eq!(f.level.map(|l| l.get()), Some(p.level), "{}", f.partner_id);
    }
}
