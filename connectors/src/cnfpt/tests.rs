use std::time::Duration;

use secrecy::SecretString;

use passerelle_mappings::EntityKind;
use passerelle_schema::PublicEmployerType;

use super::*;
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::{Faults, SimServer};

async fn sim(password: &str) -> (SimServer, std::sync::Arc<CnfptConnector>) {
    sim_with(password, Faults::default(), |_| ()).await
}

/// The simulator with `faults`, and a connector to it configured by
/// `configure`.
async fn sim_with(
    password: &str,
    faults: Faults,
    configure: impl FnOnce(&mut CnfptConfig),
) -> (SimServer, std::sync::Arc<CnfptConnector>) {
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&DatasetSettings::default(), faults),
    )
    .await
    .unwrap();
    let mapping = crate::Registry::standard()
        .catalog(None)
        .unwrap()
        .get(crate::cnfpt::PARTNER, EntityKind::Offer)
        .unwrap();
    let mut config = CnfptConfig::new(
        server.base_url().join(simulator::PATH).unwrap(),
        simulator::USERNAME.into(),
        SecretString::from(password),
    );
    configure(&mut config);
    (
        server,
        std::sync::Arc::new(CnfptConnector::new(config, mapping)),
    )
}

#[tokio::test]
async fn public_offers_come_with_their_employer_type() {
    let (_server, connector) = sim(simulator::PASSWORD).await;
    let offers = connector.offers().await.unwrap();
    assert_eq!(offers.offers.len(), 150);
    for t in [
        PublicEmployerType::Etat,
        PublicEmployerType::Territoriale,
        PublicEmployerType::Hospitaliere,
    ] {
        assert!(
            offers
                .offers
                .iter()
                .any(|o| o.employer.public_type == Some(t)),
            "{t:?}"
        );
    }
}

#[tokio::test]
async fn counts_start_from_the_2016_figures() {
    let (_server, connector) = sim(simulator::PASSWORD).await;
    let c = connector.counts(2016).await.unwrap();
    assert_eq!((c.etat, c.territoriale, c.hospitaliere), (98, 223, 14));
    let later = connector.counts(2026).await.unwrap();
    assert!(later.territoriale > 223);
}

#[tokio::test]
async fn a_soap_fault_becomes_an_error_with_its_reason() {
    let (_server, connector) = sim(simulator::PASSWORD).await;
    let e = connector.counts(1990).await.unwrap_err();
    assert_eq!(e.code(), "PARTNER_BAD_RESPONSE");
    assert!(e.to_string().contains("SOAP fault soap:Client"), "{e}");
}

#[tokio::test]
async fn a_wrong_password_is_an_auth_failure() {
    let (_server, connector) = sim("wrong").await;
    assert_eq!(
        connector.offers().await.unwrap_err().code(),
        "PARTNER_AUTH_FAILED"
    );
}

/// The CNFPT's offers asked through a declaration rather than its
/// connector: a SOAP envelope POSTed with its `SOAPAction` behind HTTP
/// basic auth, the answer read as XML by the same mapping. Both read the
/// same offers.
#[tokio::test]
async fn a_soap_service_declared_reads_what_its_compiled_connector_reads() {
    use crate::source::OfferQuery;
    use client::NAMESPACE;
    let (server, compiled) = sim(simulator::PASSWORD).await;
    let expected = compiled.offers().await.unwrap().value;
    let tables = [serde_json::json!({
        "kind": "declared",
        "id": "fonction-publique",
        "api_name": "FONCTION_PUBLIQUE",
        "name": "Apprentissage dans la fonction publique",
        "about": "The CNFPT's offers, declared (a test).",
        "live": [{
            "entity": "offer",
            "employers": "public",
            "base_url": server.base_url().as_str(),
            "auth": { "kind": "basic", "username": simulator::USERNAME, "password": simulator::PASSWORD },
            "request": {
                "method": "POST",
                "path": simulator::PATH,
                "soap_action": format!("{NAMESPACE}#RechercherOffres"),
                "body": format!(
                    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" xmlns:c=\"{NAMESPACE}\">\
                     <soap:Body><c:RechercherOffres><c:region>28</c:region></c:RechercherOffres></soap:Body></soap:Envelope>"
                ),
            },
        }],
    })];
    let registry = crate::Registry::standard().declaring(&tables).unwrap();
    let configured = registry.configure(&tables).unwrap();
    let mapping = include_str!("../../../mappings/cnfpt/offer.toml")
        .replace("partner = \"cnfpt\"", "partner = \"fonction-publique\"");
    let catalog = passerelle_mappings::Catalog::of_files([(
        "fonction-publique/offer.toml",
        mapping.as_str(),
    )])
    .unwrap();
    let Some(crate::Source::LiveOffers(declared)) =
        configured[0].settings.sources(&catalog).unwrap().pop()
    else {
        panic!("a live source of offers");
    };
    assert_eq!(declared.employers(), crate::source::Employers::Public);
    let answer = declared.search(OfferQuery::default()).await.unwrap().value;
    assert!(!answer.offers.is_empty());
    let ids = |offers: &[std::sync::Arc<passerelle_schema::Offer>]| -> Vec<String> {
        offers
            .iter()
            .map(|o| o.sources[0].partner_id.to_string())
            .collect()
    };
    assert_eq!(ids(&answer.offers), ids(&expected.offers));
    assert_eq!(answer.rejected.len(), expected.rejected.len());
    // A wrong password is the partner refusing, as for the compiled one.
    let wrong = serde_json::to_string(&tables[0])
        .unwrap()
        .replace(simulator::PASSWORD, "wrong");
    let tables = [serde_json::from_str::<serde_json::Value>(&wrong).unwrap()];
    let configured = registry.configure(&tables).unwrap();
    let Some(crate::Source::LiveOffers(declared)) =
        configured[0].settings.sources(&catalog).unwrap().pop()
    else {
        panic!("a live source of offers");
    };
    let e = declared.search(OfferQuery::default()).await.unwrap_err();
    assert_eq!(e.code(), "PARTNER_AUTH_FAILED");
}

#[tokio::test]
async fn the_same_offers_sent_again_are_not_read_again() {
    let faults = Faults::default();
    // Every call asks the service: its answers are fresh for 1 ms.
    let (_server, connector) = sim_with(simulator::PASSWORD, faults.clone(), |c| {
        c.cache_ttl = Duration::from_millis(1)
    })
    .await;
    let offers = || async {
        tokio::time::sleep(Duration::from_millis(5)).await;
        connector.offers().await.unwrap()
    };
    let first = offers().await;
    let again = offers().await;
    assert!(std::sync::Arc::ptr_eq(&first.value, &again.value));
    assert!(again.partial.is_none());

    // Some records sent malformed: a new answer, read, the rejected
    // reported; sent again, the same answer and its rejections.
    faults
        .update(&crate::sandbox::FaultUpdate {
            malformed_rate: Some(0.1),
            ..Default::default()
        })
        .unwrap();
    let changed = offers().await;
    assert!(!std::sync::Arc::ptr_eq(&first.value, &changed.value));
    assert!(!changed.rejected.is_empty());
    assert_eq!(
        changed.offers.len() + changed.rejected.len(),
        first.offers.len()
    );
    let same = offers().await;
    assert!(std::sync::Arc::ptr_eq(&changed.value, &same.value));
    assert!(
        same.partial.is_some(),
        "still partial: its records rejected"
    );
}
