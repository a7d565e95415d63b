//! A test-only eighth partner, to show that a partner is one folder: a
//! campus's catalogue of apprenticeship programmes, one JSON document with
//! an `ETag`, synced. Its identity, what sets its feed apart, its simulator
//! and its mapping file (`formation.toml`) are here; the registry that
//! knows it is built by its test (`Registry::standard().with(KIND)`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use passerelle_connectors::feed::{FeedConfig, FeedSpec};
use passerelle_connectors::registry::{Kind, MissingMapping};
use passerelle_connectors::sandbox::cfas::Cfa;
use passerelle_connectors::sandbox::faults::faulty;
use passerelle_connectors::sandbox::{document, Faults, FeedSimulator, SandboxData};
use passerelle_connectors::Source;
use passerelle_mappings::Catalog;
use passerelle_schema::{Formation, Partner, PartnerInfo, PartnerMode};

/// The campus.
pub const PARTNER: Partner = Partner::of(&PartnerInfo {
    id: "campus",
    api_name: "CAMPUS",
    name: "Campus des métiers — formations en apprentissage",
    about: "A campus's catalogue of programmes (a test partner).",
    mode: PartnerMode::Synced,
});

/// The campus's catalogue.
pub struct Campus;

/// Where its simulator serves the catalogue.
const PATH: &str = "/catalogue.json";

impl FeedSpec for Campus {
    type Entity = Formation;
    const PARTNER: Partner = PARTNER;
    const URL_KEY: &'static str = "catalogue_url";
    const INTERVAL: Duration = Duration::from_secs(12 * 3600);
    const MAPPINGS: &'static [(&'static str, &'static str)] =
        &[("campus/formation.toml", include_str!("formation.toml"))];

    fn sources(
        config: &FeedConfig<Self>,
        catalog: &Catalog,
    ) -> Result<Vec<Source>, MissingMapping> {
        Ok(vec![Source::Formations(config.synced(catalog)?)])
    }
}

/// Its simulator, for the sandbox: the catalogue of the first CFAs.
impl FeedSimulator for Campus {
    const PATH: &'static str = PATH;

    fn router(data: &SandboxData, faults: Faults) -> axum::Router {
        let body = catalogue(&data.cfas[..data.cfas.len().min(PROGRAMMES)]);
        faulty(
            axum::Router::new()
                .route(PATH, get(serve))
                .with_state(Arc::new(body)),
            faults,
        )
    }
}

/// The campus's registration.
pub const KIND: Kind<Campus> = Kind::new();

/// How many programmes the simulator serves, at most.
pub const PROGRAMMES: usize = 12;

/// The catalogue: one programme per CFA, the last one without a title,
/// which the mapping rejects.
fn catalogue(cfas: &[Cfa]) -> Vec<u8> {
    let programmes: Vec<serde_json::Value> = cfas
        .iter()
        .enumerate()
        .map(|(i, cfa)| {
            let title =
                (i + 1 < cfas.len()).then(|| format!("Titre professionnel — {}", cfa.romes[0]));
            serde_json::json!({
                "ref": format!("CAMPUS-{:03}", i + 1),
                "intitule": title,
                "niveau": 4,
                "rome": [cfa.romes[0]],
                "organisme": { "siret": cfa.siret, "uai": cfa.uai, "nom": cfa.name },
                "commune_insee": cfa.commune.code,
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({ "formations": programmes })).expect("JSON")
}

async fn serve(State(body): State<Arc<Vec<u8>>>, headers: HeaderMap) -> Response {
    let tag = document::etag(&body);
    document::conditional(&headers, body.to_vec().into(), &tag, "application/json")
}

#[cfg(test)]
mod tests {
    use passerelle_connectors::Registry;
    use serde_json::json;

    use crate::helpers::{spawn_app_on, SMALL};

    #[tokio::test]
    async fn a_partner_added_as_one_folder_is_served_like_the_others() {
        let app = spawn_app_on(Registry::standard().with(super::KIND), SMALL, "").await;
        // The API names it.
        assert!(app.sdl.contains("CAMPUS"), "the PartnerId enum lists it");

        // `partners`, after the seven shipped ones.
        let data = app
            .data(
                "{ partners { id name mode status recordCount } }",
                json!({}),
            )
            .await;
        let partners = data["partners"].as_array().unwrap();
        assert_eq!(partners.len(), 8, "{data}");
        let campus = &partners[7];
        assert_eq!(campus["id"], "CAMPUS");
        assert_eq!(campus["mode"], "SYNCED");
        // One programme of the catalogue has no title: rejected, the
        // others served.
        let served = super::PROGRAMMES as u64 - 1;
        assert_eq!(campus["recordCount"], served, "{campus}");
        // A sync with a record rejected leaves the partner `DEGRADED`,
        // as a live partner's answer with one would.
        assert_eq!(campus["status"], "DEGRADED", "{campus}");

        // Readiness.
        let ready: serde_json::Value = app
            .client
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["ready"], true, "{ready}");
        assert_eq!(ready["partners"]["campus"]["records"], served, "{ready}");
        // Its syncs are recorded, the rejected programme named.
        let data = app
            .data_bi(
                "{ partners { id lastSync { outcome records rejected rejections { partnerId field } } } }",
                json!({}),
            )
            .await;
        let sync = &data["partners"][7]["lastSync"];
        assert_eq!(sync["outcome"], "updated", "{sync}");
        assert_eq!(sync["rejected"], 1, "{sync}");
        assert_eq!(sync["rejections"][0]["field"], "title", "{sync}");

        // Its entity's queries: the catalogue's programmes among the
        // Carif-Oref's, and in the CFAs' pages.
        let data = app
            .data(
                "{ formations(first: 1000) { totalCount nodes { source title cfa { uai } } } }",
                json!({}),
            )
            .await;
        let nodes = data["formations"]["nodes"].as_array().unwrap();
        let own: Vec<_> = nodes.iter().filter(|n| n["source"] == "CAMPUS").collect();
        assert_eq!(own.len() as u64, served, "{data}");
        assert!(nodes.iter().any(|n| n["source"] == "CARIF"));
        let uai = own[0]["cfa"]["uai"].as_str().unwrap();
        let data = app
            .data(
                "query($uai: String!) { cfa(uai: $uai) { formations(first: 100) { nodes { source } } } }",
                json!({ "uai": uai }),
            )
            .await;
        let programmes = data["cfa"]["formations"]["nodes"].as_array().unwrap();
        assert!(programmes.iter().any(|p| p["source"] == "CAMPUS"), "{data}");

        // The sandbox's routes: a sync now, and its faults.
        let sync = app
            .client
            .post(app.url("/_sandbox/campus/sync"))
            .send()
            .await
            .unwrap();
        assert_eq!(sync.status(), 200);
        let runs: serde_json::Value = sync.json().await.unwrap();
        assert_eq!(runs[0]["outcome"], "not_modified", "{runs}");
        let faults = app
            .client
            .get(app.url("/_sandbox/campus/faults"))
            .send()
            .await
            .unwrap();
        assert_eq!(faults.status(), 200);
    }

    #[tokio::test]
    async fn the_shipped_schema_does_not_know_a_test_partner() {
        let app = spawn_app_on(Registry::standard(), SMALL, "").await;
        assert!(!app.sdl.contains("CAMPUS"));
    }
}
