//! A private Redis the test owns (`redis-server` on a harness port, no persistence): a test
//! can SIGKILL it and start it again, empty, on the same port without touching the
//! machine's shared Redis or any other test.

use std::time::Duration;

use tokio::process::{Child, Command};

use crate::eventually;

/// A running private `redis-server`.
pub struct RedisServer {
    /// Its port.
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts `redis-server --port {port} --save '' --appendonly no` and waits for PING.
    pub async fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("starting redis-server (is it installed?): {e}"));
        let url = format!("redis://127.0.0.1:{port}");
        eventually(
            "the private Redis answering PING",
            Duration::from_secs(10),
            || {
                let url = url.clone();
                async move { ping(&url).await.then_some(()) }
            },
        )
        .await;
        Self {
            port,
            child: Some(child),
        }
    }

    /// `redis://127.0.0.1:{port}`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// SIGKILLs it (everything it held is gone: it persists nothing) and waits for the exit.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }

    /// Kills it and starts an empty one on the same port.
    pub async fn restart(&mut self) {
        self.kill().await;
        *self = Self::start(self.port).await;
    }
}

/// Whether the Redis at `url` answers PING within 2 s.
pub async fn ping(url: &str) -> bool {
    let Ok(client) = redis::Client::open(url) else {
        return false;
    };
    let pong = async {
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), pong).await,
        Ok(Some(p)) if p == "PONG"
    )
}
