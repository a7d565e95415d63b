use passerelle_schema::{Mobility, MobilityProgram};

use super::*;
use crate::declared::shipped;
use crate::feed::FeedConnector;
use crate::sandbox::cfas::cfas;
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::mobility::erasmus;
use crate::sandbox::{FaultUpdate, Faults, SimServer};
use crate::FeedPull;

async fn sim(faults: Faults) -> (SimServer, FeedConnector, usize) {
    let s = DatasetSettings::default();
    let cfas = cfas(&s);
    let activities = erasmus(&s, &cfas);
    let n = activities.len();
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&cfas, &activities, faults),
    )
    .await
    .unwrap();
    let url = server.base_url().join(simulator::EXPORT_PATH).unwrap();
    (server, shipped::ERASMUS.connect(url).unwrap(), n)
}

#[tokio::test]
async fn the_export_maps_every_activity_and_no_name() {
    let (_server, connector, n) = sim(Faults::default()).await;
    let FeedPull::Fetched { batch, etag, .. } = connector.pull::<Mobility>(None).await.unwrap()
    else {
        panic!("a first pull fetches");
    };
    assert!(batch.rejected.is_empty(), "{:?}", batch.rejected.first());
    let records: Vec<Mobility> = batch.records;
    assert_eq!(records.len(), n);
    for program in [
        MobilityProgram::ErasmusShortTerm,
        MobilityProgram::ErasmusPro,
        MobilityProgram::ErasmusGroup,
        MobilityProgram::ErasmusSkillsCompetition,
    ] {
        assert!(records.iter().any(|r| r.program == program), "{program:?}");
    }
    assert!(records
        .iter()
        .any(|r| r.city.as_deref() == Some("Cork; Munster")));
    let json = serde_json::to_string(&records).unwrap();
    for name in ["Camille", "Lucas", "Manon"] {
        assert!(!json.contains(name), "a participant's name entered: {name}");
    }
    assert!(matches!(
        connector.pull::<Mobility>(etag.as_deref()).await.unwrap(),
        FeedPull::NotModified
    ));
}

#[tokio::test]
async fn broken_rows_are_rejected_one_by_one() {
    let faults = Faults::default();
    faults
        .update(&FaultUpdate {
            malformed_rate: Some(0.1),
            ..Default::default()
        })
        .unwrap();
    let (_server, connector, n) = sim(faults).await;
    let FeedPull::Fetched { batch, .. } = connector.pull::<Mobility>(None).await.unwrap() else {
        panic!("a first pull fetches");
    };
    assert_eq!(batch.records.len() + batch.rejected.len(), n);
    let mut fields: Vec<_> = batch.rejected.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    fields.dedup();
    assert_eq!(fields, ["cfa", "country", "start"]);
}
