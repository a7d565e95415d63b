use secrecy::SecretString;

use passerelle_mappings::EntityKind;
use passerelle_schema::PublicEmployerType;

use super::*;
use crate::sandbox::generate::DatasetSettings;
use crate::sandbox::{Faults, SimServer};

async fn sim(password: &str) -> (SimServer, std::sync::Arc<CnfptConnector>) {
    let server = SimServer::start(
        "127.0.0.1:0".parse().unwrap(),
        simulator::router(&DatasetSettings::default(), Faults::default()),
    )
    .await
    .unwrap();
    let mapping = crate::Registry::standard()
        .catalog(None)
        .unwrap()
        .get(crate::cnfpt::PARTNER, EntityKind::Offer)
        .unwrap();
    let config = CnfptConfig::new(
        server.base_url().join(simulator::PATH).unwrap(),
        simulator::USERNAME.into(),
        SecretString::from(password),
    );
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
