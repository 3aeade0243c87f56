-- Realmkeep schema, release 1. Expand-only: see crates/realmkeep-store/src/migration_lint.rs.
-- Player progress lives here and nowhere else. Every item instance sits in exactly one place,
-- enforced by the database: see "item placement" below.

-- Definitions (game content, loaded by `realmkeep seed`) ----------------------------------------

CREATE TABLE item_definitions (
    id          integer PRIMARY KEY,
    name        text    NOT NULL,
    kind        text    NOT NULL CHECK (kind IN ('weapon', 'armor', 'consumable', 'material', 'quest')),
    equip_slot  text    CHECK (equip_slot IN ('head', 'chest', 'legs', 'feet', 'hands', 'main_hand', 'off_hand', 'neck', 'ring')),
    max_stack   integer NOT NULL CHECK (max_stack BETWEEN 1 AND 1000),
    price       bigint  NOT NULL CHECK (price >= 0),
    level_req   integer NOT NULL DEFAULT 1,
    bonus       jsonb   NOT NULL DEFAULT '{}'::jsonb,
    CHECK (equip_slot IS NULL OR max_stack = 1)
);

CREATE TABLE skill_definitions (
    id          integer PRIMARY KEY,
    name        text    NOT NULL,
    class       text    CHECK (class IN ('warrior', 'mage', 'ranger', 'cleric')),
    max_level   integer NOT NULL CHECK (max_level >= 1),
    cooldown_ms integer NOT NULL CHECK (cooldown_ms >= 0),
    mana_cost   integer NOT NULL CHECK (mana_cost >= 0),
    damage      integer NOT NULL DEFAULT 0,
    heal        integer NOT NULL DEFAULT 0,
    range       real    NOT NULL DEFAULT 0,
    level_req   integer NOT NULL DEFAULT 1
);

CREATE TABLE monster_definitions (
    id          integer PRIMARY KEY,
    name        text    NOT NULL,
    level       integer NOT NULL,
    data        jsonb   NOT NULL
);

CREATE TABLE quest_definitions (
    id              integer PRIMARY KEY,
    name            text    NOT NULL,
    level_req       integer NOT NULL DEFAULT 1,
    target_monster  integer NOT NULL REFERENCES monster_definitions (id),
    target_count    integer NOT NULL CHECK (target_count >= 1),
    reward_xp       bigint  NOT NULL CHECK (reward_xp >= 0),
    reward_gold     bigint  NOT NULL CHECK (reward_gold >= 0),
    reward_items    jsonb   NOT NULL DEFAULT '[]'::jsonb
);

CREATE TABLE zone_definitions (
    id          integer PRIMARY KEY,
    name        text    NOT NULL,
    data        jsonb   NOT NULL
);

-- Accounts and characters ----------------------------------------------------------------------

CREATE TABLE accounts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username        text        NOT NULL,
    email           text        NOT NULL,
    password_hash   text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    last_login_at   timestamptz
);
CREATE UNIQUE INDEX accounts_username_lower ON accounts (lower(username));
CREATE UNIQUE INDEX accounts_email_lower ON accounts (lower(email));

CREATE TABLE characters (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts (id),
    name            text        NOT NULL,
    class           text        NOT NULL CHECK (class IN ('warrior', 'mage', 'ranger', 'cleric')),
    kingdom         text        NOT NULL CHECK (kingdom IN ('aldor', 'veyra', 'korrim')),
    level           integer     NOT NULL DEFAULT 1 CHECK (level BETWEEN 1 AND 60),
    xp              bigint      NOT NULL DEFAULT 0 CHECK (xp >= 0),
    gold            bigint      NOT NULL DEFAULT 0 CHECK (gold >= 0 AND gold <= 1000000000000),
    strength        integer     NOT NULL,
    agility         integer     NOT NULL,
    intellect       integer     NOT NULL,
    stamina         integer     NOT NULL,
    health          integer     NOT NULL CHECK (health >= 0),
    mana            integer     NOT NULL CHECK (mana >= 0),
    zone_id         integer     NOT NULL REFERENCES zone_definitions (id),
    pvp_kills       integer     NOT NULL DEFAULT 0 CHECK (pvp_kills >= 0),
    created_at      timestamptz NOT NULL DEFAULT now(),
    saved_at        timestamptz NOT NULL DEFAULT now(),
    -- Claims: which zone holds the character, the fencing epoch and the lease.
    claim_holder    text,
    claim_epoch     bigint      NOT NULL DEFAULT 0,
    claim_expires_at timestamptz,
    CHECK ((claim_holder IS NULL) = (claim_expires_at IS NULL))
);
CREATE UNIQUE INDEX characters_name_lower ON characters (lower(name));
CREATE INDEX characters_account ON characters (account_id);
CREATE INDEX characters_claim_holder ON characters (claim_holder) WHERE claim_holder IS NOT NULL;
CREATE INDEX characters_level ON characters (level DESC, xp DESC);

CREATE TABLE character_positions (
    character_id    bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    zone_id         integer     NOT NULL REFERENCES zone_definitions (id),
    x               real        NOT NULL,
    y               real        NOT NULL,
    z               real        NOT NULL DEFAULT 0,
    rotation        real        NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (character_id, zone_id)
);

CREATE TABLE skills (
    character_id    bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    skill_id        integer     NOT NULL REFERENCES skill_definitions (id),
    level           integer     NOT NULL CHECK (level >= 1),
    learned_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (character_id, skill_id)
);

CREATE TABLE quests (
    character_id    bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    quest_id        integer     NOT NULL REFERENCES quest_definitions (id),
    status          text        NOT NULL CHECK (status IN ('active', 'completed')),
    progress        integer     NOT NULL DEFAULT 0 CHECK (progress >= 0),
    accepted_at     timestamptz NOT NULL DEFAULT now(),
    completed_at    timestamptz,
    PRIMARY KEY (character_id, quest_id),
    CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

-- Guilds and friends ---------------------------------------------------------------------------

CREATE TABLE guilds (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text        NOT NULL,
    leader_character_id bigint      NOT NULL REFERENCES characters (id),
    settings            jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX guilds_name_lower ON guilds (lower(name));

-- Ranks of a guild: 0 is the leader's; permissions is a bit set (see store::guilds::Permission).
CREATE TABLE guild_ranks (
    guild_id        bigint   NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    rank            smallint NOT NULL CHECK (rank BETWEEN 0 AND 9),
    name            text     NOT NULL,
    permissions     integer  NOT NULL DEFAULT 0,
    PRIMARY KEY (guild_id, rank)
);

CREATE TABLE guild_members (
    character_id    bigint      PRIMARY KEY REFERENCES characters (id) ON DELETE CASCADE,
    guild_id        bigint      NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    rank            smallint    NOT NULL,
    joined_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (guild_id, rank) REFERENCES guild_ranks (guild_id, rank)
);
CREATE INDEX guild_members_guild ON guild_members (guild_id);

CREATE TABLE guild_invites (
    guild_id        bigint      NOT NULL REFERENCES guilds (id) ON DELETE CASCADE,
    character_id    bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    invited_by      bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    expires_at      timestamptz NOT NULL,
    PRIMARY KEY (guild_id, character_id)
);

-- One row per direction: (a, b) says what a holds about b.
CREATE TABLE friendships (
    character_id    bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    other_id        bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    status          text        NOT NULL CHECK (status IN ('requested', 'pending', 'accepted', 'blocked')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (character_id, other_id),
    CHECK (character_id <> other_id)
);
CREATE INDEX friendships_other ON friendships (other_id);

-- Items and their places -----------------------------------------------------------------------
-- An item instance names its one place in `location`; each place table holds the item with a
-- constant location and a foreign key on (item_id, location), so no item can be referenced from
-- two kinds of place, and UNIQUE(item_id) in each place table stops two rows of one kind. The
-- deferred trigger item_must_be_placed stops an item from existing nowhere.

CREATE TABLE item_instances (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    def_id      integer     NOT NULL REFERENCES item_definitions (id),
    quantity    integer     NOT NULL CHECK (quantity > 0),
    location    text        NOT NULL CHECK (location IN ('inventory', 'equipment', 'mail', 'market')),
    origin      text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, location)
);

CREATE TABLE inventories (
    character_id    bigint   NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    slot            smallint NOT NULL CHECK (slot >= 0 AND slot < 60),
    item_id         bigint   NOT NULL UNIQUE,
    location        text     NOT NULL DEFAULT 'inventory' CHECK (location = 'inventory'),
    PRIMARY KEY (character_id, slot),
    FOREIGN KEY (item_id, location) REFERENCES item_instances (id, location)
        DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE equipment (
    character_id    bigint   NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    slot            text     NOT NULL CHECK (slot IN ('head', 'chest', 'legs', 'feet', 'hands', 'main_hand', 'off_hand', 'neck', 'ring')),
    item_id         bigint   NOT NULL UNIQUE,
    location        text     NOT NULL DEFAULT 'equipment' CHECK (location = 'equipment'),
    PRIMARY KEY (character_id, slot),
    FOREIGN KEY (item_id, location) REFERENCES item_instances (id, location)
        DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE mail (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender_character_id     bigint REFERENCES characters (id) ON DELETE SET NULL,
    recipient_character_id  bigint      NOT NULL REFERENCES characters (id) ON DELETE CASCADE,
    kind                    text        NOT NULL CHECK (kind IN ('player', 'system', 'returned', 'market')),
    subject                 text        NOT NULL,
    body                    text        NOT NULL DEFAULT '',
    gold                    bigint      NOT NULL DEFAULT 0 CHECK (gold >= 0),
    sent_at                 timestamptz NOT NULL DEFAULT now(),
    expires_at              timestamptz NOT NULL,
    read_at                 timestamptz,
    claimed_at              timestamptz
);
CREATE INDEX mail_recipient ON mail (recipient_character_id, sent_at DESC);
CREATE INDEX mail_expires ON mail (expires_at);

CREATE TABLE mail_attachments (
    mail_id     bigint   NOT NULL REFERENCES mail (id),
    position    smallint NOT NULL CHECK (position >= 0 AND position < 8),
    item_id     bigint   NOT NULL UNIQUE,
    location    text     NOT NULL DEFAULT 'mail' CHECK (location = 'mail'),
    PRIMARY KEY (mail_id, position),
    FOREIGN KEY (item_id, location) REFERENCES item_instances (id, location)
        DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE marketplace_listings (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seller_character_id bigint      NOT NULL REFERENCES characters (id),
    item_id             bigint      NOT NULL UNIQUE,
    location            text        NOT NULL DEFAULT 'market' CHECK (location = 'market'),
    item_def_id         integer     NOT NULL REFERENCES item_definitions (id),
    quantity            integer     NOT NULL CHECK (quantity > 0),
    price               bigint      NOT NULL CHECK (price > 0 AND price <= 1000000000000),
    listed_at           timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    FOREIGN KEY (item_id, location) REFERENCES item_instances (id, location)
        DEFERRABLE INITIALLY DEFERRED
);
CREATE INDEX marketplace_by_item_price ON marketplace_listings (item_def_id, price, id);
CREATE INDEX marketplace_by_price ON marketplace_listings (price, id);
CREATE INDEX marketplace_by_seller ON marketplace_listings (seller_character_id);
CREATE INDEX marketplace_expires ON marketplace_listings (expires_at);

CREATE INDEX item_instances_def ON item_instances (def_id);

-- Item placement: an item instance that exists must stand in exactly the one place its location
-- names, checked at commit so a move may delete and insert in any order inside its transaction.
CREATE FUNCTION item_placement_count(item bigint, loc text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT CASE loc
        WHEN 'inventory' THEN (SELECT count(*) FROM inventories WHERE item_id = item)
        WHEN 'equipment' THEN (SELECT count(*) FROM equipment WHERE item_id = item)
        WHEN 'mail'      THEN (SELECT count(*) FROM mail_attachments WHERE item_id = item)
        WHEN 'market'    THEN (SELECT count(*) FROM marketplace_listings WHERE item_id = item)
    END::integer
$$;

CREATE FUNCTION check_item_placed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    item bigint;
    loc  text;
BEGIN
    IF TG_TABLE_NAME = 'item_instances' THEN
        item := NEW.id;
    ELSE
        item := OLD.item_id;
    END IF;
    SELECT location INTO loc FROM item_instances WHERE id = item;
    IF loc IS NOT NULL AND item_placement_count(item, loc) <> 1 THEN
        RAISE EXCEPTION 'item % is not in exactly one place (location %)', item, loc
            USING ERRCODE = '23514', CONSTRAINT = 'item_must_be_placed';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER INSERT OR UPDATE ON item_instances
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();
CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER DELETE OR UPDATE ON inventories
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();
CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER DELETE OR UPDATE ON equipment
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();
CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER DELETE OR UPDATE ON mail_attachments
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();
CREATE CONSTRAINT TRIGGER item_must_be_placed AFTER DELETE OR UPDATE ON marketplace_listings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION check_item_placed();

-- Bans -----------------------------------------------------------------------------------------

CREATE TABLE bans (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      bigint REFERENCES accounts (id),
    ip              inet,
    reason          text        NOT NULL,
    issued_by       text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz,
    revoked_at      timestamptz,
    revoked_by      text,
    revoke_reason   text,
    CHECK ((account_id IS NULL) <> (ip IS NULL)),
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX bans_account ON bans (account_id, created_at DESC) WHERE account_id IS NOT NULL;
CREATE INDEX bans_ip ON bans (ip, created_at DESC) WHERE ip IS NOT NULL;

-- Game logs: append-only, partitioned by month, archived by `realmkeep logs archive` -----------

CREATE TABLE game_logs (
    id                  bigint GENERATED ALWAYS AS IDENTITY,
    occurred_at         timestamptz NOT NULL DEFAULT now(),
    event_type          text        NOT NULL,
    actor_character_id  bigint,
    target_character_id bigint,
    item_id             bigint,
    item_def_id         integer,
    quantity            integer,
    gold                bigint,
    zone_id             integer,
    details             jsonb       NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (occurred_at, id)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX game_logs_actor ON game_logs (actor_character_id, occurred_at);
CREATE INDEX game_logs_item ON game_logs (item_id) WHERE item_id IS NOT NULL;

CREATE FUNCTION game_logs_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'game_logs is append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER game_logs_append_only BEFORE UPDATE OR DELETE ON game_logs
    FOR EACH ROW EXECUTE FUNCTION game_logs_append_only();

-- Creates the month partition holding `at`, if missing. Name: game_logs_yYYYYmMM.
CREATE FUNCTION ensure_game_logs_partition(at timestamptz) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    lo   timestamptz := date_trunc('month', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
    hi   timestamptz := (date_trunc('month', at AT TIME ZONE 'UTC') + interval '1 month') AT TIME ZONE 'UTC';
    name text := 'game_logs_y' || to_char(at AT TIME ZONE 'UTC', 'YYYY') || 'm' || to_char(at AT TIME ZONE 'UTC', 'MM');
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF game_logs FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
    END IF;
    RETURN name;
END
$$;

SELECT ensure_game_logs_partition(now() - interval '1 month');
SELECT ensure_game_logs_partition(now());
SELECT ensure_game_logs_partition(now() + interval '1 month');
SELECT ensure_game_logs_partition(now() + interval '2 months');
