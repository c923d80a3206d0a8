//! The `functions/` development host (a Lambda-compatible Invoke API running the example
//! handlers in `functions/examples` as local Python and Node processes), started per test.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running functions host.
pub struct FunctionsHost {
    _child: Child,
    /// Its Invoke API base URL (nodes' and the control plane's `FUNCTIONS_URL`).
    pub url: String,
}

impl FunctionsHost {
    /// Starts the host on a free port and waits for it to announce the port.
    pub async fn start() -> Self {
        Self::start_with_env(&[]).await
    }

    /// How many times `function` has run (the host's `GET /invocations`).
    pub async fn invocations(&self, function: &str) -> u64 {
        let counts: serde_json::Value = reqwest::get(format!("{}/invocations", self.url))
            .await
            .expect("GET /invocations")
            .json()
            .await
            .expect("invocation counts");
        counts[function].as_u64().unwrap_or(0)
    }
}

impl FunctionsHost {
    /// Starts the host with extra environment variables, which its functions inherit
    /// (e.g. the WebSocket chat function's state directory and access key).
    pub async fn start_with_env(env: &[(&str, String)]) -> Self {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut child = Command::new("python3")
            .arg(root.join("functions/host.py"))
            .args(["--port", "0", "--dir"])
            .arg(root.join("functions/examples"))
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::piped())
            .stderr(if std::env::var("E2E_LOG").is_ok() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("starting functions/host.py");
        let stdout = child.stdout.take().expect("host stdout");
        let mut line = String::new();
        tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await
        .expect("the functions host announces its port")
        .expect("reading the functions host's stdout");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("`listening on URL`")
            .to_string();
        FunctionsHost { _child: child, url }
    }
}
