//! `Policy::evaluate` runs per request: it must not allocate. A counting global allocator
//! (this test binary only) checks it, counting only the allocations of the thread under
//! test while it is measuring, so the test harness's own threads cannot disturb it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use apigw_iam_policy::{
    parse_authorizer_policy, CompileContext, Decision, EvalRequest, FnContext, Policy,
};
use serde_json::json;

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if MEASURING.try_with(Cell::get).unwrap_or(false) {
            ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn evaluate_does_not_allocate() {
    let ctx = CompileContext {
        region: "us-east-1",
        account_id: "123456789012",
        api_id: "abc",
    };
    let policy = Policy::from_value(
        &json!({"Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ["111122223333",
                "arn:aws:iam::444455556666:role/team/Deployer"]},
             "Action": "execute-api:*", "Resource": "execute-api:/*/GET/pets/*"},
            {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
             "Resource": ["execute-api:/prod/*/open/?", "execute-api:/*"],
             "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]},
                           "StringLike": {"aws:UserAgent": "*boto*"}}},
            {"Effect": "Deny", "Principal": "*", "NotAction": "execute-api:Invoke",
             "NotResource": "execute-api:/*/OPTIONS/*",
             "Condition": {"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}}
        ]}),
        &ctx,
    )
    .unwrap();
    let authorizer = parse_authorizer_policy(&json!({"Statement": [
        {"Effect": "Allow", "Action": "execute-api:Invoke",
         "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc/*/GET/*"}
    ]}))
    .unwrap();

    let arn = "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/pets/12";
    let pairs = [
        ("aws:UserAgent", "Boto3/1.0 botocore"),
        ("aws:SourceVpce", "vpce-1"),
    ];
    let closure = FnContext::new(|k| (k == "aws:useragent").then_some("curl/8"));
    let requests = [
        EvalRequest::invoke(arn),
        EvalRequest::invoke(arn).with_principal("arn:aws:iam::111122223333:user/a"),
        EvalRequest::invoke(arn)
            .with_principal("arn:aws:sts::444455556666:assumed-role/Deployer/s")
            .with_source_ip("2001:db8::1".parse().unwrap()),
        EvalRequest::invoke(arn)
            .with_source_ip("::ffff:192.0.2.1".parse().unwrap())
            .with_context(&pairs),
        EvalRequest::invoke(arn)
            .with_source_ip("192.0.2.1".parse().unwrap())
            .with_context(&closure),
    ];
    let mut decisions = [Decision::NotApplicable; 5];

    MEASURING.with(|m| m.set(true));
    for _ in 0..100 {
        for (d, req) in decisions.iter_mut().zip(&requests) {
            *d = policy.evaluate(req);
            let _ = authorizer.evaluate(req);
        }
    }
    MEASURING.with(|m| m.set(false));

    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst), 0, "evaluate allocated");
    assert_eq!(
        decisions,
        [
            Decision::NotApplicable,
            Decision::Allow,
            Decision::Allow,
            Decision::Allow,
            Decision::NotApplicable,
        ]
    );
}
