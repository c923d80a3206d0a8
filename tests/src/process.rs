//! Starting and stopping the control plane and data-plane nodes as real processes.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::{eventually, free_port, fresh_database, redis_url};

/// The dev access key the control plane is started with in tests.
pub const ACCESS_KEY_ID: &str = "AKIAE2ETESTKEY000001";
/// Its secret.
pub const SECRET_ACCESS_KEY: &str = "e2e-test-secret-access-key-0123456789";
/// The first console admin the control plane is started with in tests.
pub const ADMIN_USER: &str = "admin";
/// Its password.
pub const ADMIN_PASSWORD: &str = "e2e-admin-password-0123";
/// The console session signing key in tests (so tests can forge expired/tampered tokens).
pub const JWT_SECRET: &str = "e2e-console-session-signing-key-0123456789";

/// The Redis key prefix of the cluster whose control plane serves `grpc_url`: unique per
/// control plane (kept across restarts on the same ports), so tests sharing the machine's
/// Redis never see each other's buckets, quotas or usage counters.
pub fn redis_prefix(grpc_url: &str) -> String {
    // A node reaching the control plane over TLS names it `https://`: the same cluster.
    let grpc_url = grpc_url.replacen("https://", "http://", 1);
    static PREFIXES: OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        OnceLock::new();
    let map = PREFIXES.get_or_init(Default::default);
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(grpc_url.to_string())
        .or_insert_with(|| format!("e2e:{}:", uuid::Uuid::new_v4().simple()))
        .clone()
}

/// Builds both binaries (once per test process, or once per nextest run) and returns the
/// directory holding them; `E2E_BIN_DIR` names a directory of binaries built elsewhere
/// instead (nothing is built).
pub fn bin_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        // Binaries built elsewhere (the scale bench runs release ones): used as they are.
        if let Some(dir) = std::env::var_os("E2E_BIN_DIR") {
            return PathBuf::from(dir);
        }
        // target/<profile>/deps/<test binary> -> target/<profile>
        let exe = std::env::current_exe().expect("test binary path");
        let dir = exe
            .parent()
            .and_then(|p| p.parent())
            .expect("target dir")
            .to_path_buf();
        let release = dir.file_name().is_some_and(|n| n == "release");
        // nextest runs each test as its own process: build once per run, not per test.
        // The first process of a run builds under a lock and leaves a mark; the others
        // wait for the lock and find the mark.
        let run_mark = std::env::var("NEXTEST_RUN_ID").ok().map(|run| {
            let lock =
                std::fs::File::create(dir.join("e2e-binaries.lock")).expect("the build lock file");
            lock.lock().expect("the build lock");
            (lock, dir.join(format!("e2e-binaries-built-{run}")))
        });
        if run_mark.as_ref().is_some_and(|(_, mark)| mark.exists()) {
            return dir;
        }
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = std::process::Command::new(cargo);
        cmd.args([
            "build",
            "-p",
            "apigw-control-plane",
            "-p",
            "apigw-data-plane",
        ]);
        // The test process carries the variables cargo sets for a running test
        // (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`, ...). Build scripts that read them (ring's
        // does) ask cargo to rebuild when they change, so passing them on would make this
        // build and the next `cargo nextest` from a shell rebuild ring and everything above
        // it, in turn, every run.
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if is_test_runtime_var(&name) {
                cmd.env_remove(name.as_ref());
            }
        }
        if release {
            cmd.arg("--release");
        }
        let status = cmd.status().expect("running cargo build");
        assert!(status.success(), "building the binaries failed");
        if let Some((_lock, mark)) = run_mark {
            // Marks of earlier runs are of no use any more.
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    if e.file_name()
                        .to_string_lossy()
                        .starts_with("e2e-binaries-built-")
                    {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
            std::fs::write(&mark, b"").expect("the build mark");
        }
        dir
    })
    .clone()
}

/// Whether `name` is one of the variables cargo sets for a compiled crate at run time
/// (not one that configures cargo itself, such as `CARGO_HOME` or `CARGO_TARGET_DIR`).
fn is_test_runtime_var(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_BIN_EXE_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_MANIFEST_LINKS"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
        )
}

/// Starts `bin` of [`bin_dir`]; its stderr (its log) and stdout go to `log` when given.
fn spawn_logged(
    bin: &str,
    envs: &[(&str, String)],
    args: &[String],
    log: Option<std::fs::File>,
) -> Child {
    let mut cmd = Command::new(bin_dir().join(bin));
    cmd.args(args)
        .env(
            "RUST_LOG",
            std::env::var("E2E_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    if std::env::var("E2E_QUIET").is_ok() {
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
    }
    if let Some(file) = log {
        if let Ok(out) = file.try_clone() {
            cmd.stdout(Stdio::from(out));
        }
        cmd.stderr(Stdio::from(file));
    }
    cmd.spawn()
        .unwrap_or_else(|e| panic!("starting {bin}: {e}"))
}

async fn wait_http_ok(url: &str, limit: Duration) {
    let client = reqwest::Client::new();
    eventually(url, limit, || async {
        match client.get(url).send().await {
            Ok(r) if r.status().is_success() => Some(()),
            _ => None,
        }
    })
    .await;
}

/// Sends SIGTERM and waits for the process to exit.
async fn terminate(child: &mut Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
        if tokio::time::timeout(Duration::from_secs(10), child.wait())
            .await
            .is_err()
        {
            let _ = child.kill().await;
        }
    }
}

/// A running control plane.
pub struct ControlPlane {
    child: Option<Child>,
    /// Its database.
    pub database_url: String,
    /// Management API port.
    pub http_port: u16,
    /// Config stream port.
    pub grpc_port: u16,
}

impl ControlPlane {
    /// Starts a control plane on fresh ports over `database_url`.
    pub async fn start(database_url: &str) -> Self {
        Self::start_on(database_url, free_port(), free_port()).await
    }

    /// Starts a control plane on given ports (to restart one where it was).
    pub async fn start_on(database_url: &str, http_port: u16, grpc_port: u16) -> Self {
        Self::start_with_env(database_url, http_port, grpc_port, &[]).await
    }

    /// Starts a control plane with extra environment variables (they win over the defaults).
    pub async fn start_with_env(
        database_url: &str,
        http_port: u16,
        grpc_port: u16,
        extra_env: &[(&str, String)],
    ) -> Self {
        Self::start_logged(database_url, http_port, grpc_port, extra_env, None).await
    }

    /// [`ControlPlane::start_with_env`] with the process's stderr (its log) and stdout
    /// written to `log` when given.
    pub async fn start_logged(
        database_url: &str,
        http_port: u16,
        grpc_port: u16,
        extra_env: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Self {
        let mut env = vec![
            ("DATABASE_URL", database_url.to_string()),
            ("CP_HTTP_ADDR", format!("127.0.0.1:{http_port}")),
            ("CP_GRPC_ADDR", format!("127.0.0.1:{grpc_port}")),
            ("APIGW_ACCESS_KEY_ID", ACCESS_KEY_ID.into()),
            ("APIGW_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY.into()),
            ("APIGW_ADMIN_USER", ADMIN_USER.into()),
            ("APIGW_ADMIN_PASSWORD", ADMIN_PASSWORD.into()),
            ("APIGW_JWT_SECRET", JWT_SECRET.into()),
            ("REDIS_URL", redis_url()),
            (
                "REDIS_KEY_PREFIX",
                redis_prefix(&format!("http://127.0.0.1:{grpc_port}")),
            ),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (*k, v.clone())));
        let log = log.map(|path| {
            std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        });
        let child = spawn_logged("control-plane", &env, &[], log);
        wait_http_ok(
            &format!("http://127.0.0.1:{http_port}/healthz"),
            Duration::from_secs(60),
        )
        .await;
        Self {
            child: Some(child),
            database_url: database_url.to_string(),
            http_port,
            grpc_port,
        }
    }

    /// Its process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// Base URL of the management API.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// A console session of the bootstrap admin (`POST /console/api/session`, bearer mode):
    /// its token, for calls the console makes with it.
    pub async fn console_token(&self) -> String {
        self.console_token_as(ADMIN_USER, ADMIN_PASSWORD).await
    }

    /// A console session of `user` (bearer mode): its token.
    pub async fn console_token_as(&self, user: &str, password: &str) -> String {
        let session: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/console/api/session", self.url()))
            .json(&serde_json::json!({
                "username": user, "password": password, "mode": "bearer"
            }))
            .send()
            .await
            .expect("sign-in")
            .json()
            .await
            .expect("sign-in JSON");
        session["token"]
            .as_str()
            .expect("a bearer token")
            .to_string()
    }

    /// The URL data-plane nodes connect to.
    pub fn grpc_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// The URL nodes connect to when the gRPC listener runs TLS (`CP_GRPC_TLS_CERT_FILE`):
    /// its certificate must name the IP address 127.0.0.1.
    pub fn grpc_tls_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.grpc_port)
    }

    /// A management client signed with the test key.
    pub fn mgmt(&self) -> crate::Mgmt {
        crate::Mgmt::new(&self.url(), ACCESS_KEY_ID, SECRET_ACCESS_KEY)
    }

    /// Stops it with SIGTERM.
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c).await;
        }
    }

    /// Kills it with SIGKILL (no draining: its config streams, in-flight management calls
    /// and usage mover round die where they stand) and waits for it to be gone.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }
}

/// A running data-plane node.
pub struct DataPlane {
    child: Option<Child>,
    /// Its HTTP port.
    pub port: u16,
    /// Its HTTPS port (custom domain names, `DP_HTTPS_ADDR`).
    pub https_port: u16,
    /// Its node id.
    pub node_id: String,
}

impl DataPlane {
    /// Starts a node that follows `control_plane_url`; waits for `/healthz` (not readiness).
    pub async fn start(control_plane_url: &str, node_id: &str) -> Self {
        Self::start_env(control_plane_url, node_id, &[]).await
    }

    /// Starts a node with extra environment variables (they win over the defaults).
    pub async fn start_env(
        control_plane_url: &str,
        node_id: &str,
        extra_env: &[(&str, String)],
    ) -> Self {
        Self::start_logged(control_plane_url, node_id, extra_env, None).await
    }

    /// [`DataPlane::start_env`] with the node's log (stderr) and stdout written to `log`
    /// when given.
    pub async fn start_logged(
        control_plane_url: &str,
        node_id: &str,
        extra_env: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Self {
        Self::start_on(
            control_plane_url,
            node_id,
            (free_port(), free_port()),
            extra_env,
            log,
        )
        .await
    }

    /// [`DataPlane::start_logged`] on given (HTTP, HTTPS) ports: to restart a node where it
    /// was, so its clients' URLs stay valid.
    pub async fn start_on(
        control_plane_url: &str,
        node_id: &str,
        (port, https_port): (u16, u16),
        extra_env: &[(&str, String)],
        log: Option<&std::path::Path>,
    ) -> Self {
        let mut env = vec![
            ("CONTROL_PLANE_URL", control_plane_url.to_string()),
            ("DP_HTTP_ADDR", format!("127.0.0.1:{port}")),
            ("DP_HTTPS_ADDR", format!("127.0.0.1:{https_port}")),
            ("DP_NODE_ID", node_id.to_string()),
            ("REDIS_URL", redis_url()),
            ("REDIS_KEY_PREFIX", redis_prefix(control_plane_url)),
            // No state file unless a test gives the node its own directory: the default
            // (/var/lib/apigw/data-plane) would be shared by every node of every test.
            ("DP_STATE_DIR", String::new()),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (*k, v.clone())));
        let log = log.map(|path| {
            std::fs::File::create(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        });
        let child = spawn_logged("data-plane", &env, &[], log);
        wait_http_ok(
            &format!("http://127.0.0.1:{port}/healthz"),
            Duration::from_secs(60),
        )
        .await;
        Self {
            child: Some(child),
            port,
            https_port,
            node_id: node_id.to_string(),
        }
    }

    /// Waits until the node has applied a config.
    pub async fn wait_ready(&self) {
        wait_http_ok(
            &format!("http://127.0.0.1:{}/readyz", self.port),
            Duration::from_secs(30),
        )
        .await;
    }

    /// Its process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// `http://127.0.0.1:{port}`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The local-use invoke URL of `path` on `api_id`/`stage`.
    pub fn invoke_url(&self, api_id: &str, stage: &str, path: &str) -> String {
        format!(
            "{}/restapis/{api_id}/{stage}/_user_request_{path}",
            self.base()
        )
    }

    /// Stops it with SIGTERM.
    pub async fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c).await;
        }
    }

    /// Kills it with SIGKILL (no draining, nothing flushed).
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill().await;
        }
    }
}

/// A control plane and N nodes on a fresh database.
pub struct Cluster {
    /// The control plane.
    pub cp: ControlPlane,
    /// The nodes.
    pub nodes: Vec<DataPlane>,
}

impl Cluster {
    /// Starts a control plane and `n` ready nodes. Node 0 runs the single-threaded runtime
    /// (`DP_WORKER_THREADS=1`, the benchmark's layout), the others the multi-threaded one,
    /// so every cluster test covers both.
    pub async fn start(n: usize) -> Self {
        let db = fresh_database().await.expect("creating a test database");
        let cp = ControlPlane::start(&db).await;
        let mut nodes = Vec::new();
        for i in 0..n {
            let env: &[(&str, String)] = if i == 0 {
                &[("DP_WORKER_THREADS", "1".to_string())]
            } else {
                &[]
            };
            nodes.push(DataPlane::start_env(&cp.grpc_url(), &format!("node-{i}"), env).await);
        }
        for n in &nodes {
            n.wait_ready().await;
        }
        Self { cp, nodes }
    }
}
