//! Generates the Rust types and gRPC stubs from `apigw/config/v1/config.proto` and
//! `apigw/metrics/v1/metrics.proto` and `apigw/logs/v1/logs.proto`.
//! protoc comes from `protoc-bin-vendored` so a fresh machine needs no system package.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    std::env::set_var("PROTOC", protoc);
    println!("cargo:rerun-if-changed=apigw/config/v1/config.proto");
    println!("cargo:rerun-if-changed=apigw/metrics/v1/metrics.proto");
    println!("cargo:rerun-if-changed=apigw/logs/v1/logs.proto");
    // Maps as `BTreeMap`s: a message then encodes to the same bytes every time (a
    // `HashMap` encodes in its own random order), which the node relies on: it reuses a
    // compiled stage when the digest of its re-encoded config is unchanged.
    tonic_prost_build::configure()
        .btree_map(".")
        // The node's view of a `ConfigUpdate`: its stages as `Bytes`, sliced from the
        // received message without a copy.
        .bytes(".apigw.config.v1.LazyConfigUpdate.upsert_stages")
        .compile_protos(
            &[
                "apigw/config/v1/config.proto",
                "apigw/metrics/v1/metrics.proto",
                "apigw/logs/v1/logs.proto",
            ],
            &["."],
        )?;
    Ok(())
}
