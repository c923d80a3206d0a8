//! Issue 22's memory breakdown: what a node holds per deployed REST API of the scale
//! generator's shape (`tests/src/scale.rs`: 20 resources, 30 MOCK methods with request and
//! response templates, a usage plan), counted with a counting global allocator (this test
//! binary only; the node runs mimalloc).
//!
//! `cargo test -p apigw-data-plane --test memory -- --nocapture` prints the breakdown
//! and the peak while a node applies a full update (docs/scale.md quotes both); the tests
//! assert ceilings per API so a regression shows. The counters are global: the tests take
//! turns ([`SERIAL`]).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

use std::time::Duration;

use apigw_data_plane::metrics::series::Observation;
use apigw_data_plane::metrics::{current_minute, Registry};
use apigw_data_plane::node_state::Cumulative;
use apigw_gateway::compile::compile_stage;
use apigw_gateway::compile::usage::compile_usage;
use apigw_gateway::state::{apply_lazy_update, apply_update, GatewayState};
use apigw_proto::config as pb;
use prost::Message;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
/// The most `LIVE` has been since [`peak_of`] reset it.
static PEAK: AtomicIsize = AtomicIsize::new(0);
/// One test at a time: the counters are the whole process's.
static SERIAL: Mutex<()> = Mutex::new(());

fn grew(by: isize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        ALLOCS.fetch_add(1, Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Relaxed);
        ALLOCS.fetch_sub(1, Relaxed);
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The difference only (as if grown in place): the peaks below are lower bounds.
        grew(new_size as isize - layout.size() as isize);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Live bytes and live allocations.
fn live() -> (isize, isize) {
    (LIVE.load(Relaxed), ALLOCS.load(Relaxed) as isize)
}

/// What `f`'s result holds once `f` returned (bytes, allocations), and the result.
fn held<T>(f: impl FnOnce() -> T) -> ((isize, isize), T) {
    let before = live();
    let out = f();
    let after = live();
    ((after.0 - before.0, after.1 - before.1), out)
}

/// The most bytes live at once while `f` ran, above what was live before it (bytes), what
/// its result holds (bytes), and the result.
fn peak_of<T>(f: impl FnOnce() -> T) -> (isize, isize, T) {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = f();
    let peak = PEAK.load(Relaxed) - before;
    (peak, LIVE.load(Relaxed) - before, out)
}

const RESOURCES: usize = 20;

/// The resource paths of the generator: `/r0`, `/r0/{id}`, … `/r9/{id}`.
fn paths() -> Vec<String> {
    (0..RESOURCES / 2)
        .flat_map(|k| [format!("/r{k}"), format!("/r{k}/{{id}}")])
        .collect()
}

/// A MOCK integration as the control plane snapshots the generator's import.
fn mock(resource_id: &str, response_template: Option<String>) -> pb::Integration {
    pb::Integration {
        r#type: "MOCK".into(),
        request_templates: [("application/json".into(), "{\"statusCode\": 200}".into())].into(),
        passthrough_behavior: "WHEN_NO_MATCH".into(),
        timeout_in_millis: 29_000,
        cache_namespace: resource_id.into(),
        connection_type: "INTERNET".into(),
        integration_responses: vec![pb::IntegrationResponse {
            status_code: "200".into(),
            response_templates: response_template
                .map(|t| [("application/json".to_string(), t)].into())
                .unwrap_or_default(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

fn method(http_method: &str, integration: pb::Integration, path_param: bool) -> pb::Method {
    pb::Method {
        http_method: http_method.into(),
        authorization_type: "NONE".into(),
        request_parameters: if path_param {
            [("method.request.path.id".to_string(), true)].into()
        } else {
            BTreeMap::new()
        },
        method_responses: vec![pb::MethodResponse {
            status_code: "200".into(),
            ..Default::default()
        }],
        integration: Some(integration),
        ..Default::default()
    }
}

/// API `index` of the generator, deployed to `prod` with `mark = 0`, as a node receives it.
fn stage(index: usize) -> pb::StageConfig {
    let api_id = format!("a{index:09}");
    let name = format!("scale-{index}");
    let mut resources = vec![pb::Resource {
        id: format!("{api_id}root"),
        path: "/".into(),
        ..Default::default()
    }];
    for (i, path) in paths().into_iter().enumerate() {
        let id = format!("{api_id}x{i:02}");
        let mut methods = Vec::new();
        if i % 2 == 0 {
            let template = if i == 0 {
                format!("{{\"api\": \"{name}\", \"mark\": \"$stageVariables.mark\", \"path\": \"$context.resourcePath\"}}")
            } else {
                "{\"path\": \"$context.resourcePath\", \"request\": \"$context.requestId\"}"
                    .to_string()
            };
            methods.push(method("GET", mock(&id, Some(template)), false));
            methods.push(method("POST", mock(&id, None), false));
        } else {
            let template =
                "#set($id = $input.params('id')){\"id\": \"$util.escapeJavaScript($id)\"}";
            methods.push(method("GET", mock(&id, Some(template.into())), true));
        }
        resources.push(pb::Resource {
            id,
            parent_id: format!("{api_id}root"),
            path_part: path.rsplit('/').next().unwrap_or_default().into(),
            path,
            methods,
        });
    }
    pb::StageConfig {
        api_id: api_id.clone(),
        stage_name: "prod".into(),
        deployment_id: format!("d{index:09}"),
        variables: [("mark".to_string(), "0".to_string())].into(),
        deployment: Some(pb::DeploymentSnapshot {
            api_id,
            deployment_id: format!("d{index:09}"),
            api_name: name,
            created_date: 1_700_000_000,
            api_key_source: "HEADER".into(),
            resources,
            format_version: apigw_proto::SNAPSHOT_FORMAT_VERSION,
            minimum_compression_size: -1,
            region: "us-east-1".into(),
            account_id: "000000000000".into(),
            ..Default::default()
        }),
        last_updated_date: 1_700_000_000,
        ..Default::default()
    }
}

/// The generator's usage plan of API `index`.
fn plan(index: usize) -> pb::UsagePlanConfig {
    pb::UsagePlanConfig {
        id: format!("p{index:09}"),
        throttle: Some(pb::ThrottleLimit {
            rate_limit: 1000.0,
            burst_limit: 2000,
        }),
        quota: Some(pb::QuotaLimit {
            limit: 1_000_000,
            offset: 0,
            period: "DAY".into(),
        }),
        api_stages: vec![pb::PlanApiStage {
            api_id: format!("a{index:09}"),
            stage: "prod".into(),
            ..Default::default()
        }],
        created_date: 1_700_000_000,
    }
}

/// Removes every template of a stage (to tell the templates' share).
fn without_templates(mut stage: pb::StageConfig) -> pb::StageConfig {
    for r in &mut stage.deployment.as_mut().unwrap().resources {
        for m in &mut r.methods {
            let i = m.integration.as_mut().unwrap();
            i.request_templates.clear();
            for r in &mut i.integration_responses {
                r.response_templates.clear();
            }
        }
    }
    stage
}

fn kib(bytes: isize, n: usize) -> f64 {
    bytes as f64 / n as f64 / 1024.0
}

#[test]
fn memory_per_scale_api() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const N: usize = 200;
    let stages: Vec<pb::StageConfig> = (0..N).map(stage).collect();
    let encoded: usize = stages.iter().map(prost::Message::encoded_len).sum();
    let (decoded, _) = held(|| stages.clone());

    // One compiled stage at a time, and the same without templates.
    let (compiled, kept) = held(|| {
        stages
            .iter()
            .map(|s| compile_stage(s).unwrap())
            .collect::<Vec<_>>()
    });
    drop(kept);
    let bare: Vec<_> = stages.iter().cloned().map(without_templates).collect();
    let (compiled_bare, kept) = held(|| {
        bare.iter()
            .map(|s| compile_stage(s).unwrap())
            .collect::<Vec<_>>()
    });
    drop(kept);
    drop(bare);

    // The node's state: the stages as one full update, then the usage plans.
    let update = pb::ConfigUpdate {
        version: 1,
        full: true,
        upsert_stages: stages.clone(),
        usage: Some(pb::UsageConfig {
            api_keys: Vec::new(),
            usage_plans: (0..N).map(plan).collect(),
        }),
        ..Default::default()
    };
    drop(stages);
    // With a state directory, what the state file's writer keeps of the stages.
    let (for_file, cumulative) = held(|| {
        let mut c = Cumulative::default();
        c.merge(pb::LazyConfigUpdate::from(update.clone()));
        c
    });
    drop(cumulative);
    let (state_bytes, state) = held(|| apply_update(&GatewayState::default(), &update).unwrap());
    let (usage, usage_kept) = held(|| compile_usage(update.usage.as_ref().unwrap()));
    drop(usage_kept);
    let registry = Registry::new();
    let (series, ()) = held(|| registry.attach(&state));
    // The scale binary measures after one request per API: what that adds to a series.
    let (answered, ()) = held(|| {
        for series in registry.all() {
            series.record(&Observation {
                status: 200,
                response_type: None,
                function_invoked: false,
                latency: Duration::from_micros(300),
                integration_latency: Some(Duration::from_micros(100)),
                minute: current_minute(),
                cache_hit: None,
                data_processed: 0,
            });
        }
    });

    let per = |b: (isize, isize)| {
        format!(
            "{:7.1} KiB {:6.1} allocations",
            kib(b.0, N),
            b.1 as f64 / N as f64
        )
    };
    let after_request = (series.0 + answered.0, series.1 + answered.1);
    let templates = (compiled.0 - compiled_bare.0, compiled.1 - compiled_bare.1);
    println!("per API (N = {N}), bytes requested from the allocator:");
    println!(
        "  StageConfig, encoded (as received)    {:7.1} KiB",
        encoded as f64 / N as f64 / 1024.0
    );
    println!("  StageConfig, decoded (transient)      {}", per(decoded));
    println!("  compiled stage                        {}", per(compiled));
    println!("    of which mapping templates          {}", per(templates));
    println!(
        "  state (compiled stages, maps, digest) {}",
        per(state_bytes)
    );
    println!("  usage plans (compile_usage)           {}", per(usage));
    println!("  metrics series (Registry::attach)     {}", per(series));
    println!(
        "    after one request                   {}",
        per(after_request)
    );
    println!("  state file's fold (with a state dir)  {}", per(for_file));
    println!(
        "  sizes: CompiledMethod {} B, Integration {} B, CompiledStage {} B",
        std::mem::size_of::<apigw_gateway::compile::CompiledMethod>(),
        std::mem::size_of::<apigw_gateway::compile::Integration>(),
        std::mem::size_of::<apigw_gateway::compile::CompiledStage>(),
    );
    let total = state_bytes.0 + after_request.0;
    println!(
        "  served state + series                 {:7.1} KiB",
        kib(total, N)
    );
    // Ceilings with some room over what this measured when written (21.7, 4.5, 6.8 KiB;
    // before issue 22's cuts: 92.2, 37.8, 47.2 KiB), so that a regression shows.
    assert!(kib(state_bytes.0, N) < 30.0, "compiled state per API");
    assert!(kib(after_request.0, N) < 8.0, "metrics series per API");
    assert!(kib(for_file.0, N) < 10.0, "state file's fold per API");
    if std::env::var_os("MEMORY_KEEP_STATE").is_some() {
        // For a heap profiler (`valgrind --tool=dhat`): what is live at exit is the state.
        drop(update);
        std::mem::forget(state);
        std::mem::forget(registry);
    }
}

/// The peak while a node applies a full update of N generator APIs that it received as
/// `wire` (its encoded bytes): decoding the whole update then compiling it (as nodes did
/// before issue 22's lazy decoding), against decoding, compiling and dropping one stage
/// at a time (`apply_lazy_update`, what the config client runs).
#[test]
fn peak_while_applying_a_full_update() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const N: usize = 200;
    let update = pb::ConfigUpdate {
        version: 1,
        full: true,
        upsert_stages: (0..N).map(stage).collect(),
        usage: Some(pb::UsageConfig {
            api_keys: Vec::new(),
            usage_plans: (0..N).map(plan).collect(),
        }),
        ..Default::default()
    };
    let wire = bytes::Bytes::from(update.encode_to_vec());
    let largest_stage = update
        .upsert_stages
        .iter()
        .map(|s| held(|| s.clone()).0 .0)
        .max()
        .unwrap_or_default();
    drop(update);

    let decoded = || {
        let update = pb::ConfigUpdate::decode(wire.clone()).unwrap();
        apply_update(&GatewayState::default(), &update).unwrap()
    };
    let lazily = || {
        // From `Bytes`, as tonic hands the message over: the stages are slices of it.
        let update = pb::LazyConfigUpdate::decode(wire.clone()).unwrap();
        apply_lazy_update(&GatewayState::default(), &update).unwrap()
    };
    // Once unmeasured: what the first compile of a process sets up for good.
    drop(decoded());
    let (peak_before, state_before, state) = peak_of(decoded);
    drop(state);
    let (peak_after, state_after, state) = peak_of(lazily);
    assert_eq!(state.stage_count(), N);
    drop(state);

    let row = |what: &str, bytes: isize| {
        println!(
            "  {what:38} {:9.1} KiB {:7.1} KiB per API",
            bytes as f64 / 1024.0,
            kib(bytes, N)
        );
    };
    println!("applying a full update of N = {N} APIs, bytes requested from the allocator:");
    row("update as received (encoded)", wire.len() as isize);
    println!(
        "  {:38} {:9.1} KiB",
        "largest stage, decoded",
        largest_stage as f64 / 1024.0
    );
    row("peak, decoded whole first (before)", peak_before);
    row("  of which the compiled state", state_before);
    row("peak, one stage at a time (after)", peak_after);
    row("  of which the compiled state", state_after);
    row("  above the state (after)", peak_after - state_after);
    // The decoded update is gone from the peak: what is left above the compiled state
    // (and the received bytes, held by the caller) is one decoded stage, its compile's
    // scratch, the usage section and the state's maps: far below N decoded stages.
    assert!(
        peak_after < peak_before,
        "lazy decoding peaks lower ({peak_after} < {peak_before})"
    );
    assert!(
        peak_after - state_after < 4 * largest_stage + N as isize * 1024,
        "above the state: {} bytes, one decoded stage is {largest_stage}",
        peak_after - state_after
    );
}

/// Not a memory figure: [`Registry::attach`] on a delta hangs series on the new stage's
/// methods and skips the stages attached before (each stage's own series is attached last,
/// so a stage that has one was attached whole).
#[test]
fn attach_after_a_delta_covers_the_new_stage_whole() {
    let full = pb::ConfigUpdate {
        version: 1,
        full: true,
        upsert_stages: (0..3).map(stage).collect(),
        ..Default::default()
    };
    let first = apply_update(&GatewayState::default(), &full).unwrap();
    let registry = Registry::new();
    registry.attach(&first);
    let series_before = registry.all().len();
    let delta = pb::ConfigUpdate {
        version: 2,
        upsert_stages: vec![stage(3)],
        ..Default::default()
    };
    let second = apply_update(&first, &delta).unwrap();
    registry.attach(&second);
    let mut methods = 0;
    for compiled in second.stages().flat_map(|s| s.variants()) {
        assert!(
            compiled.hook_slot.is_set(),
            "{} has no series",
            compiled.api_id
        );
        for resource in compiled.routes.routes() {
            for m in resource.iter() {
                assert!(
                    m.hook_slot.is_set(),
                    "a method of {} has no series",
                    compiled.api_id
                );
                methods += 1;
            }
        }
    }
    assert_eq!(
        methods,
        4 * 30,
        "the generator's 30 methods on each of 4 stages"
    );
    assert!(
        registry.all().len() > series_before,
        "the new stage got series of its own"
    );
}
