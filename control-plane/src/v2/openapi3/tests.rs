use serde_json::{json, Value};

use super::*;
use crate::import::source::parse;

/// A document made of AWS's documented HTTP API examples: a Lambda proxy route
/// (payload 1.0), an HTTP proxy route with parameter mapping, the `$default` route
/// (`x-amazon-apigateway-any-method` with `isDefaultRoute`), a JWT authorizer with scopes,
/// a Lambda REQUEST authorizer with simple responses, CORS, a shared integration.
fn documented() -> Value {
    json!({
        "openapi": "3.0.1",
        "x-amazon-apigateway-importexport-version": "1.0",
        "info": {"title": "example-http-api", "version": "2020-11-19", "description": "pets"},
        "servers": [{"url": "https://abc123.execute-api.localhost/{basePath}",
                     "variables": {"basePath": {"default": "prod"}}}],
        "paths": {
            "/": {
                "get": {
                    "x-amazon-apigateway-integration": {
                        "type": "AWS_PROXY",
                        "httpMethod": "POST",
                        "uri": "arn:aws:lambda:us-east-2:123456789012:function:HelloWorld",
                        "payloadFormatVersion": "1.0"
                    },
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Body"}}}}
                }
            },
            "/pets/{petId}": {
                "get": {
                    "operationId": "getPet",
                    "security": [{"jwt-authorizer": ["pets.read", "pets.all"]}],
                    "x-amazon-apigateway-integration": {
                        "type": "http_proxy",
                        "httpMethod": "GET",
                        "uri": "https://petstore.example.com/pets/{petId}",
                        "payloadFormatVersion": "1.0",
                        "connectionType": "INTERNET",
                        "timeoutInMillis": 10000,
                        "requestParameters": {
                            "append:header.header1": "$context.requestId",
                            "overwrite:path": "/pets/${request.path.petId}"
                        },
                        "responseParameters": {
                            "200": {"append:header.x-served-by": "gateway"}
                        },
                        "tlsConfig": {"serverNameToVerify": "petstore.example.com"}
                    }
                },
                "x-amazon-apigateway-any-method": {
                    "security": [{"lambda-authorizer": []}],
                    "x-amazon-apigateway-integration": {"$ref": "#/components/x-amazon-apigateway-integrations/pets"}
                }
            },
            "/pets": {
                "post": {
                    "x-amazon-apigateway-integration": {"$ref": "#/components/x-amazon-apigateway-integrations/pets"}
                }
            },
            "/$default": {
                "x-amazon-apigateway-any-method": {
                    "isDefaultRoute": true,
                    "x-amazon-apigateway-integration": {
                        "type": "aws_proxy",
                        "httpMethod": "POST",
                        "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:HelloWorld/invocations",
                        "payloadFormatVersion": "2.0",
                        "timeoutInMillis": 30000
                    }
                }
            }
        },
        "components": {
            "schemas": {"Body": {"type": "object", "properties": {"key": {"type": "string"}}}},
            "securitySchemes": {
                "jwt-authorizer": {
                    "type": "oauth2",
                    "flows": {},
                    "x-amazon-apigateway-authorizer": {
                        "type": "jwt",
                        "jwtConfiguration": {
                            "issuer": "https://cognito-idp.region.amazonaws.com/userPoolId",
                            "audience": ["audience1", "audience2"]
                        },
                        "identitySource": "$request.header.Authorization"
                    }
                },
                "lambda-authorizer": {
                    "type": "apiKey",
                    "name": "Authorization",
                    "in": "header",
                    "x-amazon-apigateway-authorizer": {
                        "identitySource": "$request.header.Authorization, $request.querystring.token",
                        "authorizerUri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:authz/invocations",
                        "authorizerPayloadFormatVersion": "2.0",
                        "authorizerResultTtlInSeconds": 300,
                        "type": "request",
                        "enableSimpleResponses": true
                    }
                }
            },
            "x-amazon-apigateway-integrations": {
                "pets": {
                    "type": "HTTP_PROXY",
                    "httpMethod": "ANY",
                    "uri": "https://petstore.example.com/pets",
                    "payloadFormatVersion": "1.0"
                }
            }
        },
        "x-amazon-apigateway-cors": {
            "allowOrigins": ["https://www.example.com"],
            "allowCredentials": true,
            "exposeHeaders": ["x-apigateway-header", "x-amz-date", "content-type"],
            "maxAge": 3600,
            "allowMethods": ["GET", "OPTIONS", "POST"],
            "allowHeaders": ["x-apigateway-header", "x-amz-date", "content-type"]
        }
    })
}

fn route<'a>(def: &'a HttpApiDefinition, key: &str) -> &'a RouteDef {
    def.routes
        .iter()
        .find(|r| r.route["routeKey"] == json!(key))
        .unwrap_or_else(|| panic!("no route {key}: {:?}", def.routes))
}

#[test]
fn documented_example_imports() {
    let def = import(&documented(), BasePath::Ignore).unwrap();
    assert_eq!(def.api["name"], json!("example-http-api"));
    assert_eq!(def.api["version"], json!("2020-11-19"));
    assert_eq!(def.api["description"], json!("pets"));
    assert_eq!(def.api["protocolType"], json!("HTTP"));
    assert_eq!(def.api["corsConfiguration"]["maxAge"], json!(3600));
    assert_eq!(
        def.api["corsConfiguration"]["allowOrigins"],
        json!(["https://www.example.com"])
    );
    let keys: Vec<&Value> = def.routes.iter().map(|r| &r.route["routeKey"]).collect();
    assert_eq!(
        keys,
        vec![
            &json!("$default"),
            &json!("ANY /pets/{petId}"),
            &json!("GET /"),
            &json!("GET /pets/{petId}"),
            &json!("POST /pets"),
        ]
    );

    let get = route(&def, "GET /pets/{petId}");
    assert_eq!(get.route["authorizationType"], json!("JWT"));
    assert_eq!(
        get.route["authorizationScopes"],
        json!(["pets.read", "pets.all"])
    );
    assert_eq!(get.route["operationName"], json!("getPet"));
    assert_eq!(get.authorizer.as_deref(), Some("jwt-authorizer"));
    let i = &def.integrations[get.integration.unwrap()];
    assert_eq!(i["integrationType"], json!("HTTP_PROXY"));
    assert_eq!(i["integrationMethod"], json!("GET"));
    assert_eq!(i["timeoutInMillis"], json!(10000));
    assert_eq!(
        i["requestParameters"]["overwrite:path"],
        json!("/pets/${request.path.petId}")
    );
    assert_eq!(
        i["responseParameters"]["200"]["append:header.x-served-by"],
        json!("gateway")
    );
    assert_eq!(
        i["tlsConfig"]["serverNameToVerify"],
        json!("petstore.example.com")
    );

    // The shared integration is one integration for both routes.
    let any = route(&def, "ANY /pets/{petId}");
    let post = route(&def, "POST /pets");
    assert_eq!(any.integration, post.integration);
    assert_eq!(any.route["authorizationType"], json!("CUSTOM"));
    assert_eq!(any.authorizer.as_deref(), Some("lambda-authorizer"));
    assert_eq!(post.route["authorizationType"], json!("NONE"));
    assert_eq!(def.integrations.len(), 4);

    let default = route(&def, "$default");
    let d = &def.integrations[default.integration.unwrap()];
    assert_eq!(d["integrationType"], json!("AWS_PROXY"));
    assert_eq!(d["payloadFormatVersion"], json!("2.0"));
    let root = &def.integrations[route(&def, "GET /").integration.unwrap()];
    assert_eq!(
        root["integrationUri"],
        json!("arn:aws:lambda:us-east-2:123456789012:function:HelloWorld")
    );

    assert_eq!(def.authorizers.len(), 2);
    let jwt = &def.authorizers[0];
    assert_eq!(jwt["name"], json!("jwt-authorizer"));
    assert_eq!(jwt["authorizerType"], json!("JWT"));
    assert_eq!(
        jwt["identitySource"],
        json!(["$request.header.Authorization"])
    );
    assert_eq!(
        jwt["jwtConfiguration"],
        json!({"issuer": "https://cognito-idp.region.amazonaws.com/userPoolId",
               "audience": ["audience1", "audience2"]})
    );
    let lambda = &def.authorizers[1];
    assert_eq!(lambda["authorizerType"], json!("REQUEST"));
    assert_eq!(
        lambda["identitySource"],
        json!([
            "$request.header.Authorization",
            "$request.querystring.token"
        ])
    );
    assert_eq!(lambda["authorizerPayloadFormatVersion"], json!("2.0"));
    assert_eq!(lambda["enableSimpleResponses"], json!(true));
    assert_eq!(lambda["authorizerResultTtlInSeconds"], json!(300));
    // requestBody is ignored without a warning (AWS's "info" category).
    assert!(def.warnings.is_empty(), "{:?}", def.warnings);
}

fn counter() -> impl FnMut() -> String {
    let mut n = 0;
    move || {
        n += 1;
        format!("id{n:03}")
    }
}

#[test]
fn import_export_import_is_the_same_definition() {
    let first = import(&documented(), BasePath::Ignore).unwrap();
    let stored = materialize(&first, counter());
    let exported = export(
        &stored,
        ExportOptions {
            include_extensions: true,
            stage: None,
            host: "abc.execute-api.localhost",
        },
    );
    // Through text, as a client gets it: JSON and YAML.
    let json_text = serde_json::to_string_pretty(&exported).unwrap();
    let yaml_text = serde_yaml_ng::to_string(&exported).unwrap();
    for text in [json_text, yaml_text] {
        let again = import(&parse(text.as_bytes()).unwrap(), BasePath::Ignore).unwrap();
        assert!(again.warnings.is_empty(), "{:?}", again.warnings);
        assert_eq!(again.without_warnings(), first.without_warnings());
    }
    // What the export writes, as AWS writes it.
    assert_eq!(exported["openapi"], json!("3.0.1"));
    assert_eq!(
        exported["x-amazon-apigateway-importexport-version"],
        json!("1.0")
    );
    assert_eq!(
        exported["paths"]["/$default"][ANY_METHOD]["isDefaultRoute"],
        json!(true)
    );
    assert_eq!(
        exported["paths"]["/pets/{petId}"]["get"]["security"],
        json!([{"jwt-authorizer": ["pets.read", "pets.all"]}])
    );
    assert_eq!(
        exported["paths"]["/pets/{petId}"]["get"]["parameters"][0]["name"],
        json!("petId")
    );
    assert_eq!(
        exported["paths"]["/pets"]["post"]["x-amazon-apigateway-integration"]["$ref"]
            .as_str()
            .map(|r| r.starts_with(INTEGRATIONS_REF)),
        Some(true)
    );
    assert_eq!(
        exported["paths"]["/"]["get"]["x-amazon-apigateway-integration"]["type"],
        json!("aws_proxy")
    );
    assert_eq!(
        exported["servers"][0]["url"],
        json!("https://abc.execute-api.localhost/{basePath}")
    );
}

#[test]
fn export_without_extensions_and_of_a_stage() {
    let stored = materialize(&import(&documented(), BasePath::Ignore).unwrap(), counter());
    let doc = export(
        &stored,
        ExportOptions {
            include_extensions: false,
            stage: Some("prod"),
            host: "abc.execute-api.localhost",
        },
    );
    let text = doc.to_string();
    // ANY routes keep x-amazon-apigateway-any-method: OpenAPI has no other way to say them.
    for ext in ["integration", "authorizer", "cors", "importexport-version"] {
        assert!(
            !text.contains(&format!("x-amazon-apigateway-{ext}")),
            "{text}"
        );
    }
    assert_eq!(
        doc["servers"][0]["variables"]["basePath"]["default"],
        json!("prod")
    );
    // Routes and security stay: it is still the API's OpenAPI description.
    assert!(doc["paths"]["/pets/{petId}"]["get"]["security"].is_array());
    assert_eq!(
        doc["components"]["securitySchemes"]["jwt-authorizer"]["type"],
        json!("oauth2")
    );
}

#[test]
fn yaml_documents_import() {
    let yaml = r#"
openapi: 3.0.1
info:
  title: yaml-api
  version: 1.0
paths:
  /items/{proxy+}:
    x-amazon-apigateway-any-method:
      x-amazon-apigateway-integration:
        type: http_proxy
        uri: http://backend.example.com/{proxy}
        payloadFormatVersion: "1.0"
"#;
    let def = import(&parse(yaml.as_bytes()).unwrap(), BasePath::Ignore).unwrap();
    assert_eq!(def.api["version"], json!("1.0"));
    assert_eq!(
        def.routes[0].route["routeKey"],
        json!("ANY /items/{proxy+}")
    );
    assert_eq!(def.integrations[0]["integrationMethod"], json!("ANY"));
}

#[test]
fn base_path_modes() {
    let doc = json!({
        "openapi": "3.0.0",
        "info": {"title": "t"},
        "servers": [{"url": "https://example.com/v1/api"}],
        "paths": {"/pets": {"get": {}}, "/": {"post": {}}}
    });
    let keys = |mode| -> Vec<Value> {
        import(&doc, mode)
            .unwrap()
            .routes
            .into_iter()
            .map(|r| r.route["routeKey"].clone())
            .collect()
    };
    assert_eq!(
        keys(BasePath::Ignore),
        vec![json!("GET /pets"), json!("POST /")]
    );
    assert_eq!(
        keys(BasePath::Prepend),
        vec![json!("GET /v1/api/pets"), json!("POST /v1/api")]
    );
    assert_eq!(
        keys(BasePath::Split),
        vec![json!("GET /api/pets"), json!("POST /api")]
    );
}

#[test]
fn unsupported_integrations_and_extensions_are_warnings() {
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "t"},
        "x-amazon-apigateway-binary-media-types": ["*/*"],
        "paths": {
            "/mock": {"get": {"x-amazon-apigateway-integration": {"type": "mock"}}},
            "/sqs": {"post": {"x-amazon-apigateway-integration": {
                "type": "aws_proxy", "integrationSubtype": "SQS-SendMessage", "uri": "x"}}},
            "/t": {"trace": {}}
        }
    });
    let def = import(&doc, BasePath::Ignore).unwrap();
    assert_eq!(def.routes.len(), 2);
    assert!(def.routes.iter().all(|r| r.integration.is_none()));
    assert!(def.integrations.is_empty());
    let w = def.warnings.join("\n");
    assert!(w.contains("integration type MOCK is not supported"), "{w}");
    assert!(w.contains("integrationSubtype"), "{w}");
    assert!(w.contains("x-amazon-apigateway-binary-media-types"), "{w}");
    assert!(w.contains("TRACE"), "{w}");
}

#[test]
fn invalid_documents_are_refused_saying_where() {
    let err = |doc: Value| import(&doc, BasePath::Ignore).unwrap_err().to_string();
    let e = err(json!({"swagger": "2.0", "info": {"title": "t"}, "paths": {}}));
    assert!(e.contains("OpenAPI 3.0"), "{e}");
    let e = err(json!({"openapi": "3.0.1", "info": {}, "paths": {}}));
    assert!(e.contains("info.title"), "{e}");
    let e = err(json!({"openapi": "3.0.1", "info": {"title": "t"},
        "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"$ref": "#/components/x-amazon-apigateway-integrations/nope"}}}}}));
    assert!(
        e.contains("paths./a.get.x-amazon-apigateway-integration")
            && e.contains("no such integration"),
        "{e}"
    );
    let e = err(json!({"openapi": "3.0.1", "info": {"title": "t"},
        "paths": {"/a": {"get": {"security": [{"missing": []}]}}}}));
    assert!(e.contains("no security scheme named missing"), "{e}");
    let e = err(json!({"openapi": "3.0.1", "info": {"title": "t"},
        "paths": {"/a": {"get": {"x-amazon-apigateway-integration": {"type": "grpc", "uri": "x"}}}}}));
    assert!(e.contains("unknown integration type 'GRPC'"), "{e}");
    let e = err(json!({"openapi": "3.0.1", "info": {"title": "t"},
        "paths": {"/a": {"get": {}}, "$default": {"get": {}}}}));
    assert!(e.contains("$default"), "{e}");
    let e = err(json!({"openapi": "3.0.1", "info": {"title": "t"},
        "x-amazon-apigateway-importexport-version": "2.0", "paths": {}}));
    assert!(e.contains("unsupported version"), "{e}");
    let e = err(json!({"openapi": "3.0.1", "info": {"title": "t"},
        "components": {"securitySchemes": {"a": {"type": "oauth2",
            "x-amazon-apigateway-authorizer": {"type": "jwt"}}}}, "paths": {}}));
    assert!(e.contains("jwtConfiguration.issuer"), "{e}");
}

#[test]
fn document_security_applies_and_openid_connect_names_the_issuer() {
    let doc = json!({
        "openapi": "3.0.1",
        "info": {"title": "t"},
        "security": [{"oidc": ["email"]}],
        "components": {"securitySchemes": {"oidc": {
            "type": "openIdConnect",
            "openIdConnectUrl": "https://issuer.example.com/.well-known/openid-configuration",
            "x-amazon-apigateway-authorizer": {"type": "jwt", "jwtConfiguration": {"audience": "app"}}
        }, "iam": {"type": "apiKey", "name": "Authorization", "in": "header",
                   "x-amazon-apigateway-authtype": "awsSigv4"}}},
        "paths": {"/a": {"get": {}, "put": {"security": []}, "post": {"security": [{"iam": []}]}}}
    });
    let def = import(&doc, BasePath::Ignore).unwrap();
    assert_eq!(
        def.authorizers[0]["jwtConfiguration"],
        json!({"issuer": "https://issuer.example.com", "audience": ["app"]})
    );
    let get = route(&def, "GET /a");
    assert_eq!(get.route["authorizationType"], json!("JWT"));
    assert_eq!(get.route["authorizationScopes"], json!(["email"]));
    assert_eq!(
        route(&def, "PUT /a").route["authorizationType"],
        json!("NONE")
    );
    assert_eq!(
        route(&def, "POST /a").route["authorizationType"],
        json!("AWS_IAM")
    );
}
