-- The default shape of the external (source) database, used by the tests, the demo and the
-- benchmarks: campaigns and contacts shaped like the local tables. Not a local migration.
-- REPLICA IDENTITY FULL makes a delete (and the old side of an update) carry every column, so
-- the adapter knows the campaign and phone of a deleted contact and the value of unchanged
-- large (TOASTed) metadata. updated_at is kept by a trigger for the polling mode.

CREATE TABLE IF NOT EXISTS campaigns (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    type        text NOT NULL,
    status      text NOT NULL,
    config      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS contacts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    campaign_id   uuid NOT NULL REFERENCES campaigns (id),
    phone_number  text NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT contacts_campaign_phone_key UNIQUE (campaign_id, phone_number)
);

ALTER TABLE contacts REPLICA IDENTITY FULL;

CREATE INDEX IF NOT EXISTS campaigns_updated_at_idx ON campaigns (updated_at, id);
CREATE INDEX IF NOT EXISTS contacts_updated_at_idx ON contacts (updated_at, id);

CREATE OR REPLACE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := clock_timestamp();
    RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS campaigns_touch ON campaigns;
CREATE TRIGGER campaigns_touch BEFORE UPDATE ON campaigns FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
DROP TRIGGER IF EXISTS contacts_touch ON contacts;
CREATE TRIGGER contacts_touch BEFORE UPDATE ON contacts FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
