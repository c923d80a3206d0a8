-- Custom domain names, their certificates, base path mappings, and the gateway's client
-- certificates towards backends (issue 18).

-- An uploaded server certificate (PEM): the end-entity certificate, its chain, and the
-- private key encrypted with the master key (AES-256-GCM, `keys::KeyVault`; never stored
-- in clear). A domain names one; a domain's rotation uploads a new one. Its ARN is
-- `arn:aws:acm:{region}::certificate/{id}` (CreateDomainName's `certificateArn` may name one).
CREATE TABLE certificates (
    id              TEXT PRIMARY KEY,
    name            TEXT,
    body_pem        TEXT NOT NULL,
    chain_pem       TEXT,
    private_key_enc BYTEA NOT NULL,
    not_after       BIGINT NOT NULL,
    uploaded_at     BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- A custom domain name (`DomainName` document, without key material), the certificate it
-- serves, and the mutual-TLS truststore (PEM bundle read at create/update time).
CREATE TABLE domain_names (
    domain_name     TEXT PRIMARY KEY,
    doc             JSONB NOT NULL,
    certificate_id  TEXT NOT NULL REFERENCES certificates(id),
    truststore_pem  TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Base path -> (API, stage) of a domain; '' is the empty base path, `(none)` on the wire.
-- Deleting the domain or the API deletes its mappings.
CREATE TABLE base_path_mappings (
    domain_name     TEXT NOT NULL REFERENCES domain_names(domain_name) ON DELETE CASCADE,
    base_path       TEXT NOT NULL,
    rest_api_id     TEXT NOT NULL REFERENCES rest_apis(id) ON DELETE CASCADE,
    stage           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (domain_name, base_path)
);

-- The gateway's client certificates (`ClientCertificate` document) and their private keys,
-- encrypted with the master key. Stages name one in `clientCertificateId`.
CREATE TABLE client_certificates (
    id              TEXT PRIMARY KEY,
    doc             JSONB NOT NULL,
    private_key_enc BYTEA NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
