-- 003: what the source adapter must remember locally between restarts.
-- Replication: the initial snapshot of a slot is complete only once every row of it was
-- confirmed by the broker; a row here says so. No row (a fresh local database, or a kill in the
-- middle of the snapshot) means the adapter reads a snapshot again before streaming.
-- Polling: the keyset position reached per table, advanced only after the broker confirmed.

CREATE TABLE source_adapter_state (
    capture_key            text PRIMARY KEY,
    snapshot_lsn           pg_lsn,
    snapshot_completed_at  timestamptz,
    campaigns_position     text,
    campaigns_last_id      text,
    contacts_position      text,
    contacts_last_id       text,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
