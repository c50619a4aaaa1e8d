-- Who may do what in the EXTERNAL (source) database (ConnectionStrings:Source), and the
-- publication the source adapter streams. Reviewed with docs/adr/0015.
-- A one-time step of the source's admin, run as the owner of the captured tables (or a
-- superuser), once the tables exist, and again after they are re-created:
--   psql "host=… dbname=… user=<owner of the tables>" -v ON_ERROR_STOP=1 -f database/roles/source.sql
-- The demo runs it after it creates its source tables; `campaign-events run --role source` checks
-- the result at start and says in one line what is missing. Idempotent. The table names are the
-- defaults (Source__CampaignsTable, Source__ContactsTable) and the publication's is
-- Source__PublicationName's default: edit them here for another source.
--
--   campaign_events_source   the source adapter and the source side of reconciliation: REPLICATION
--                            (a slot and its stream) and SELECT on the two tables; it writes nothing
--   campaign_events_reader   status: the slot's lag (pg_replication_slots, and pg_stat_replication's
--                            timings through pg_read_all_stats); no table

DO $$
DECLARE
    r text;
    publication text := 'campaign_events';
BEGIN
    FOREACH r IN ARRAY ARRAY['campaign_events_source', 'campaign_events_reader']
    LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I LOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a concurrent run
            END;
        END IF;
    END LOOP;
    IF NOT (SELECT rolreplication FROM pg_roles WHERE rolname = 'campaign_events_source') THEN
        ALTER ROLE campaign_events_source REPLICATION;
    END IF;
    IF NOT pg_has_role('campaign_events_reader', 'pg_read_all_stats', 'MEMBER') THEN
        GRANT pg_read_all_stats TO campaign_events_reader;
    END IF;

    EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO campaign_events_source, campaign_events_reader', current_database());

    -- the publication needs the tables' owner: this is why the step is the admin's.
    -- TRUNCATE is not captured: it carries no rows (reconciliation repairs it)
    IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = publication) THEN
        EXECUTE format('CREATE PUBLICATION %I FOR TABLE public.campaigns, public.contacts WITH (publish = %L)',
            publication, 'insert, update, delete');
    END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO campaign_events_source;
GRANT SELECT ON public.campaigns, public.contacts TO campaign_events_source;
