//! `data-plane`: parse flags, set up logging, run the node until SIGTERM / Ctrl-C.

use clap::Parser;

use apigw_data_plane::cli::Args;
use apigw_data_plane::{logging, node};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    logging::init(args.log_format);
    node::run(args, node::shutdown_signal()).await?;
    Ok(())
}
