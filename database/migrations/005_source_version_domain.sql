-- 005: which version domain produced the local versions (docs/adr/0004, issue 13).
-- Versions come from the source's WAL positions (replication) or its polling column (polling).
-- A source restored from a backup, promoted from another cluster or replaced starts a new
-- domain with lower positions: every later change would lose to the stored rows. One row
-- records the domain (capture mode, the source cluster's system identifier and timeline); the
-- adapter refuses to start when the source it sees is another one, until
-- `campaign-events rebase-versions` has re-based the local versions and recorded the new domain.

CREATE TABLE source_version_domain (
    singleton          boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    capture_mode       text        NOT NULL CHECK (capture_mode IN ('replication', 'polling')),
    system_identifier  bigint      NOT NULL,
    timeline           integer     NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT now()
);
