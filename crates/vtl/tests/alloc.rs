//! A parsed template's render allocates nothing per reference lookup: looking
//! up body JSON, `$foreach` state, `$context` and `$stageVariables` borrows
//! instead of copying. Measured with a counting global allocator: a template
//! doing 1,000 lookups must allocate exactly as often as one doing 10.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use vtl::{RenderInput, Template};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwards the caller's layout to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as `GlobalAlloc::realloc`, forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations(template: &Template, input: &RenderInput) -> usize {
    let before = ALLOCS.load(Ordering::Relaxed);
    let out = template.render(input).expect("renders");
    let after = ALLOCS.load(Ordering::Relaxed);
    drop(out);
    after - before
}

#[test]
fn lookups_do_not_allocate() {
    let input = RenderInput {
        body: r#"{"a":{"b":"x","n":1},"items":[{"id":"i1"},{"id":"i2"}]}"#.into(),
        context: serde_json::json!({"stage": "prod", "identity": {"sourceIp": "192.0.2.1"}}),
        stage_variables: [("v".to_string(), "s".to_string())].into(),
        ..Default::default()
    };
    // Each repetition does several lookups whose output is shorter than
    // their source, so the output buffer (sized from the source) never grows.
    let unit = "$r.a.b$r.a.n$context.stage$context.identity.sourceIp$stageVariables.v\
                #foreach($i in $r.items)$i.id$foreach.index$velocityCount#end";
    let make = |n: usize| {
        Template::parse(&format!("#set($r = $input.path('$')){}", unit.repeat(n))).expect("parses")
    };
    let (small, large) = (make(10), make(1000));
    // Warm up once (lazy statics in std, first-use paths).
    allocations(&small, &input);
    let a_small = allocations(&small, &input);
    let a_large = allocations(&large, &input);
    assert_eq!(
        a_small, a_large,
        "10 vs 1000 repetitions: allocations must not grow with lookups"
    );
}
