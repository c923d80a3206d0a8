-- API mappings of custom domain names to HTTP API stages (apigatewayv2 CreateApiMapping,
-- issue 20). Domains are the REST API's (`domain_names`, one namespace for both APIs, as
-- in AWS); a domain maps REST stages through `base_path_mappings` and HTTP API stages
-- here. A key ('' for the empty key) is unique across both tables of a domain: the
-- control plane checks it under the domain's row lock. Deleting the domain or the API
-- deletes its mappings.
CREATE TABLE api_mappings (
    domain_name     TEXT NOT NULL REFERENCES domain_names(domain_name) ON DELETE CASCADE,
    api_mapping_id  TEXT NOT NULL,
    api_mapping_key TEXT NOT NULL,
    api_id          TEXT NOT NULL REFERENCES v2_apis(id) ON DELETE CASCADE,
    stage           TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (domain_name, api_mapping_id),
    UNIQUE (domain_name, api_mapping_key)
);
