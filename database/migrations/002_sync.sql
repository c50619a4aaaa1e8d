-- 002: what the sync consumer needs (docs/adr/0001..0003).
-- Versions: rows written outside the pipeline (the seed's plain INSERTs) get -1, so any event
-- (versions are >= 0) replaces them. Last writer wins by source version; equal versions change
-- nothing, except that a delete wins over a change of the same version.

ALTER TABLE campaigns
    ADD COLUMN version     bigint      NOT NULL DEFAULT -1,
    ADD COLUMN applied_at  timestamptz NOT NULL DEFAULT now();

ALTER TABLE contacts
    ADD COLUMN version     bigint      NOT NULL DEFAULT -1,
    ADD COLUMN applied_at  timestamptz NOT NULL DEFAULT now();

-- A deleted contact leaves a tombstone with the delete's version, so a late older change cannot
-- bring it back. Its primary key is the index the guard reads; deleted_at serves the retention
-- cleanup (Sync:TombstoneRetention).
CREATE TABLE contact_tombstones (
    campaign_id   uuid        NOT NULL,
    phone_number  text        NOT NULL,
    version       bigint      NOT NULL,
    deleted_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign_id, phone_number)
);

CREATE INDEX contact_tombstones_deleted_at ON contact_tombstones (deleted_at);
