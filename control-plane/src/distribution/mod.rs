//! Config distribution: what is deployed, and streaming it to data-plane nodes.
//!
//! [`state`] loads the deployed state (stages with their deployment snapshots, account
//! settings) from Postgres into an immutable [`state::DeployedState`]; [`watcher`] reloads
//! it whenever any control-plane replica commits a change (Postgres `LISTEN/NOTIFY`, with a
//! periodic check as a safety net) and publishes it on a `watch` channel; [`grpc`] serves
//! each node the full state on connect and a delta for every change, like linkerd2's
//! tonic-watch and Envoy's xDS (versions, nonces, ACK/NACK). [`iam`] derives what nodes
//! need to verify AWS_IAM signatures from the access keys. [`publish`] keeps the last
//! deployed state in Redis, where a brand-new node finds it when no control plane answers.

pub mod grpc;
pub mod iam;
pub mod publish;
pub mod state;
pub mod watcher;
