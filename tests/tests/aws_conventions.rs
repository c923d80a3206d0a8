//! AWS's conventions on the management API, against a real control plane process
//! (issue 12): what SDKs and tools rely on beyond the shapes of the service model.

use apigw_e2e::{fresh_database, ControlPlane};
use serde_json::json;

async fn control_plane() -> ControlPlane {
    ControlPlane::start(&fresh_database().await.expect("a test database")).await
}

fn assert_uuid(id: &Option<String>, what: &str) -> String {
    let id = id
        .clone()
        .unwrap_or_else(|| panic!("{what}: no x-amzn-RequestId"));
    assert!(
        uuid::Uuid::parse_str(&id).is_ok(),
        "{what}: x-amzn-RequestId {id:?} is not a UUID"
    );
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_fresh_request_id() {
    let cp = control_plane().await;
    let m = cp.mgmt();
    let mut seen = std::collections::HashSet::new();
    let answers = [
        ("a success", m.get("/restapis").await),
        (
            "a creation",
            m.post("/restapis", json!({"name": "ids"})).await,
        ),
        ("a not-found", m.get("/restapis/nope000000").await),
        (
            "a bad request",
            m.post("/restapis", json!({"name": "x", "apiKeySource": "BOGUS"}))
                .await,
        ),
        ("an unknown operation", m.get("/no/such/operation").await),
        (
            "an unsigned call",
            m.call_unsigned("GET", "/restapis").await,
        ),
        (
            "a console API call",
            m.call_unsigned("GET", "/console/api/session").await,
        ),
    ];
    for (what, answer) in &answers {
        assert!(
            seen.insert(assert_uuid(&answer.request_id, what)),
            "{what}: reused id"
        );
    }
    assert_eq!(answers[2].1.status, 404);
    assert_eq!(answers[5].1.status, 403);
}
