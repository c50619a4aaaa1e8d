-- Who may do what in the LOCAL database (ConnectionStrings:Contacts). Reviewed with docs/adr/0015.
-- `campaign-events migrate` applies this file after the migrations, as the owner of the tables
-- (the login of ConnectionStrings:Contacts when migrate runs), every time: a table that a later
-- migration adds gets its grant by a line here, in the same change as the migration. Only the
-- reader gets later tables by default (ALTER DEFAULT PRIVILEGES below); the other roles never do.
-- Idempotent. Role names all start with campaign_events_ (the tests apply this file with their own
-- prefix); a role that does not exist yet is created without a password (it cannot log in until
-- an admin sets one: infra/lib.sh, infra/compose/postgres-roles.sh), which needs CREATEROLE.
--
--   owner (the migrate login)    owns the tables; DDL; nothing else runs as it
--   campaign_events_sync         the sync consumers: read and write campaigns, contacts, tombstones
--   campaign_events_adapter      the source adapter's local state: its snapshot and version domain
--   campaign_events_reconcile    reconciliation: reads campaigns and contacts, writes its reports
--   campaign_events_reader       status and other read-only looks: SELECT on every table
--   campaign_events_pipeline     one process hosting every role (run, demo): member of sync,
--                                adapter and reconcile, nothing of its own

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['campaign_events_sync', 'campaign_events_adapter', 'campaign_events_reconcile',
                             'campaign_events_reader', 'campaign_events_pipeline']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a concurrent run
            END;
        END IF;
    END LOOP;
    -- the one login that hosts several roles has their grants
    FOREACH r IN ARRAY ARRAY['campaign_events_sync', 'campaign_events_adapter', 'campaign_events_reconcile']
    LOOP
        IF NOT pg_has_role('campaign_events_pipeline', r, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO campaign_events_pipeline', r);
        END IF;
    END LOOP;

    -- only these logins may connect; PUBLIC's default CONNECT and TEMPORARY go
    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO campaign_events_sync, campaign_events_adapter, '
        'campaign_events_reconcile, campaign_events_reader, campaign_events_pipeline', current_database());
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO campaign_events_sync, campaign_events_adapter, campaign_events_reconcile,
    campaign_events_reader;

-- sync: the rows it applies (migrations 001, 002); DELETE for deletes and the tombstone cleanup.
-- Not TRUNCATE, REFERENCES or TRIGGER; no other table.
GRANT SELECT, INSERT, UPDATE, DELETE ON campaigns, contacts, contact_tombstones TO campaign_events_sync;

-- the source adapter's state in the local database (migrations 003, 005)
GRANT SELECT, INSERT, UPDATE, DELETE ON source_adapter_state, source_version_domain TO campaign_events_adapter;

-- reconciliation: the local side of the digests, and its reports (migration 004)
GRANT SELECT ON campaigns, contacts TO campaign_events_reconcile;
GRANT SELECT, INSERT ON reconciliation_runs, reconciliation_run_keys TO campaign_events_reconcile;

-- status: reads everything, later tables included
GRANT SELECT ON ALL TABLES IN SCHEMA public TO campaign_events_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO campaign_events_reader;
