//! Building REST APIs through the management API, the way every suite needs to.
//!
//! The free functions are the primitives (they take the API id, for tests that keep ids
//! in their own structs); [`RestApi`] holds the client and the ids for tests that build
//! one API step by step. Each call unwraps the answer with [`crate::mgmt::Answer::ok`],
//! so a setup step the control plane refuses fails the test with the control plane's
//! message.

use serde_json::{json, Map, Value};

use crate::Mgmt;

/// A JSON string's contents, or `""` when `v` is not a string (an id missing from an
/// answer then shows up as a failed lookup that names the empty id).
pub fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Creates a REST API from a CreateRestApi body; returns (id, root resource id).
pub async fn create_api(m: &Mgmt, body: Value) -> (String, String) {
    let api = m.post("/restapis", body).await.ok();
    (text(&api["id"]), text(&api["rootResourceId"]))
}

/// Creates a REST API named `name`; returns (id, root resource id).
pub async fn new_api(m: &Mgmt, name: &str) -> (String, String) {
    create_api(m, json!({ "name": name })).await
}

/// Creates the resource `part` under `parent`; returns its id.
pub async fn add_resource(m: &Mgmt, api: &str, parent: &str, part: &str) -> String {
    let r = m
        .post(
            &format!("/restapis/{api}/resources/{parent}"),
            json!({ "pathPart": part }),
        )
        .await
        .ok();
    text(&r["id"])
}

/// The management path of a method.
pub fn method_path(api: &str, resource: &str, verb: &str) -> String {
    format!("/restapis/{api}/resources/{resource}/methods/{verb}")
}

/// A MOCK integration whose request template selects `status`.
pub fn mock_integration(status: u16) -> Value {
    json!({"type": "MOCK", "requestTemplates": {"application/json": format!("{{\"statusCode\": {status}}}")}})
}

/// A `verb` method on `resource` answering 200 with `template` (an
/// `application/json` response template) through a MOCK integration.
pub async fn mock_method(m: &Mgmt, api: &str, resource: &str, verb: &str, template: &str) {
    let open = json!({"authorizationType": "NONE"});
    mock_method_with(m, api, resource, verb, open, template).await;
}

/// [`mock_method`] with the PutMethod body `method` (its authorization, API key, ...).
pub async fn mock_method_with(
    m: &Mgmt,
    api: &str,
    resource: &str,
    verb: &str,
    body: Value,
    template: &str,
) {
    let method = method_path(api, resource, verb);
    m.put(&method, body).await.ok();
    m.put(&format!("{method}/responses/200"), json!({}))
        .await
        .ok();
    m.put(&format!("{method}/integration"), mock_integration(200))
        .await
        .ok();
    m.put(
        &format!("{method}/integration/responses/200"),
        json!({"selectionPattern": "", "responseTemplates": {"application/json": template}}),
    )
    .await
    .ok();
}

/// Deploys `api` to `stage` with stage `variables`; returns the deployment id.
pub async fn deploy(m: &Mgmt, api: &str, stage: &str, variables: Value) -> String {
    let d = m
        .post(
            &format!("/restapis/{api}/deployments"),
            json!({"stageName": stage, "variables": variables}),
        )
        .await
        .ok();
    text(&d["id"])
}

/// An API under construction: the management client and the API's ids.
pub struct RestApi<'a> {
    /// The client every step goes through.
    pub m: &'a Mgmt,
    /// The API's id.
    pub id: String,
    /// Its root resource (`/`).
    pub root: String,
}

/// One method response with its integration response, for [`RestApi::method_with_responses`]:
/// (status, response headers the method declares, integration response body).
pub type Response<'r> = (&'r str, &'r [&'r str], Value);

impl<'a> RestApi<'a> {
    /// Creates an API named `name`.
    pub async fn create(m: &'a Mgmt, name: &str) -> Self {
        Self::create_with(m, name, json!({})).await
    }

    /// Creates an API named `name` with the other CreateRestApi fields in `extra`.
    pub async fn create_with(m: &'a Mgmt, name: &str, extra: Value) -> Self {
        let mut body = json!({ "name": name });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let (id, root) = create_api(m, body).await;
        RestApi { m, id, root }
    }

    /// Creates `part` under `parent`; returns its id.
    pub async fn resource(&self, parent: &str, part: &str) -> String {
        add_resource(self.m, &self.id, parent, part).await
    }

    /// The management path of a method of this API.
    pub fn method_path(&self, resource: &str, verb: &str) -> String {
        method_path(&self.id, resource, verb)
    }

    /// Puts a method without authorization, and its integration.
    pub async fn method(&self, resource: &str, verb: &str, integration: Value) {
        let path = self.method_path(resource, verb);
        self.m
            .put(&path, json!({"authorizationType": "NONE"}))
            .await
            .ok();
        self.m
            .put(&format!("{path}/integration"), integration)
            .await
            .ok();
    }

    /// Puts the method response for `status`, declaring every header the integration
    /// response maps, then the integration response itself.
    pub async fn response(&self, resource: &str, verb: &str, status: u16, response: Value) {
        let headers: Vec<&str> = response["responseParameters"]
            .as_object()
            .map(|p| {
                p.keys()
                    .filter_map(|k| k.strip_prefix("method.response.header."))
                    .collect()
            })
            .unwrap_or_default();
        let status = status.to_string();
        self.method_response(resource, verb, &status, &headers)
            .await;
        self.m
            .put(
                &format!(
                    "{}/integration/responses/{status}",
                    self.method_path(resource, verb)
                ),
                response,
            )
            .await
            .ok();
    }

    /// Puts a method, its method responses, its integration and its integration
    /// responses, in the order the management API needs them.
    pub async fn method_with_responses(
        &self,
        resource: &str,
        verb: &str,
        integration: Value,
        responses: &[Response<'_>],
    ) {
        let path = self.method_path(resource, verb);
        self.m
            .put(&path, json!({"authorizationType": "NONE"}))
            .await
            .ok();
        for (status, headers, _) in responses {
            self.method_response(resource, verb, status, headers).await;
        }
        self.m
            .put(&format!("{path}/integration"), integration)
            .await
            .ok();
        for (status, _, body) in responses {
            self.m
                .put(
                    &format!("{path}/integration/responses/{status}"),
                    body.clone(),
                )
                .await
                .ok();
        }
    }

    /// Puts the method response for `status`, declaring `headers` (not required).
    async fn method_response(&self, resource: &str, verb: &str, status: &str, headers: &[&str]) {
        let params: Map<String, Value> = headers
            .iter()
            .map(|h| (format!("method.response.header.{h}"), json!(false)))
            .collect();
        self.m
            .put(
                &format!("{}/responses/{status}", self.method_path(resource, verb)),
                json!({ "responseParameters": params }),
            )
            .await
            .ok();
    }

    /// Deploys to `stage` with stage `variables`; returns the deployment id.
    pub async fn deploy(&self, stage: &str, variables: Value) -> String {
        deploy(self.m, &self.id, stage, variables).await
    }
}

/// An API `name` with `GET /pets`: MOCK answering 200, API key required; deployed to
/// `prod`. Returns its id.
pub async fn keyed_mock_api(m: &Mgmt, name: &str) -> String {
    let api = m.post("/restapis", json!({"name": name})).await.ok();
    let id = text(&api["id"]);
    let root = text(&api["rootResourceId"]);
    let base = format!("/restapis/{id}/resources");
    let rid = text(
        &m.post(&format!("{base}/{root}"), json!({"pathPart": "pets"}))
            .await
            .ok()["id"],
    );
    let method = format!("{base}/{rid}/methods/GET");
    m.put(
        &method,
        json!({"authorizationType": "NONE", "apiKeyRequired": true}),
    )
    .await
    .ok();
    m.put(
        &format!("{method}/integration"),
        json!({"type": "MOCK", "requestTemplates": {"application/json": "{\"statusCode\": 200}"}}),
    )
    .await
    .ok();
    m.put(&format!("{method}/responses/200"), json!({}))
        .await
        .ok();
    m.put(
        &format!("{method}/integration/responses/200"),
        json!({"responseTemplates": {"application/json": "{\"pets\": []}"}}),
    )
    .await
    .ok();
    m.post(
        &format!("/restapis/{id}/deployments"),
        json!({"stageName": "prod"}),
    )
    .await
    .ok();
    id
}

/// A key in a new plan on `api`/`prod` with `limits` (`throttle`, `quota`); (key id, value,
/// plan id).
pub async fn key_in_plan(
    m: &Mgmt,
    api: &str,
    name: &str,
    limits: Value,
) -> (String, String, String) {
    let k = m
        .post(
            "/apikeys",
            json!({"name": name, "enabled": true, "customerId": format!("cust-{name}")}),
        )
        .await
        .ok();
    let (key, value) = (text(&k["id"]), text(&k["value"]));
    let mut plan = json!({"name": name, "apiStages": [{"apiId": api, "stage": "prod"}]});
    if let (Some(p), Some(l)) = (plan.as_object_mut(), limits.as_object()) {
        p.extend(l.clone());
    }
    let plan = text(&m.post("/usageplans", plan).await.ok()["id"]);
    m.post(
        &format!("/usageplans/{plan}/keys"),
        json!({"keyId": key, "keyType": "API_KEY"}),
    )
    .await
    .ok();
    (key, value, plan)
}
