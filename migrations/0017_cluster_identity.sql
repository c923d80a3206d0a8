-- The cluster's identity (issue 21, "Cluster identity"): one row, created by the first
-- control plane that starts on this database. Each control plane claims its Redis key
-- prefix with this id and refuses to start when the prefix is another cluster's.
CREATE TABLE cluster_identity (
    singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    cluster_id uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
