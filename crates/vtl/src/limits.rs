//! Bounds that keep parse and render finite. The first two are API
//! Gateway's documented limits; the rest are ours, chosen so that no template
//! can hang a worker or exhaust its memory.

/// Every bound the engine enforces. `Limits::default()` is API Gateway's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest template source accepted, in bytes (API Gateway: 300 KB).
    pub max_template_bytes: usize,
    /// Iterations allowed in one `#foreach` (API Gateway: 1,000).
    pub max_foreach_iterations: usize,
    /// Iterations allowed across all loops of one render.
    pub max_total_iterations: usize,
    /// Deepest nesting of blocks and expressions the parser accepts.
    pub max_nesting_depth: usize,
    /// Deepest macro call chain at render time.
    pub max_macro_depth: usize,
    /// Largest output (and largest string value) a render may build, in bytes.
    pub max_output_bytes: usize,
    /// Largest list or map a render may build (ranges included).
    pub max_collection_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_template_bytes: 300 * 1024,
            max_foreach_iterations: 1_000,
            max_total_iterations: 100_000,
            max_nesting_depth: 64,
            max_macro_depth: 16,
            max_output_bytes: 10 * 1024 * 1024,
            max_collection_len: 100_000,
        }
    }
}
