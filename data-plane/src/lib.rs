//! The data-plane node of the API gateway: everything around the engine
//! ([`apigw_gateway`]) that makes it a process in a cluster.
//!
//! It receives deployed stages from the control plane over the `ConfigDiscovery` gRPC
//! stream ([`config_client`]), has the engine compile them into the snapshot it swaps
//! atomically, serves invoke requests through the engine on a hyper server ([`server`],
//! with the head limits of [`request_limits`]),
//! answers its own health endpoints ([`health`]), keeps the cluster-wide limits'
//! Redis side ([`limits`]), counts requests for Prometheus and the control plane's
//! per-minute series ([`metrics`]), writes and ships access and execution logs
//! ([`logs`]), and exports the spans of traced stages by OTLP
//! ([`otlp`]), and keeps its last applied config on disk to serve it at the next start
//! ([`node_state`]). [`node::run`] wires it all together.

pub mod authorizer_cache;
pub mod background;
pub mod cli;
pub mod config_client;
pub mod control_plane_tls;
pub mod health;
pub mod limits;
pub mod logging;
pub mod logs;
pub mod metrics;
pub mod node;
pub mod node_state;
pub mod otlp;
pub mod request_limits;
pub mod request_log;
pub mod response_cache;
pub mod server;
pub mod tls;
pub mod websocket;
