//! `distribution::state::Loader` against a real Postgres (a fresh database per test on the
//! machine's server, `TEST_PG_URL` overriding `postgres://postgres@127.0.0.1:5432`): a load
//! reads what changed since the state it starts from and nothing else (issue 22), counted
//! by the loader's own `LoadStats`, and misses nothing whatever the commit order.

mod common;
use common::fresh_db;

use std::sync::Arc;

use apigw_control_plane::distribution::state::{DeployedState, LoadStats, Loader};
use apigw_control_plane::keys::KeyVault;
use apigw_control_plane::store;
use apigw_control_plane::wire::{Deployment, RestApi, Stage, UsagePlan};
use apigw_proto::config as pb;
use prost::Message;
use sqlx::{PgConnection, PgPool};

fn loader(db: &PgPool) -> Loader {
    let vault = Arc::new(KeyVault::from_master_key("loader-test-master-key"));
    Loader::new(db.clone(), vault, "us-east-1".into())
}

/// Stores deployment `deployment` of API `api` and points stage `stage` at it, with stage
/// variable `mark`, in the transaction `conn` is in (the API is created when new).
async fn deploy(conn: &mut PgConnection, api: &str, stage: &str, deployment: &str, mark: &str) {
    let rest_api = RestApi {
        id: api.into(),
        name: api.into(),
        ..RestApi::default()
    };
    store::rest_apis::save(conn, &rest_api).await.unwrap();
    let snapshot = pb::DeploymentSnapshot {
        api_id: api.into(),
        deployment_id: deployment.into(),
        ..Default::default()
    };
    let d = Deployment {
        id: deployment.into(),
        description: None,
        created_date: 1,
        api_summary: None,
    };
    store::deployments::insert(conn, api, &d, &snapshot.encode_to_vec())
        .await
        .unwrap();
    let doc = Stage {
        stage_name: stage.into(),
        deployment_id: deployment.into(),
        variables: [("mark".to_string(), mark.to_string())].into(),
        ..Stage::default()
    };
    store::stages::save(conn, api, &doc).await.unwrap();
}

async fn deploy_now(db: &PgPool, api: &str, stage: &str, deployment: &str, mark: &str) {
    let mut tx = db.begin().await.unwrap();
    deploy(&mut tx, api, stage, deployment, mark).await;
    tx.commit().await.unwrap();
}

async fn plan_now(db: &PgPool, id: &str, name: &str) {
    let mut tx = db.begin().await.unwrap();
    let plan = UsagePlan {
        id: id.into(),
        name: name.into(),
        ..UsagePlan::default()
    };
    store::usage_plans::save(&mut tx, &plan).await.unwrap();
    tx.commit().await.unwrap();
}

fn mark(state: &DeployedState, api: &str) -> Option<String> {
    state
        .stages
        .get(&(api.to_string(), "prod".to_string()))
        .map(|e| e.config.variables.get("mark").cloned().unwrap_or_default())
}

/// What moved between two readings of the loader's counters.
fn moved(before: LoadStats, after: LoadStats) -> LoadStats {
    LoadStats {
        loads: after.loads - before.loads,
        stage_rows: after.stage_rows - before.stage_rows,
        stage_key_scans: after.stage_key_scans - before.stage_key_scans,
        usage_reads: after.usage_reads - before.usage_reads,
        iam_reads: after.iam_reads - before.iam_reads,
        v2_reads: after.v2_reads - before.v2_reads,
        domain_reads: after.domain_reads - before.domain_reads,
    }
}

fn one_load(stage_rows: u64) -> LoadStats {
    LoadStats {
        loads: 1,
        stage_rows,
        ..LoadStats::default()
    }
}

#[tokio::test]
async fn a_load_reads_only_what_changed() {
    let db = fresh_db().await;
    for i in 0..20 {
        deploy_now(&db, &format!("api{i:02}"), "prod", "d0", "0").await;
    }
    let mut loader = loader(&db);
    let first = loader.load(&DeployedState::default()).await.unwrap();
    assert_eq!(first.stages.len(), 20);
    let stats = loader.stats();
    assert_eq!(stats.stage_rows, 20);
    assert_eq!(
        (
            stats.usage_reads,
            stats.iam_reads,
            stats.v2_reads,
            stats.domain_reads
        ),
        (1, 1, 1, 1),
        "the first load reads every section"
    );

    // Nothing changed: nothing read, the same state.
    let before = loader.stats();
    let same = loader.load(&first).await.unwrap();
    assert_eq!(moved(before, loader.stats()), one_load(0));
    assert_eq!(same.version, first.version);
    assert!(Arc::ptr_eq(&same.stages, &first.stages));
    assert!(same.delta_from(&first, "n".into()).is_none());

    // One more deployment of one API: one stage row read, no section.
    deploy_now(&db, "api07", "prod", "d1", "1").await;
    let before = loader.stats();
    let second = loader.load(&same).await.unwrap();
    assert_eq!(moved(before, loader.stats()), one_load(1));
    assert!(second.version > first.version);
    assert_eq!(mark(&second, "api07").as_deref(), Some("1"));
    assert_eq!(mark(&second, "api08").as_deref(), Some("0"));
    let delta = second.delta_from(&same, "n".into()).unwrap();
    let upserts: Vec<_> = delta
        .upsert_stages
        .iter()
        .map(|s| (s.api_id.as_str(), s.deployment_id.as_str()))
        .collect();
    assert_eq!(upserts, [("api07", "d1")]);
    assert!(delta.remove_stages.is_empty() && delta.usage.is_none());
    // The other stages' entries are the previous state's, not rebuilt.
    let untouched = ("api08".to_string(), "prod".to_string());
    assert!(Arc::ptr_eq(
        &second.stages[&untouched].config,
        &first.stages[&untouched].config
    ));

    // A deleted stage disappears (the row count shows it; the keys are read once).
    let mut tx = db.begin().await.unwrap();
    store::stages::delete(&mut tx, "api03", "prod")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let before = loader.stats();
    let third = loader.load(&second).await.unwrap();
    assert_eq!(
        moved(before, loader.stats()),
        LoadStats {
            stage_key_scans: 1,
            ..one_load(0)
        }
    );
    assert_eq!(third.stages.len(), 19);
    assert_eq!(mark(&third, "api03"), None);
    let delta = third.delta_from(&second, "n".into()).unwrap();
    assert!(delta.upsert_stages.is_empty());
    assert_eq!(delta.remove_stages.len(), 1);
    assert_eq!(delta.remove_stages[0].api_id, "api03");

    // A stage deleted and another created in one transaction: the count alone would not
    // tell, the new row and the key read do.
    let mut tx = db.begin().await.unwrap();
    store::stages::delete(&mut tx, "api04", "prod")
        .await
        .unwrap();
    deploy(&mut tx, "api04", "beta", "d0b", "b").await;
    tx.commit().await.unwrap();
    let fourth = loader.load(&third).await.unwrap();
    assert_eq!(fourth.stages.len(), 19);
    assert_eq!(mark(&fourth, "api04"), None);
    assert!(fourth
        .stages
        .contains_key(&("api04".to_string(), "beta".to_string())));
}

#[tokio::test]
async fn a_section_is_read_when_its_tables_change_and_only_then() {
    let db = fresh_db().await;
    for i in 0..5 {
        deploy_now(&db, &format!("api{i}"), "prod", "d0", "0").await;
    }
    let mut loader = loader(&db);
    let s0 = loader.load(&DeployedState::default()).await.unwrap();
    assert!(s0.usage.usage_plans.is_empty());

    // A usage plan: the usage section is read, no stage row.
    plan_now(&db, "plan1", "one").await;
    let before = loader.stats();
    let s1 = loader.load(&s0).await.unwrap();
    assert_eq!(
        moved(before, loader.stats()),
        LoadStats {
            usage_reads: 1,
            ..one_load(0)
        }
    );
    assert_eq!(s1.usage.usage_plans.len(), 1);
    let delta = s1.delta_from(&s0, "n".into()).unwrap();
    assert!(delta.usage.is_some() && delta.upsert_stages.is_empty());

    // An unrelated stage change: one stage row, the usage section shared, not read.
    deploy_now(&db, "api2", "prod", "d1", "1").await;
    let before = loader.stats();
    let s2 = loader.load(&s1).await.unwrap();
    assert_eq!(moved(before, loader.stats()), one_load(1));
    assert!(Arc::ptr_eq(&s2.usage, &s1.usage));
    let delta = s2.delta_from(&s1, "n".into()).unwrap();
    assert!(delta.usage.is_none() && delta.upsert_stages.len() == 1);

    // The plan updated, then deleted: each is picked up.
    plan_now(&db, "plan1", "renamed").await;
    plan_now(&db, "plan2", "two").await;
    let s3 = loader.load(&s2).await.unwrap();
    assert_eq!(s3.usage.usage_plans.len(), 2);
    let mut tx = db.begin().await.unwrap();
    store::usage_plans::delete(&mut tx, "plan2").await.unwrap();
    tx.commit().await.unwrap();
    let before = loader.stats();
    let s4 = loader.load(&s3).await.unwrap();
    assert_eq!(moved(before, loader.stats()).usage_reads, 1);
    let ids: Vec<_> = s4.usage.usage_plans.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, ["plan1"]);
    assert!(s4.version > s3.version);
}

#[tokio::test]
async fn a_change_that_commits_after_a_later_one_is_not_lost() {
    let db = fresh_db().await;
    deploy_now(&db, "early", "prod", "d0", "0").await;
    deploy_now(&db, "late", "prod", "d0", "0").await;
    plan_now(&db, "plan0", "zero").await;
    let mut loader = loader(&db);
    let s0 = loader.load(&DeployedState::default()).await.unwrap();

    // `early` writes first (the smaller transaction id and config version), `late`
    // writes and commits; a load runs; only then does `early` commit.
    let mut early = db.begin().await.unwrap();
    deploy(&mut early, "early", "prod", "d1", "1").await;
    plan_now(&db, "plan-late", "late").await; // its own transaction, committed
    let mut early_plan = db.begin().await.unwrap();
    let plan = UsagePlan {
        id: "plan-early".into(),
        name: "early".into(),
        ..UsagePlan::default()
    };
    store::usage_plans::save(&mut early_plan, &plan)
        .await
        .unwrap();
    deploy_now(&db, "late", "prod", "d1", "1").await;
    let s1 = loader.load(&s0).await.unwrap();
    assert_eq!(mark(&s1, "late").as_deref(), Some("1"));
    assert_eq!(
        mark(&s1, "early").as_deref(),
        Some("0"),
        "not committed yet"
    );
    assert_eq!(s1.usage.usage_plans.len(), 2);
    early.commit().await.unwrap();
    early_plan.commit().await.unwrap();

    let s2 = loader.load(&s1).await.unwrap();
    assert_eq!(mark(&s2, "early").as_deref(), Some("1"));
    assert_eq!(mark(&s2, "late").as_deref(), Some("1"));
    let key = |api: &str| (api.to_string(), "prod".to_string());
    assert!(
        s2.stages[&key("early")].fingerprint < s2.stages[&key("late")].fingerprint,
        "the change read last has the smaller marker: a `> last seen` read would lose it"
    );
    let mut plans: Vec<_> = s2.usage.usage_plans.iter().map(|p| p.id.as_str()).collect();
    plans.sort();
    assert_eq!(plans, ["plan-early", "plan-late", "plan0"]);
    let delta = s2.delta_from(&s1, "n".into()).unwrap();
    assert_eq!(delta.upsert_stages.len(), 1);
    assert_eq!(delta.upsert_stages[0].api_id, "early");
    assert!(delta.usage.is_some());

    // And a state loaded from scratch now is the same content.
    let fresh = loader.load(&DeployedState::default()).await.unwrap();
    assert!(fresh.same_content(&s2));
    for (k, e) in fresh.stages.iter() {
        assert_eq!(s2.stages[k].fingerprint, e.fingerprint);
        assert_eq!(*s2.stages[k].config, *e.config);
    }
    assert_eq!(*fresh.usage, *s2.usage);
}
