//! `data-plane`: parse flags, set up logging, build the runtime, run the node until
//! SIGTERM / Ctrl-C.

use clap::Parser;

use apigw_data_plane::cli::Args;
use apigw_data_plane::{logging, node};

/// mimalloc: the hot path allocates a few small buffers per request, and glibc's malloc
/// was a measurable share of a proxied request's CPU (see bench/).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(args.log_format);
    // One thread: a current-thread runtime (no work-stealing); more: the multi-threaded
    // one, which also honours TOKIO_WORKER_THREADS when the flag is not given.
    let runtime = match args.worker_threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?,
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(usize::from(n))
            .enable_all()
            .build()?,
        None => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?,
    };
    runtime.block_on(node::run(args, node::shutdown_signal()))?;
    Ok(())
}
