//! The `ConfigDiscovery` gRPC service: one long-lived stream per data-plane node.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use apigw_proto::config as pb;
use apigw_proto::config::config_discovery_server::ConfigDiscovery;
use futures::Stream;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use super::state::DeployedState;

/// What a node last told us.
#[derive(Debug, Clone, Default)]
pub struct NodeStatus {
    /// Version the node serves.
    pub applied_version: u64,
    /// Last rejection, if the latest update was rejected.
    pub last_error: Option<String>,
    /// Whether the node's stream is open.
    pub connected: bool,
}

/// The service, shared by all streams.
#[derive(Clone)]
pub struct ConfigService {
    state: watch::Receiver<Arc<DeployedState>>,
    nodes: Arc<Mutex<HashMap<String, NodeStatus>>>,
    /// This cluster's id, sent as the stream's `apigw-cluster-id` metadata.
    cluster_id: Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>,
}

impl ConfigService {
    /// A service publishing what `state` holds.
    pub fn new(state: watch::Receiver<Arc<DeployedState>>) -> Self {
        Self {
            state,
            nodes: Arc::default(),
            cluster_id: None,
        }
    }

    /// The service naming `cluster_id` to every node ([`crate::cluster`]).
    pub fn with_cluster_id(mut self, cluster_id: &str) -> Self {
        self.cluster_id = cluster_id.parse().ok();
        self
    }

    /// The nodes seen by this replica and what they serve.
    pub fn nodes(&self) -> HashMap<String, NodeStatus> {
        self.nodes.lock().map(|n| n.clone()).unwrap_or_default()
    }

    fn record(&self, node_id: &str, f: impl FnOnce(&mut NodeStatus)) {
        if let Ok(mut nodes) = self.nodes.lock() {
            f(nodes.entry(node_id.to_string()).or_default());
        }
    }
}

type UpdateStream = Pin<Box<dyn Stream<Item = Result<pb::ConfigUpdate, Status>> + Send>>;

#[tonic::async_trait]
impl ConfigDiscovery for ConfigService {
    type StreamStream = UpdateStream;

    async fn stream(
        &self,
        request: Request<Streaming<pb::NodeMessage>>,
    ) -> Result<Response<Self::StreamStream>, Status> {
        let mut inbound = request.into_inner();
        let hello = match tokio::time::timeout(Duration::from_secs(10), inbound.message()).await {
            Ok(Ok(Some(pb::NodeMessage {
                msg: Some(pb::node_message::Msg::Hello(h)),
            }))) => h,
            _ => {
                return Err(Status::invalid_argument(
                    "the first message must be a Hello",
                ))
            }
        };
        if hello.node_id.is_empty() {
            return Err(Status::invalid_argument("Hello.node_id must be set"));
        }
        tracing::info!(node = %hello.node_id, last_applied = hello.last_applied_version, "node connected");
        let (tx, rx) = mpsc::channel(8);
        let service = self.clone();
        tokio::spawn(async move {
            service.serve_node(hello.node_id, inbound, tx).await;
        });
        let mut response: Response<Self::StreamStream> =
            Response::new(Box::pin(ReceiverStream::new(rx)));
        if let Some(id) = &self.cluster_id {
            response
                .metadata_mut()
                .insert(crate::cluster::METADATA_KEY, id.clone());
        }
        Ok(response)
    }
}

impl ConfigService {
    /// Sends the full state, then a delta per change, until the node goes away.
    async fn serve_node(
        self,
        node_id: String,
        mut inbound: Streaming<pb::NodeMessage>,
        tx: mpsc::Sender<Result<pb::ConfigUpdate, Status>>,
    ) {
        self.record(&node_id, |s| s.connected = true);
        let mut watch = self.state.clone();
        let mut sent: Option<Arc<DeployedState>> = None;
        'stream: loop {
            let current = watch.borrow_and_update().clone();
            let nonce = uuid::Uuid::new_v4().to_string();
            let update = match &sent {
                None => Some(current.full_update(nonce)),
                Some(prev) => current.delta_from(prev, nonce),
            };
            if let Some(u) = update {
                tracing::debug!(node = %node_id, version = u.version, full = u.full, "sending config");
                if tx.send(Ok(u)).await.is_err() {
                    break;
                }
            }
            sent = Some(current);
            loop {
                tokio::select! {
                    changed = watch.changed() => {
                        if changed.is_err() { break 'stream; }
                        continue 'stream;
                    }
                    msg = inbound.message() => match msg {
                        Ok(Some(pb::NodeMessage { msg: Some(pb::node_message::Msg::Ack(ack)) })) => {
                            if ack.accepted {
                                tracing::debug!(node = %node_id, version = ack.version, "node applied config");
                            } else {
                                tracing::warn!(node = %node_id, version = ack.version, error = %ack.error,
                                    applied = ack.applied_version, "node rejected config");
                            }
                            self.record(&node_id, |s| {
                                s.applied_version = ack.applied_version;
                                s.last_error = (!ack.accepted).then_some(ack.error.clone());
                            });
                        }
                        Ok(Some(_)) => {}
                        Ok(None) | Err(_) => break 'stream,
                    },
                }
            }
        }
        self.record(&node_id, |s| s.connected = false);
        tracing::info!(node = %node_id, "node disconnected");
    }
}
