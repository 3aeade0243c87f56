//! The Lua scripts: each one is a step that must be atomic in Redis. Keys always come in
//! `KEYS`, formed by [`crate::keys`]; no script builds a key name.

use redis::Script;
use std::sync::LazyLock;

/// Shared Lua: recompute `zone:{id}:entity_count` as the sum of the per-node hash.
/// KEYS[a] = the per-node hash, KEYS[b] = the total.
macro_rules! recompute_total {
    ($by_node:literal, $total:literal) => {
        concat!(
            "local total = 0\n",
            "for _, v in ipairs(redis.call('HVALS', KEYS[",
            $by_node,
            "])) do total = total + tonumber(v) end\n",
            "redis.call('SET', KEYS[",
            $total,
            "], total)\n"
        )
    };
}

/// A player enters a zone on this node.
/// KEYS: presence, zone players, node members, zone by-node hash, zone total, node zones.
/// ARGV: player, presence JSON, presence TTL ms, member, node, contribution, zone.
pub static ENTER_ZONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])\n",
        "redis.call('SADD', KEYS[2], ARGV[1])\n",
        "redis.call('SADD', KEYS[3], ARGV[4])\n",
        "redis.call('SADD', KEYS[6], ARGV[7])\n",
        "redis.call('HSET', KEYS[4], ARGV[5], ARGV[6])\n",
        recompute_total!("4", "5"),
        "return total\n"
    ))
});

/// A player leaves a zone on this node. Presence is deleted only if it is still ours, and the
/// zone set keeps the player if another node already placed them in the same zone.
/// KEYS: presence, zone players, node members, zone by-node hash, zone total.
/// ARGV: player, our presence JSON, member, node, contribution, zone.
pub static LEAVE_ZONE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local p = redis.call('GET', KEYS[1])\n",
        "local keep = false\n",
        "if p then\n",
        "  if p == ARGV[2] then redis.call('DEL', KEYS[1])\n",
        "  else\n",
        "    local ok, d = pcall(cjson.decode, p)\n",
        "    if ok and type(d) == 'table' and tostring(d.zone) == ARGV[6] then keep = true end\n",
        "  end\n",
        "end\n",
        "if not keep then redis.call('SREM', KEYS[2], ARGV[1]) end\n",
        "redis.call('SREM', KEYS[3], ARGV[3])\n",
        "if tonumber(ARGV[5]) > 0 then redis.call('HSET', KEYS[4], ARGV[4], ARGV[5])\n",
        "else redis.call('HDEL', KEYS[4], ARGV[4]) end\n",
        recompute_total!("4", "5"),
        "return total\n"
    ))
});

/// Sets this node's contribution to a zone's entity count.
/// KEYS: zone by-node hash, zone total, node zones. ARGV: node, contribution, zone.
pub static SET_CONTRIBUTION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "if tonumber(ARGV[2]) > 0 then\n",
        "  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]); redis.call('SADD', KEYS[3], ARGV[3])\n",
        "else redis.call('HDEL', KEYS[1], ARGV[1]); redis.call('SREM', KEYS[3], ARGV[3]) end\n",
        recompute_total!("1", "2"),
        "return total\n"
    ))
});

/// Removes one ghost of a dead node, unless the node's lease came back.
/// KEYS: dead lease, presence, zone players, dead node members. ARGV: player, dead node, zone, member.
/// Returns -1 if the node is alive, else 1 if the player left the zone set, 0 if not.
pub static REMOVE_GHOST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end\n",
        "local p = redis.call('GET', KEYS[2])\n",
        "local keep = false\n",
        "if p then\n",
        "  local ok, d = pcall(cjson.decode, p)\n",
        "  if ok and type(d) == 'table' then\n",
        "    if d.node == ARGV[2] then redis.call('DEL', KEYS[2])\n",
        "    elseif tostring(d.zone) == ARGV[3] then keep = true end\n",
        "  end\n",
        "end\n",
        "local removed = 0\n",
        "if not keep then removed = redis.call('SREM', KEYS[3], ARGV[1]) end\n",
        "redis.call('SREM', KEYS[4], ARGV[4])\n",
        "return removed\n"
    ))
});

/// Removes a dead node's contribution to one zone's entity count.
/// KEYS: dead lease, zone by-node hash, zone total, dead node zones. ARGV: dead node, zone.
pub static REMOVE_DEAD_CONTRIBUTION: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end\n",
        "redis.call('HDEL', KEYS[2], ARGV[1])\n",
        recompute_total!("2", "3"),
        "redis.call('SREM', KEYS[4], ARGV[2])\n",
        "return total\n"
    ))
});

/// Forgets a dead node once nothing of it is left. KEYS: lease, members, zones, known nodes.
/// ARGV: node. Returns -1 alive, 0 work left, 1 forgotten.
pub static FORGET_NODE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end\n",
        "if redis.call('SCARD', KEYS[2]) > 0 or redis.call('SCARD', KEYS[3]) > 0 then return 0 end\n",
        "redis.call('SREM', KEYS[4], ARGV[1])\n",
        "return 1\n"
    ))
});

/// Fixed-window rate limit: count the hit, start the window on the first one.
/// KEYS: counter. ARGV: window ms. Returns {count, ms left in the window}.
pub static RATE_LIMIT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local n = redis.call('INCR', KEYS[1])\n",
        "local ttl = redis.call('PTTL', KEYS[1])\n",
        "if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end\n",
        "return {n, ttl}\n"
    ))
});

/// The same fixed windows, many at once (the node's tally, `rate_tally.rs`): each key counts its
/// hits and starts its window on the first one. KEYS: counters. ARGV: per key, its window ms then
/// its hits. Returns, per key, its count then the ms left in its window.
pub static RATE_LIMIT_MANY: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local out = {}\n",
        "for i, key in ipairs(KEYS) do\n",
        "  local window = tonumber(ARGV[2 * i - 1])\n",
        "  local n = redis.call('INCRBY', key, ARGV[2 * i])\n",
        "  local ttl = redis.call('PTTL', key)\n",
        "  if ttl < 0 then redis.call('PEXPIRE', key, window); ttl = window end\n",
        "  out[2 * i - 1] = n\n",
        "  out[2 * i] = ttl\n",
        "end\n",
        "return out\n"
    ))
});

/// Starts a cooldown unless one runs. KEYS: cooldown. ARGV: ms.
/// Returns -1 if started, else the ms left.
pub static COOLDOWN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return -1 end\n",
        "local left = redis.call('PTTL', KEYS[1])\n",
        "if left < 0 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]); return -1 end\n",
        "return left\n"
    ))
});

/// Shared Lua: the Redis clock in ms, so every node queues on the same clock.
macro_rules! redis_now_ms {
    () => {
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    };
}

/// Joins a queue unless the player waits in any queue already (a stale entry, older than that
/// queue's timeout, does not count and is removed).
/// KEYS: every queue. ARGV: player, index of the queue to join, then each queue's timeout ms.
/// Returns 0 if joined, else the index of the queue the player already waits in.
pub static QUEUE_JOIN: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        redis_now_ms!(),
        "for i, k in ipairs(KEYS) do\n",
        "  local s = redis.call('ZSCORE', k, ARGV[1])\n",
        "  if s then\n",
        "    if tonumber(s) >= now - tonumber(ARGV[2 + i]) then return i end\n",
        "    redis.call('ZREM', k, ARGV[1])\n",
        "  end\n",
        "end\n",
        "redis.call('ZADD', KEYS[tonumber(ARGV[2])], now, ARGV[1])\n",
        "return 0\n"
    ))
});

/// Drops timed-out entries and pops the oldest full group, all at once: no player can be in two
/// groups, whichever nodes pop concurrently.
/// KEYS: queue. ARGV: group size, timeout ms, most timed-out entries dropped per call.
/// Returns {group, timed out}.
pub static QUEUE_POP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        redis_now_ms!(),
        "local cutoff = now - tonumber(ARGV[2])\n",
        "local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. cutoff, 'LIMIT', 0, tonumber(ARGV[3]))\n",
        "if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end\n",
        "local size = tonumber(ARGV[1])\n",
        "local group = {}\n",
        "if redis.call('ZCARD', KEYS[1]) >= size then\n",
        "  group = redis.call('ZRANGE', KEYS[1], 0, size - 1)\n",
        "  redis.call('ZREM', KEYS[1], unpack(group))\n",
        "end\n",
        "return {group, expired}\n"
    ))
});

/// Appends a chat message to its second's bucket and indexes the bucket.
/// KEYS: bucket, index. ARGV: message JSON, second, TTL s, bucket max, oldest second kept, index max.
pub static CHAT_POST: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "redis.call('RPUSH', KEYS[1], ARGV[1])\n",
        "redis.call('LTRIM', KEYS[1], -tonumber(ARGV[4]), -1)\n",
        "redis.call('EXPIRE', KEYS[1], ARGV[3])\n",
        "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[2])\n",
        "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[5])\n",
        "redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(tonumber(ARGV[6]) + 1))\n",
        "redis.call('EXPIRE', KEYS[2], ARGV[3])\n",
        "return 1\n"
    ))
});

/// Counts a kill in a war, keeping its TTL. KEYS: war. ARGV: the field to add one to.
/// Returns 1 if counted, 0 if no war runs.
/// Redis's clock in ms, as `now` (a script's time: every node agrees on it).
macro_rules! redis_now_ms {
    () => {
        "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    };
}

/// Declares a war unless one runs, and indexes it until its end.
/// KEYS: the war, the index. ARGV: state JSON, duration ms, index member. Returns 1 if started.
pub static DECLARE_WAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        redis_now_ms!(),
        "if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end\n",
        "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[3])\n",
        "return 1\n"
    ))
});

/// Ends a war and takes it out of the index. KEYS: the war, the index. ARGV: index member.
/// Returns 1 if a war ran.
pub static END_WAR: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local n = redis.call('DEL', KEYS[1])\n",
        "redis.call('ZREM', KEYS[2], ARGV[1])\n",
        "return n\n"
    ))
});

/// The wars in force: the index pruned of ended ones, then at most ARGV[1] members.
/// KEYS: the index.
pub static LIST_WARS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        redis_now_ms!(),
        "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)\n",
        "return redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)\n"
    ))
});

pub static WAR_KILL: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        "local v = redis.call('GET', KEYS[1])\n",
        "if not v then return 0 end\n",
        "local d = cjson.decode(v)\n",
        "d[ARGV[1]] = (tonumber(d[ARGV[1]]) or 0) + 1\n",
        "redis.call('SET', KEYS[1], cjson.encode(d), 'KEEPTTL')\n",
        "return 1\n"
    ))
});
