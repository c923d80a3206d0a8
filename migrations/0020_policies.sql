-- Management access control with IAM-style identity policies (docs/access-control.md).
-- A policy is a named IAM document; users have policies attached; an access key of a user
-- acts with its user's policies, narrowed by the key's own policies when it has some
-- (`scoped`). Keys from configuration (no user) keep full access.

CREATE TABLE iam_policies (
    name        TEXT PRIMARY KEY,
    document    JSONB NOT NULL,
    -- Built-in policies (AdministratorAccess, ReadOnlyAccess) cannot be deleted.
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Policy names are matched case-insensitively (as IAM does).
CREATE UNIQUE INDEX iam_policies_name ON iam_policies (lower(name));

-- An attached policy cannot be deleted (RESTRICT): detach it first, as in IAM. For a key
-- this matters for safety: a narrowing policy that vanished would widen the key.
CREATE TABLE console_user_policies (
    user_id      UUID NOT NULL REFERENCES console_users(id) ON DELETE CASCADE,
    policy_name  TEXT NOT NULL REFERENCES iam_policies(name) ON DELETE RESTRICT,
    PRIMARY KEY (user_id, policy_name)
);

ALTER TABLE access_keys ADD COLUMN scoped BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE access_key_policies (
    access_key_id  TEXT NOT NULL REFERENCES access_keys(access_key_id) ON DELETE CASCADE,
    policy_name    TEXT NOT NULL REFERENCES iam_policies(name) ON DELETE RESTRICT,
    PRIMARY KEY (access_key_id, policy_name)
);

INSERT INTO iam_policies (name, builtin, document) VALUES
('AdministratorAccess', TRUE,
 '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'),
('ReadOnlyAccess', TRUE,
 '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": [
     "apigateway:GET",
     "logs:Describe*", "logs:Get*", "logs:List*", "logs:Filter*",
     "cloudwatch:Describe*", "cloudwatch:Get*", "cloudwatch:List*",
     "cloudtrail:Describe*", "cloudtrail:Get*", "cloudtrail:List*", "cloudtrail:Lookup*"
   ], "Resource": "*"}]}');

-- Existing users keep what they could do: admins everything; the others now read only.
INSERT INTO console_user_policies (user_id, policy_name)
SELECT id, CASE WHEN is_admin THEN 'AdministratorAccess' ELSE 'ReadOnlyAccess' END
FROM console_users;
