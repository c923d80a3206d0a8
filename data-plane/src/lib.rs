//! The data-plane node of the API gateway.
//!
//! It receives deployed stages from the control plane over the `ConfigDiscovery` gRPC
//! stream ([`config_client`]), compiles them into an immutable snapshot ([`compile`],
//! [`state`]) swapped atomically, and serves invoke requests through the request pipeline
//! ([`pipeline`]) on a hyper server ([`server`]). [`node::run`] wires it all together.

pub mod backend_client;
pub mod body;
pub mod cli;
pub mod compile;
pub mod config_client;
pub mod health;
pub mod limits;
pub mod logging;
pub mod node;
pub mod pipeline;
pub mod server;
pub mod state;
pub mod write_batching;
