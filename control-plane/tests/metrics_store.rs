//! `store::metrics` against a real Postgres (a fresh database per test on the machine's
//! server, `TEST_PG_URL` overriding `postgres://postgres@127.0.0.1:5432`): exactly-once
//! shipments, concurrent merges, reads by dimension, the roll-up (with a late shipment into
//! a rolled hour) and pruning. Times are chosen relative to the database's clock, never
//! waited for.

mod common;
use common::fresh_db;

use apigw_control_plane::store::metrics::{self as m, MinuteDelta, SeriesFilter, SeriesQuery};
use apigw_sketch::Sketch;
use sqlx::PgPool;

async fn db_now(db: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT extract(epoch FROM now())::bigint")
        .fetch_one(db)
        .await
        .unwrap()
}

fn sketch(values: &[f64]) -> Sketch {
    let mut s = Sketch::new();
    for &v in values {
        s.record(v);
    }
    s
}

fn delta(minute: i64, stage: &str, count: i64, e4: i64, e5: i64, lat: &[f64]) -> MinuteDelta {
    MinuteDelta {
        minute,
        api_id: "abc123".into(),
        api_name: "PetStore".into(),
        stage: stage.into(),
        count,
        error_4xx: e4,
        error_5xx: e5,
        latency: sketch(lat),
        integration_latency: sketch(lat),
        ..MinuteDelta::default()
    }
}

fn query(start: i64, end: i64, period: i64) -> SeriesQuery {
    SeriesQuery {
        api_name: Some("PetStore".into()),
        start,
        end,
        period_seconds: period,
        ..SeriesQuery::default()
    }
}

#[tokio::test]
async fn a_shipment_is_applied_once_and_nodes_add_up() {
    let db = fresh_db().await;
    let now = db_now(&db).await;
    let minute = now - now.rem_euclid(60) - 120;
    let node_a = uuid::Uuid::new_v4();
    let node_b = uuid::Uuid::new_v4();
    let ship_a = vec![
        delta(minute, "prod", 10, 2, 1, &[5.0; 10]),
        delta(minute + 60, "prod", 4, 0, 0, &[50.0; 4]),
    ];
    let out = m::apply_shipment(&db, node_a, "a", 1, ship_a.clone())
        .await
        .unwrap();
    assert_eq!(
        out,
        m::ShipOutcome::Applied {
            applied_seq: 1,
            previous_seq: 0
        }
    );
    let again = m::apply_shipment(&db, node_a, "a", 1, ship_a)
        .await
        .unwrap();
    assert_eq!(again, m::ShipOutcome::AlreadyApplied { applied_seq: 1 });
    // Node b: the same minute, and a detailed row, in one shipment with a repeated key.
    let mut detailed = delta(minute, "prod", 3, 3, 0, &[100.0; 3]);
    detailed.resource = "/pets".into();
    detailed.method = "GET".into();
    let ship_b = vec![
        delta(minute, "prod", 6, 0, 2, &[5.0; 6]),
        delta(minute, "prod", 1, 0, 0, &[5.0]),
        detailed,
    ];
    m::apply_shipment(&db, node_b, "b", 7, ship_b)
        .await
        .unwrap();

    let got = m::series(&db, &query(minute, minute + 120, 60))
        .await
        .unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (
            got[0].start,
            got[0].count,
            got[0].error_4xx,
            got[0].error_5xx
        ),
        (minute, 20, 5, 3)
    );
    assert_eq!(got[0].latency.count(), 20);
    assert_eq!(got[1].count, 4);
    // One bucket over both minutes; the detailed method alone.
    let both = m::series(&db, &query(minute, minute + 120, 120))
        .await
        .unwrap();
    let start = minute.div_euclid(120) * 120;
    let total: u64 = both.iter().map(|b| b.count).sum();
    assert_eq!(total, 24);
    assert!(both.iter().all(|b| b.start % 120 == 0 && b.start >= start));
    let mut per_method = query(minute, minute + 120, 60);
    per_method.stage = Some("prod".into());
    per_method.resource = Some("/pets".into());
    per_method.method = Some("GET".into());
    let got = m::series(&db, &per_method).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].count, got[0].error_4xx), (3, 3));
    let p50 = got[0].latency.quantile(0.5).unwrap();
    assert!((p50 - 100.0).abs() <= 1.0, "p50 {p50}");
    // A method without its resource is no metric.
    per_method.resource = None;
    assert!(m::series(&db, &per_method).await.unwrap().is_empty());
    // Other names or stages see nothing.
    let mut other = query(minute, minute + 120, 60);
    other.stage = Some("beta".into());
    assert!(m::series(&db, &other).await.unwrap().is_empty());

    let keys = m::list_series(
        &db,
        &SeriesFilter {
            since: minute - 60,
            ..SeriesFilter::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(
        (keys[0].resource.as_str(), keys[1].resource.as_str()),
        ("", "/pets")
    );
    // Absurd ranges are clamped, not a database error.
    let all_time = m::series(&db, &query(i64::MIN, i64::MAX, 3600))
        .await
        .unwrap();
    assert_eq!(all_time.iter().map(|b| b.count).sum::<u64>(), 24);
    // Bad periods are refused with a message.
    assert!(matches!(
        m::series(&db, &query(minute, minute + 60, 90)).await,
        Err(m::StoreError::BadQuery(_))
    ));
}

#[tokio::test]
async fn concurrent_shipments_from_many_nodes_neither_deadlock_nor_lose() {
    let db = fresh_db().await;
    let now = db_now(&db).await;
    let minute = now - now.rem_euclid(60) - 600;
    let mut tasks = Vec::new();
    for node in 0..8 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let instance = uuid::Uuid::new_v4();
            for seq in 1..=15i64 {
                // 50 series: 5 stages x 10 minutes, in a node-dependent order.
                let mut series = Vec::new();
                for i in 0..50i64 {
                    let k = (i * 7 + node * 13 + seq) % 50;
                    series.push(delta(
                        minute + (k % 10) * 60,
                        &format!("s{}", k / 10),
                        1,
                        0,
                        0,
                        &[1.0],
                    ));
                }
                m::apply_shipment(&db, instance, "n", seq, series)
                    .await
                    .expect("a shipment");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let got = m::series(&db, &query(minute, minute + 600, 600))
        .await
        .unwrap();
    let total: u64 = got.iter().map(|b| b.count).sum();
    assert_eq!(total, 8 * 15 * 50);
    let lat: u64 = got.iter().map(|b| b.latency.count()).sum();
    assert_eq!(lat, 8 * 15 * 50);

    // How long one 50-series shipment takes against this Postgres (printed, not asserted).
    let instance = uuid::Uuid::new_v4();
    let runs = 20;
    let started = std::time::Instant::now();
    for seq in 1..=runs {
        let series = (0..50i64)
            .map(|i| {
                delta(
                    minute + (i % 10) * 60,
                    &format!("s{}", i / 10),
                    3,
                    1,
                    0,
                    &[1.0, 2.0, 30.0],
                )
            })
            .collect();
        m::apply_shipment(&db, instance, "t", seq, series)
            .await
            .unwrap();
    }
    eprintln!(
        "one 50-series shipment: {:?} on average",
        started.elapsed() / runs as u32
    );
}

#[tokio::test]
async fn roll_up_keeps_hours_whole_even_for_late_shipments_and_prune_keeps_them() {
    let db = fresh_db().await;
    let node = uuid::Uuid::new_v4();
    // The first shipment creates the watermark at the current hour.
    let now = db_now(&db).await;
    let hour = now - now.rem_euclid(3600);
    let first = hour + (now - hour).min(3000) / 60 * 60;
    m::apply_shipment(
        &db,
        node,
        "n",
        1,
        vec![delta(first, "prod", 5, 1, 0, &[10.0; 5])],
    )
    .await
    .unwrap();
    let mut conn = db.acquire().await.unwrap();
    assert_eq!(m::rolled_up_to(&mut conn).await.unwrap(), Some(hour));
    // A minute of the previous hour arrives: before the watermark, so it goes to its hour too.
    m::apply_shipment(
        &db,
        node,
        "n",
        2,
        vec![delta(hour - 60, "prod", 2, 0, 2, &[20.0; 2])],
    )
    .await
    .unwrap();

    // Too early: the hour is not complete 5 minutes after its end.
    let r = m::roll_up(&db, hour + 3600 + 60).await.unwrap();
    assert_eq!((r.locked, r.hours), (true, 0));
    // Four replicas at once: one rolls the hour, the others skip or find nothing to do.
    let replicas: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { m::roll_up(&db, hour + 3600 + 301).await })
        })
        .collect();
    let mut rolled = Vec::new();
    for r in replicas {
        rolled.push(r.await.unwrap().expect("a roll-up"));
    }
    assert_eq!(rolled.iter().map(|r| r.hours).sum::<i64>(), 1, "{rolled:?}");
    let r = rolled.iter().find(|r| r.hours == 1).unwrap();
    assert_eq!((r.rows, r.rolled_up_to), (1, hour + 3600));
    // Idempotent.
    assert_eq!(m::roll_up(&db, hour + 3600 + 301).await.unwrap().hours, 0);
    // A late shipment for the rolled hour reaches it.
    m::apply_shipment(
        &db,
        node,
        "n",
        3,
        vec![delta(first, "prod", 1, 0, 1, &[30.0])],
    )
    .await
    .unwrap();

    // Read as of 20 days later: the hours (and the minutes after the watermark).
    let later = hour + 20 * 86_400;
    let got = m::series_at(&db, &query(hour - 3600, hour + 7200, 3600), later)
        .await
        .unwrap();
    let by_hour: Vec<(i64, u64, u64, u64)> = got
        .iter()
        .map(|b| (b.start, b.count, b.error_4xx, b.error_5xx))
        .collect();
    assert_eq!(
        by_hour,
        vec![(hour - 3600, 2, 0, 2), (hour, 6, 1, 1)],
        "hours as rolled and merged"
    );
    assert_eq!(got[1].latency.count(), 6);
    // Within 15 days, whole hours (read from the hours) and minutes agree.
    let soon = hour + 7200;
    let hourly = m::series_at(&db, &query(hour - 3600, hour + 7200, 3600), soon)
        .await
        .unwrap();
    let minutely = m::series_at(&db, &query(hour - 3600, hour + 7200, 1800), soon)
        .await
        .unwrap();
    let per_hour = |bs: &[m::Bucket]| -> Vec<(i64, u64, u64)> {
        let mut out: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
        for b in bs {
            let e = out.entry(b.start - b.start.rem_euclid(3600)).or_default();
            e.0 += b.count;
            e.1 += b.latency.count();
        }
        out.into_iter().map(|(h, (c, l))| (h, c, l)).collect()
    };
    assert_eq!(per_hour(&hourly), per_hour(&minutely));
    assert_eq!(per_hour(&hourly), vec![(hour - 3600, 2, 2), (hour, 6, 6)]);
    assert!(matches!(
        m::series_at(&db, &query(hour, hour + 3600, 60), later).await,
        Err(m::StoreError::BadQuery(_))
    ));

    // Pruning 16 days later: the minutes go, the hours stay.
    let pruned = m::prune(&db, hour + 16 * 86_400).await.unwrap();
    assert_eq!(pruned.minutes, 2);
    assert_eq!(pruned.hours, 0);
    assert_eq!(pruned.shipments, 1);
    let got = m::series_at(&db, &query(hour - 3600, hour + 7200, 3600), later)
        .await
        .unwrap();
    let total: u64 = got.iter().map(|b| b.count).sum();
    assert_eq!(total, 8);
    // And 16 months later the hours go too.
    let pruned = m::prune(&db, hour + 490 * 86_400).await.unwrap();
    assert_eq!(pruned.hours, 2);
}

/// WebSocket rows (`method` = WEBSOCKET) share the table: REST reads (by name, by stage)
/// leave them out, WebSocket reads (`websocket: true`) read only them, the stage's with its
/// routes' and a route's alone.
#[tokio::test]
async fn websocket_rows_are_read_apart_from_rest_rows() {
    let db = fresh_db().await;
    let now = db_now(&db).await;
    let minute = now - now.rem_euclid(60) - 120;
    let ws = |resource: &str, messages: i64, connects: i64| MinuteDelta {
        minute,
        api_id: "abc123".into(),
        api_name: String::new(),
        stage: "prod".into(),
        resource: resource.into(),
        method: apigw_proto::metrics::WEBSOCKET_METHOD.into(),
        count: messages,
        cache_hit: connects,
        error_4xx: 1,
        ..MinuteDelta::default()
    };
    let mut rest = delta(minute, "prod", 10, 2, 1, &[5.0; 10]);
    rest.api_name = String::new();
    m::apply_shipment(
        &db,
        uuid::Uuid::new_v4(),
        "a",
        1,
        vec![rest, ws("", 5, 2), ws("echo", 4, 0)],
    )
    .await
    .unwrap();
    let read = |q: SeriesQuery| {
        let db = db.clone();
        async move {
            let b = m::series(&db, &q).await.unwrap();
            (
                b.iter().map(|b| b.count).sum::<u64>(),
                b.iter().map(|b| b.cache_hit).sum::<u64>(),
                b.iter().map(|b| b.error_4xx).sum::<u64>(),
            )
        }
    };
    let range = SeriesQuery {
        start: minute,
        end: minute + 60,
        period_seconds: 60,
        ..SeriesQuery::default()
    };
    let rest_by_name = SeriesQuery {
        api_name: Some(String::new()),
        ..range.clone()
    };
    assert_eq!(read(rest_by_name).await, (10, 0, 2));
    let rest_by_id = SeriesQuery {
        api_id: Some("abc123".into()),
        stage: Some("prod".into()),
        ..range.clone()
    };
    assert_eq!(read(rest_by_id).await, (10, 0, 2));
    let ws_stage = SeriesQuery {
        api_id: Some("abc123".into()),
        stage: Some("prod".into()),
        websocket: true,
        ..range.clone()
    };
    assert_eq!(read(ws_stage.clone()).await, (9, 2, 2));
    let ws_route = SeriesQuery {
        resource: Some("echo".into()),
        ..ws_stage
    };
    assert_eq!(read(ws_route).await, (4, 0, 1));
}

/// HTTP API rows (`method` = HTTPAPI) likewise: REST and WebSocket reads leave them out,
/// HTTP API reads (`http_api: true`) read only them (the stage's with its routes', a route's
/// alone), and a read of either v2 kind (both flags, IntegrationLatency by ApiId) reads them.
#[tokio::test]
async fn http_api_rows_are_read_apart_from_rest_and_websocket_rows() {
    let db = fresh_db().await;
    let now = db_now(&db).await;
    let minute = now - now.rem_euclid(60) - 120;
    let row = |method: &str, resource: &str, count: i64, e4: i64| MinuteDelta {
        minute,
        api_id: "abc123".into(),
        api_name: "pets".into(),
        stage: "prod".into(),
        resource: resource.into(),
        method: method.into(),
        count,
        error_4xx: e4,
        ..MinuteDelta::default()
    };
    let http = apigw_proto::metrics::HTTP_API_METHOD;
    let ws = apigw_proto::metrics::WEBSOCKET_METHOD;
    m::apply_shipment(
        &db,
        uuid::Uuid::new_v4(),
        "a",
        1,
        vec![
            row("", "", 100, 0),
            row(ws, "", 1000, 0),
            row(http, "", 3, 1),
            row(http, "GET /pets", 5, 2),
        ],
    )
    .await
    .unwrap();
    let read = |q: SeriesQuery| {
        let db = db.clone();
        async move {
            let b = m::series(&db, &q).await.unwrap();
            (
                b.iter().map(|b| b.count).sum::<u64>(),
                b.iter().map(|b| b.error_4xx).sum::<u64>(),
            )
        }
    };
    let stage = SeriesQuery {
        api_id: Some("abc123".into()),
        stage: Some("prod".into()),
        start: minute,
        end: minute + 60,
        period_seconds: 60,
        ..SeriesQuery::default()
    };
    assert_eq!(read(stage.clone()).await, (100, 0), "REST reads");
    let ws_stage = SeriesQuery {
        websocket: true,
        ..stage.clone()
    };
    assert_eq!(read(ws_stage).await, (1000, 0), "WebSocket reads");
    let http_stage = SeriesQuery {
        http_api: true,
        ..stage.clone()
    };
    assert_eq!(read(http_stage.clone()).await, (8, 3));
    let http_route = SeriesQuery {
        resource: Some("GET /pets".into()),
        ..http_stage
    };
    assert_eq!(read(http_route).await, (5, 2));
    let either = SeriesQuery {
        websocket: true,
        http_api: true,
        ..stage
    };
    assert_eq!(read(either).await, (1008, 3));
}
