-- 004: reconciliation reports. One row per run of `reconcile` (CLI, command or schedule), the
-- differing keys and the rows rejected at the source in a child table. No foreign key to
-- campaigns: a campaign that exists only at the source can be reconciled too.

CREATE TABLE reconciliation_runs (
    id                  uuid PRIMARY KEY,
    campaign_id         uuid NOT NULL,
    outcome             text NOT NULL CHECK (outcome IN ('consistent', 'drift', 'repaired')),
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL,
    source_contacts     bigint NOT NULL,
    local_contacts      bigint NOT NULL,
    buckets_compared    integer NOT NULL,
    buckets_differing   integer NOT NULL,
    settled_in_flight   integer NOT NULL,
    still_changing      integer NOT NULL,
    missing_locally     integer NOT NULL,
    extra_locally       integer NOT NULL,
    different           integer NOT NULL,
    rejected_at_source  integer NOT NULL,
    repair_requested    boolean NOT NULL,
    repaired_keys       integer NOT NULL,
    converged           boolean,
    source_lsn          pg_lsn
);

CREATE INDEX reconciliation_runs_campaign_started ON reconciliation_runs (campaign_id, started_at DESC);

-- kind: missing_locally / extra_locally / different (drift that remains at the end of the run),
-- repaired (a key that differed before the repair) or rejected_at_source (phone_number is then the
-- source's raw text and detail the reason).
CREATE TABLE reconciliation_run_keys (
    run_id          uuid NOT NULL REFERENCES reconciliation_runs (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('missing_locally', 'extra_locally', 'different', 'repaired', 'rejected_at_source')),
    phone_number    text NOT NULL,
    local_version   bigint,
    source_version  bigint,
    local_metadata  jsonb,
    source_metadata jsonb,
    detail          text,
    PRIMARY KEY (run_id, kind, phone_number)
);
