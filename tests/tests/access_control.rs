//! Management access control with IAM-style identity policies, against a real control
//! plane: read-only users and keys refused every mutating route of the route table (and
//! nothing changed) but allowed reads; a custom policy scoped to one API with a Deny; a
//! narrowed key never doing what its user can; the policy endpoints (built-ins kept,
//! malformed documents 400, duplicates 409); the JSON-protocol services' refusals; refused
//! calls in the audit log; and the same seen from boto3.

use apigw_e2e::process::{ADMIN_PASSWORD, ADMIN_USER};
use apigw_e2e::{fresh_database, ControlPlane, Mgmt};
use serde_json::{json, Value};

/// What an endpoint answered.
#[derive(Debug)]
struct Reply {
    status: u16,
    error_type: Option<String>,
    body: Value,
}

impl Reply {
    fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    fn denied(&self) -> bool {
        self.status == 403
            && self.error_type.as_deref() == Some("AccessDeniedException")
            && self.message().contains(" is not authorized to perform: ")
    }
}

/// A console session (bearer token) on one control plane.
#[derive(Clone)]
struct Session {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Session {
    async fn sign_in(cp: &ControlPlane, user: &str, password: &str) -> Self {
        Self {
            base: cp.url(),
            token: cp.console_token_as(user, password).await,
            http: reqwest::Client::new(),
        }
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(
                method.parse().expect("method"),
                format!("{}{path}", self.base),
            )
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = req.send().await.expect("request to the control plane");
        let status = resp.status().as_u16();
        let error_type = resp
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = resp.text().await.unwrap_or_default();
        Reply {
            status,
            error_type,
            body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        }
    }

    async fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let r = self.call(method, path, body).await;
        assert!(
            (200..300).contains(&r.status),
            "{method} {path}: {} {:?}",
            r.status,
            r.body
        );
        r.body
    }

    /// A JSON-protocol call on `POST /` with this session.
    async fn service(&self, target: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/", self.base))
            .bearer_auth(&self.token)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body.to_string())
            .send()
            .await
            .expect("service call");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

struct Setup {
    cp: ControlPlane,
    admin: Session,
}

async fn start() -> Setup {
    let db = fresh_database().await.expect("test database");
    let cp = ControlPlane::start(&db).await;
    let admin = Session::sign_in(&cp, ADMIN_USER, ADMIN_PASSWORD).await;
    Setup { cp, admin }
}

impl Setup {
    /// Creates a user (ReadOnlyAccess, the default) and signs them in.
    async fn user(&self, name: &str) -> Session {
        let password = format!("{name}-password-123");
        self.admin
            .ok(
                "POST",
                "/console/api/users",
                Some(json!({"username": name, "password": password})),
            )
            .await;
        Session::sign_in(&self.cp, name, &password).await
    }

    /// A new access key of `user`, narrowed to `policies` if given: (id, secret).
    async fn key_pair(&self, user: &Session, policies: Option<Value>) -> (String, String) {
        let mut body = json!({"description": "test"});
        if let Some(p) = policies {
            body["policies"] = p;
        }
        let k = user
            .ok("POST", "/console/api/me/access-keys", Some(body))
            .await;
        (
            k["accessKeyId"].as_str().expect("id").to_string(),
            k["secretAccessKey"].as_str().expect("secret").to_string(),
        )
    }

    /// A client signing with a new access key of `user` (see [`Setup::key_pair`]).
    async fn key(&self, user: &Session, policies: Option<Value>) -> Mgmt {
        let (id, secret) = self.key_pair(user, policies).await;
        Mgmt::new(&self.cp.url(), &id, &secret)
    }

    async fn attach(&self, user: &str, policy: &str) {
        let r = self
            .admin
            .call(
                "PUT",
                &format!("/console/api/users/{user}/policies/{policy}"),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "attach {policy} to {user}: {:?}", r.body);
    }

    async fn detach(&self, user: &str, policy: &str) {
        let r = self
            .admin
            .call(
                "DELETE",
                &format!("/console/api/users/{user}/policies/{policy}"),
                None,
            )
            .await;
        assert_eq!(r.status, 204, "detach {policy} from {user}: {:?}", r.body);
    }

    async fn create_policy(&self, name: &str, document: Value) {
        let r = self
            .admin
            .call(
                "POST",
                "/console/api/policies",
                Some(json!({"name": name, "document": document})),
            )
            .await;
        assert_eq!(r.status, 201, "create policy {name}: {:?}", r.body);
    }
}

/// The state a refused call must leave alone, read back with the bootstrap key.
async fn snapshot(mgmt: &Mgmt, api: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/restapis".to_string(),
        format!("/restapis/{api}"),
        format!("/restapis/{api}/resources?embed=methods"),
        format!("/restapis/{api}/stages"),
        format!("/restapis/{api}/deployments"),
        format!("/restapis/{api}/models"),
        format!("/restapis/{api}/authorizers"),
        "/apikeys".to_string(),
        "/usageplans".to_string(),
        "/domainnames".to_string(),
        "/account".to_string(),
        "/v2/apis".to_string(),
    ] {
        let r = mgmt.get(&path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.body);
        out.push(r.body);
    }
    out
}

/// Every (method, path) of the served route tables (`/openapi.json`: apigateway and
/// apigatewayv2), labels filled with `api` for REST API ids, `v2` for HTTP API ids and
/// `x` elsewhere.
async fn route_table(cp: &ControlPlane, api: &str, root: &str, v2: &str) -> Vec<(String, String)> {
    let doc: Value = reqwest::get(format!("{}/openapi.json", cp.url()))
        .await
        .expect("openapi.json")
        .json()
        .await
        .expect("openapi JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let mut out = Vec::new();
    for (template, item) in paths {
        let mut path = String::new();
        for seg in template.split('/').filter(|s| !s.is_empty()) {
            path.push('/');
            path.push_str(match seg {
                "{restapi_id}" | "{restApiId}" => api,
                "{resource_id}" | "{parent_id}" => root,
                "{api_id}" | "{apiId}" => v2,
                s if s.starts_with('{') => "x",
                s => s,
            });
        }
        for method in item.as_object().expect("path item").keys() {
            out.push((method.to_ascii_uppercase(), path.clone()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_users_and_keys_are_refused_every_mutation_but_read() {
    let s = start().await;
    let boot = s.cp.mgmt();
    let api = boot
        .post("/restapis", json!({"name": "guarded"}))
        .await
        .ok();
    let api_id = api["id"].as_str().expect("id").to_string();
    let root = api["rootResourceId"].as_str().expect("root").to_string();
    let v2 = boot
        .post(
            "/v2/apis",
            json!({"name": "guarded-v2", "protocolType": "HTTP"}),
        )
        .await
        .ok();
    let v2_id = v2["apiId"].as_str().expect("apiId").to_string();

    let reader = s.user("reader").await;
    let reader_key = s.key(&reader, None).await;
    let before = snapshot(&boot, &api_id).await;

    let routes = route_table(&s.cp, &api_id, &root, &v2_id).await;
    let mutating: Vec<_> = routes.iter().filter(|(m, _)| m != "GET").collect();
    let reads: Vec<_> = routes.iter().filter(|(m, _)| m == "GET").collect();
    assert!(mutating.len() > 100, "the route table: {}", mutating.len());
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        assert!(
            mutating.iter().any(|(m, _)| m == method),
            "no {method} route"
        );
    }
    let body = || json!({"name": "x", "patchOperations": []});
    for (method, path) in &mutating {
        let r = reader.call(method, path, Some(body())).await;
        assert!(
            r.denied(),
            "session {method} {path}: {} {:?}",
            r.status,
            r.body
        );
        let a = reader_key.call(method, path, Some(body())).await;
        assert_eq!(
            (a.status, a.error_type.as_deref()),
            (403, Some("AccessDeniedException")),
            "key {method} {path}: {}",
            a.body
        );
    }
    // AWS's wording, naming the principal, the action and the path as a resource.
    let r = reader
        .call("DELETE", &format!("/restapis/{api_id}"), None)
        .await;
    assert_eq!(
        r.message(),
        format!(
            "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: \
             apigateway:DELETE on resource: arn:aws:apigateway:us-east-1::/restapis/{api_id}"
        )
    );
    let r = reader
        .call("DELETE", &format!("/v2/apis/{v2_id}"), None)
        .await;
    assert!(
        r.message().ends_with(&format!(
            "on resource: arn:aws:apigateway:us-east-1::/apis/{v2_id}"
        )),
        "{}",
        r.message()
    );
    // Nothing changed.
    assert_eq!(snapshot(&boot, &api_id).await, before);

    // Reads are allowed (404 for the made-up ids, never 403).
    for (method, path) in reads {
        let r = reader.call(method, path, None).await;
        assert_ne!(r.status, 403, "session {method} {path}: {:?}", r.body);
        let a = reader_key.get(path).await;
        assert_ne!(a.status, 403, "key {method} {path}: {}", a.body);
    }
    assert_eq!(
        reader_key.get(&format!("/restapis/{api_id}")).await.ok()["name"],
        "guarded"
    );

    // The refusals are in the audit log as failed AccessDenied calls of the user.
    let (status, events) = s
        .admin
        .service(
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            json!({"LookupAttributes": [{"AttributeKey": "EventName", "AttributeValue": "DeleteRestApi"}]}),
        )
        .await;
    assert_eq!(status, 200, "{events}");
    let events = events["Events"].as_array().cloned().unwrap_or_default();
    let denied = events
        .iter()
        .filter_map(|e| e["CloudTrailEvent"].as_str())
        .filter_map(|t| serde_json::from_str::<Value>(t).ok())
        .filter(|e| e["errorCode"] == "AccessDenied")
        .count();
    assert!(denied >= 2, "session and key refusals recorded: {events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_policy_scoped_to_one_api_with_a_deny_works_as_iam_would() {
    let s = start().await;
    let boot = s.cp.mgmt();
    let mine = boot.post("/restapis", json!({"name": "mine"})).await.ok();
    let theirs = boot.post("/restapis", json!({"name": "theirs"})).await.ok();
    let (mine_id, root) = (
        mine["id"].as_str().expect("id").to_string(),
        mine["rootResourceId"].as_str().expect("root").to_string(),
    );
    let theirs_id = theirs["id"].as_str().expect("id").to_string();
    let arn = format!("arn:aws:apigateway:*::/restapis/{mine_id}");
    s.create_policy(
        "OneApiNoDeletes",
        json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Mine", "Effect": "Allow", "Action": "apigateway:*",
             "Resource": [arn.clone(), format!("{arn}/*")]},
            {"Sid": "NoDeletes", "Effect": "Deny", "Action": "APIGATEWAY:delete",
             "Resource": "arn:aws:apigateway:*::/restapis/*"}
        ]}),
    )
    .await;
    let dev = s.user("dev").await;
    s.attach("dev", "OneApiNoDeletes").await;
    s.detach("dev", "ReadOnlyAccess").await;

    // Anything on its API but deleting.
    dev.ok(
        "PATCH",
        &format!("/restapis/{mine_id}"),
        Some(json!({"patchOperations": [{"op": "replace", "path": "/description", "value": "by dev"}]})),
    )
    .await;
    let child = dev
        .ok(
            "POST",
            &format!("/restapis/{mine_id}/resources/{root}"),
            Some(json!({"pathPart": "pets"})),
        )
        .await;
    let child_id = child["id"].as_str().expect("id");
    let r = dev
        .call(
            "DELETE",
            &format!("/restapis/{mine_id}/resources/{child_id}"),
            None,
        )
        .await;
    assert!(r.denied(), "explicit deny wins: {:?}", r.body);
    assert!(r.message().contains("apigateway:DELETE"), "{}", r.message());
    assert!(dev
        .call("DELETE", &format!("/restapis/{mine_id}"), None)
        .await
        .denied());
    assert_eq!(
        boot.get(&format!("/restapis/{mine_id}/resources/{child_id}"))
            .await
            .status,
        200,
        "still there"
    );
    // Nothing outside its API, not even reading (default deny).
    assert!(dev
        .call("GET", &format!("/restapis/{theirs_id}"), None)
        .await
        .denied());
    assert!(dev
        .call(
            "PATCH",
            &format!("/restapis/{theirs_id}"),
            Some(json!({"patchOperations": [{"op": "replace", "path": "/description", "value": "x"}]})),
        )
        .await
        .denied());
    assert!(dev.call("GET", "/restapis", None).await.denied());
    assert!(dev
        .call("POST", "/restapis", Some(json!({"name": "n"})))
        .await
        .denied());
    assert_eq!(
        boot.get(&format!("/restapis/{theirs_id}")).await.ok()["description"],
        Value::Null
    );
    assert_eq!(
        boot.get(&format!("/restapis/{mine_id}")).await.ok()["description"],
        "by dev"
    );
    // Nor the services ReadOnlyAccess would give.
    let (status, body) = dev
        .service("Logs_20140328.DescribeLogGroups", json!({}))
        .await;
    assert_eq!(
        (status, &body["__type"]),
        (403, &json!("AccessDeniedException")),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_narrowed_key_cannot_do_what_its_user_can_and_is_never_wider() {
    let s = start().await;
    let ops = s.user("ops").await;
    s.attach("ops", "AdministratorAccess").await;
    let full = s.key(&ops, None).await;
    let narrow = s.key(&ops, Some(json!(["ReadOnlyAccess"]))).await;
    let listed = ops.ok("GET", "/console/api/me/access-keys", None).await;
    let scoped: Vec<&Value> = listed["item"]
        .as_array()
        .expect("keys")
        .iter()
        .filter(|k| k["policies"] == json!(["ReadOnlyAccess"]))
        .collect();
    assert_eq!(scoped.len(), 1, "{listed}");

    ops.ok("POST", "/restapis", Some(json!({"name": "by-session"})))
        .await;
    full.post("/restapis", json!({"name": "by-full-key"}))
        .await
        .ok();
    let r = narrow
        .post("/restapis", json!({"name": "by-narrow-key"}))
        .await;
    assert_eq!(
        (r.status, r.error_type.as_deref()),
        (403, Some("AccessDeniedException")),
        "{}",
        r.body
    );
    assert!(
        r.message().contains("user/ops is not authorized"),
        "{}",
        r.message()
    );
    let names: Vec<Value> = narrow.get("/restapis").await.ok()["item"]
        .as_array()
        .expect("items")
        .iter()
        .map(|a| a["name"].clone())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(!names.contains(&json!("by-narrow-key")));

    // A key narrowed with a wider policy than its user's is still only as wide as the user.
    let viewer = s.user("viewer").await;
    let wide = s.key(&viewer, Some(json!(["AdministratorAccess"]))).await;
    assert_eq!(wide.get("/restapis").await.status, 200);
    assert_eq!(
        wide.post("/restapis", json!({"name": "no"})).await.status,
        403
    );
    // Unknown policies are refused at creation.
    let r = viewer
        .call(
            "POST",
            "/console/api/me/access-keys",
            Some(json!({"policies": ["NoSuchPolicy"]})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(r.message().contains("NoSuchPolicy"), "{}", r.message());
    // A policy narrowing a key cannot be deleted from under it (that would widen the key).
    s.create_policy(
        "Narrow",
        json!({"Statement": [{"Effect": "Allow", "Action": "apigateway:GET", "Resource": "*"}]}),
    )
    .await;
    s.key(&ops, Some(json!(["Narrow"]))).await;
    let r = s
        .admin
        .call("DELETE", "/console/api/policies/Narrow", None)
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_endpoints_keep_built_ins_and_explain_bad_documents() {
    let s = start().await;
    let list = s.admin.ok("GET", "/console/api/policies", None).await;
    let names: Vec<&str> = list["item"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["AdministratorAccess", "ReadOnlyAccess"]);
    assert_eq!(list["item"][0]["builtin"], true);
    for builtin in ["AdministratorAccess", "ReadOnlyAccess", "readonlyaccess"] {
        let r = s
            .admin
            .call("DELETE", &format!("/console/api/policies/{builtin}"), None)
            .await;
        assert_eq!(r.status, 400, "{builtin}: {:?}", r.body);
        assert!(r.message().contains("built-in"), "{}", r.message());
    }

    let bad = [
        (json!("not json {"), "not valid JSON"),
        (json!([1, 2]), "must be a JSON object"),
        (
            json!({"Version": "2012-10-17"}),
            "missing required element 'Statement'",
        ),
        (
            json!({"Statement": [{"Effect": "Permit", "Action": "*", "Resource": "*"}]}),
            "'Effect' must be",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "*"}]}),
            "'Resource' (or 'NotResource')",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "apigateway", "Resource": "*"}]}),
            "invalid action",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "restapis/*"}]}),
            "invalid resource",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "*"}]}),
            "'Principal' is not allowed",
        ),
        (
            json!({"Statement": [{"Effect": "Allow", "Actions": "*", "Resource": "*"}]}),
            "unknown element 'Actions'",
        ),
    ];
    for (document, says) in bad {
        let r = s
            .admin
            .call(
                "POST",
                "/console/api/policies",
                Some(json!({"name": "Bad", "document": document})),
            )
            .await;
        assert_eq!(r.status, 400, "{document}: {:?}", r.body);
        assert!(r.message().contains(says), "{document}: {}", r.message());
    }
    // A body that is not JSON at all, and a bad name.
    let r = s
        .admin
        .http
        .post(format!("{}/console/api/policies", s.admin.base))
        .bearer_auth(&s.admin.token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .expect("call");
    assert_eq!(r.status(), 400);
    let r = s
        .admin
        .call(
            "POST",
            "/console/api/policies",
            Some(json!({"name": "has space", "document": {"Statement": []}})),
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    assert!(
        s.admin.ok("GET", "/console/api/policies", None).await["item"]
            .as_array()
            .is_some_and(|a| a.len() == 2),
        "nothing was created"
    );

    // Create, duplicate (case-insensitive), attach, refuse deleting while attached, delete.
    let doc = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["logs:*"], "Resource": "*"}]});
    s.create_policy("LogsOnly", doc.clone()).await;
    let dup = s
        .admin
        .call(
            "POST",
            "/console/api/policies",
            Some(json!({"name": "logsonly", "document": doc})),
        )
        .await;
    assert_eq!(dup.status, 409, "{:?}", dup.body);
    let listed = s.admin.ok("GET", "/console/api/policies", None).await;
    assert_eq!(listed["item"][2]["document"], doc);
    let user = s.user("lu").await;
    s.attach("lu", "LogsOnly").await;
    let users = s.admin.ok("GET", "/console/api/users", None).await;
    let lu = users["item"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["username"] == "lu"))
        .cloned()
        .expect("lu listed");
    assert_eq!(lu["policies"], json!(["LogsOnly", "ReadOnlyAccess"]));
    let r = s
        .admin
        .call("DELETE", "/console/api/policies/LogsOnly", None)
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    s.detach("lu", "LogsOnly").await;
    let r = s
        .admin
        .call("DELETE", "/console/api/policies/LogsOnly", None)
        .await;
    assert_eq!(r.status, 204, "{:?}", r.body);
    let r = s
        .admin
        .call("DELETE", "/console/api/policies/LogsOnly", None)
        .await;
    assert_eq!(r.status, 404);
    let r = s
        .admin
        .call("PUT", "/console/api/users/lu/policies/Nope", None)
        .await;
    assert_eq!(r.status, 404);

    // Only a caller allowed iam:* actions manages policies and users.
    for (method, path, body) in [
        ("GET", "/console/api/policies", None),
        (
            "POST",
            "/console/api/policies",
            Some(json!({"name": "Mine", "document": {"Statement": []}})),
        ),
        ("DELETE", "/console/api/policies/ReadOnlyAccess", None),
        (
            "PUT",
            "/console/api/users/lu/policies/AdministratorAccess",
            None,
        ),
        (
            "DELETE",
            "/console/api/users/lu/policies/ReadOnlyAccess",
            None,
        ),
        ("GET", "/console/api/users", None),
    ] {
        let r = user.call(method, path, body).await;
        assert!(r.denied(), "{method} {path}: {} {:?}", r.status, r.body);
        assert!(r.message().contains("iam:"), "{}", r.message());
    }
    // The admin cannot drop their own AdministratorAccess.
    let r = s
        .admin
        .call(
            "DELETE",
            &format!("/console/api/users/{ADMIN_USER}/policies/AdministratorAccess"),
            None,
        )
        .await;
    assert_eq!(r.status, 400, "{:?}", r.body);
    // Granting AdministratorAccess makes an admin (isAdmin), who can then manage policies.
    s.attach("lu", "AdministratorAccess").await;
    let me = user.ok("GET", "/console/api/session", None).await;
    assert_eq!(me["user"]["isAdmin"], true, "{me}");
    user.ok("GET", "/console/api/policies", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_services_refuse_in_their_own_shape_and_boto3_sees_access_denied() {
    let s = start().await;
    let reader = s.user("auditor").await;
    let (id, secret) = s.key_pair(&reader, None).await;

    // Reads of the other services are in ReadOnlyAccess.
    let (status, body) = reader
        .service("Logs_20140328.DescribeLogGroups", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = reader
        .service(
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents",
            json!({}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = reader
        .service("GraniteServiceVersion20100801.DescribeAlarms", json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    // Writes are not.
    let (status, body) = reader
        .service(
            "GraniteServiceVersion20100801.PutMetricAlarm",
            json!({"AlarmName": "a", "MetricName": "Count", "Namespace": "AWS/ApiGateway",
                   "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1,
                   "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["__type"], "AccessDeniedException", "{body}");
    assert_eq!(
        body["message"],
        "User: arn:aws:iam::000000000000:user/auditor is not authorized to perform: \
         cloudwatch:PutMetricAlarm on resource: *"
    );
    let (_, alarms) = s
        .admin
        .service("GraniteServiceVersion20100801.DescribeAlarms", json!({}))
        .await;
    assert_eq!(
        alarms["MetricAlarms"],
        json!([]),
        "nothing changed: {alarms}"
    );

    // The same through boto3 with the user's key.
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("boto3/access_control.py");
    let status = tokio::process::Command::new("python3")
        .arg(script)
        .env("AC_ENDPOINT", s.cp.url())
        .env("AC_ACCESS_KEY_ID", id)
        .env("AC_SECRET_ACCESS_KEY", secret)
        .status()
        .await
        .expect("running python3");
    assert!(status.success(), "access_control.py failed: {status}");
}
