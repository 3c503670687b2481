//! The Lua scripts that change the cluster's state in Redis. Each runs atomically, so two nodes
//! placing players at once can never over-fill a match or lose a seat; each reads the clock
//! with `TIME` (Redis's own), so the nodes' clocks never have to agree.
//!
//! Every script takes the key prefix as `ARGV[1]`. Keys are built inside the scripts, which a
//! single Redis (or a Sentinel-managed primary) allows; Redis Cluster would not (docs/cluster.md).

use std::sync::LazyLock;

use redis::Script;

/// `now` in milliseconds, from Redis's clock; `purge(seats)` drops expired reservations and
/// returns the seats left (held = `0`, reserved = expiry in ms).
const PRELUDE: &str = r#"
local P = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function purge(sk)
  local seats = redis.call('HGETALL', sk)
  for i = 1, #seats, 2 do
    local v = tonumber(seats[i + 1])
    if v > 0 and v <= now then redis.call('HDEL', sk, seats[i]) end
  end
  return redis.call('HLEN', sk)
end
local function reindex(id, cap, taken)
  if taken >= cap then
    redis.call('ZREM', P .. 'open', id)
  elseif redis.call('ZSCORE', P .. 'open', id) then
    redis.call('ZADD', P .. 'open', taken, id)
  end
end
"#;

/// One node's refresh: ARGV = prefix, node id, ttl ms, node entry (JSON), draining (`1`/`0`),
/// its matches (JSON list of `{id, entry, open, capacity, holders, reserve}`), reservation ms.
/// `reserve` names a player to reserve a seat for (a match just created for them: the seat is
/// theirs before the match shows in the open index, so nobody can take it first). Writes the node and each
/// match with the TTL, makes each match's held seats exactly its holders (reservations stay until
/// they expire), deletes the node's matches that ended, puts each open match in the index by
/// seats taken, and forgets what expired. Returns live nodes, matches and open matches; or
/// `{-1, http}` when a live node with another address or start time holds this id (two
/// processes configured with one `node_id`), writing nothing.
const SYNC: &str = r#"
local id, ttl, draining = ARGV[2], tonumber(ARGV[3]), ARGV[5] == '1'
local mine_now = cjson.decode(ARGV[4])
local before = redis.call('GET', P .. 'node:' .. id)
if before then
  local other = cjson.decode(before)
  if other.http ~= mine_now.http or other.started_ms ~= mine_now.started_ms then
    return {-1, other.http}
  end
end
redis.call('SET', P .. 'node:' .. id, ARGV[4], 'PX', ttl)
redis.call('ZADD', P .. 'nodes', now + ttl, id)
local mine = P .. 'node-matches:' .. id
local list = cjson.decode(ARGV[6])
local live = {}
for _, m in ipairs(list) do live[m.id] = true end
for _, old in ipairs(redis.call('SMEMBERS', mine)) do
  if not live[old] then
    redis.call('DEL', P .. 'match:' .. old, P .. 'seats:' .. old)
    redis.call('ZREM', P .. 'matches', old)
    redis.call('ZREM', P .. 'open', old)
    redis.call('SREM', mine, old)
  end
end
for _, m in ipairs(list) do
  redis.call('SET', P .. 'match:' .. m.id, m.entry, 'PX', ttl)
  local sk = P .. 'seats:' .. m.id
  local holders = {}
  for _, h in ipairs(m.holders) do holders[h] = true end
  local seats = redis.call('HGETALL', sk)
  for i = 1, #seats, 2 do
    local v = tonumber(seats[i + 1])
    if (v == 0 and not holders[seats[i]]) or (v > 0 and v <= now) then
      redis.call('HDEL', sk, seats[i])
    end
  end
  for _, h in ipairs(m.holders) do redis.call('HSET', sk, h, 0) end
  if m.reserve then
    redis.call('HSET', sk, m.reserve, now + tonumber(ARGV[7]))
    redis.call('SET', P .. 'player:' .. m.reserve, m.id, 'PX', tonumber(ARGV[7]))
  end
  local taken = redis.call('HLEN', sk)
  if taken > 0 then redis.call('PEXPIRE', sk, ttl) end
  redis.call('ZADD', P .. 'matches', now + ttl, m.id)
  redis.call('SADD', mine, m.id)
  if m.open and not draining and taken < m.capacity then
    redis.call('ZADD', P .. 'open', taken, m.id)
  else
    redis.call('ZREM', P .. 'open', m.id)
  end
end
redis.call('PEXPIRE', mine, ttl)
for _, d in ipairs(redis.call('ZRANGEBYSCORE', P .. 'matches', '-inf', now)) do
  redis.call('ZREM', P .. 'open', d)
end
redis.call('ZREMRANGEBYSCORE', P .. 'matches', '-inf', now)
redis.call('ZREMRANGEBYSCORE', P .. 'nodes', '-inf', now)
return {redis.call('ZCARD', P .. 'nodes'), redis.call('ZCARD', P .. 'matches'),
        redis.call('ZCARD', P .. 'open')}
"#;

/// A seat for a player: ARGV = prefix, player, reservation ms, candidates to scan, and
/// optionally one match id (a match just created for them). Cancels the player's previous
/// reservation, then walks the open index fullest first, dropping entries whose match or node
/// is gone or whose node is draining, and reserves in the first with room. Returns
/// `{match id, owner's ws base}`, or nil when no open match has room.
const PLACE: &str = r#"
local player, sttl, scan, only = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local pk = P .. 'player:' .. player
local prev = redis.call('GET', pk)
if prev then
  local sk = P .. 'seats:' .. prev
  local v = redis.call('HGET', sk, player)
  if v and tonumber(v) > 0 then
    redis.call('HDEL', sk, player)
    local entry = redis.call('GET', P .. 'match:' .. prev)
    if entry then reindex(prev, cjson.decode(entry).capacity, redis.call('HLEN', sk)) end
  end
  redis.call('DEL', pk)
end
local cands
if only and only ~= '' then
  cands = {only}
else
  cands = redis.call('ZREVRANGE', P .. 'open', 0, scan - 1)
end
for _, id in ipairs(cands) do
  local mk = P .. 'match:' .. id
  local entry = redis.call('GET', mk)
  local m = entry and cjson.decode(entry)
  local node = m and redis.call('GET', P .. 'node:' .. m.node)
  local n = node and cjson.decode(node)
  if not n or n.draining or m.state ~= 'running' then
    redis.call('ZREM', P .. 'open', id)
  else
    local sk = P .. 'seats:' .. id
    local taken = purge(sk)
    local v = redis.call('HGET', sk, player)
    if v or taken < m.capacity then
      if not v or tonumber(v) > 0 then redis.call('HSET', sk, player, now + sttl) end
      redis.call('PEXPIRE', sk, redis.call('PTTL', mk))
      reindex(id, m.capacity, redis.call('HLEN', sk))
      redis.call('SET', pk, id, 'PX', sttl)
      return {id, n.ws}
    end
    redis.call('ZREM', P .. 'open', id)
  end
end
return false
"#;

/// The owner's check at a handshake for a player with no seat there: ARGV = prefix, match id,
/// player, ticket ok (`1`/`0`), capacity, reservation ms. A reservation (from any node) is the
/// player's; otherwise a free seat needs the ticket (private matches) and room. The seat is
/// marked reserved until the owner's next refresh marks it held. Returns `ok`, `full` or
/// `ticket`.
const TAKE: &str = r#"
local id, player, ticket_ok, cap, sttl = ARGV[2], ARGV[3], ARGV[4] == '1', tonumber(ARGV[5]), tonumber(ARGV[6])
local sk = P .. 'seats:' .. id
local taken = purge(sk)
local v = redis.call('HGET', sk, player)
if not v then
  if not ticket_ok then return 'ticket' end
  if taken >= cap then return 'full' end
end
redis.call('HSET', sk, player, now + sttl)
local pttl = redis.call('PTTL', P .. 'match:' .. id)
redis.call('PEXPIRE', sk, pttl > 0 and pttl or sttl)
reindex(id, cap, redis.call('HLEN', sk))
return 'ok'
"#;

/// Every live node's entry (JSON), oldest expiry first: ARGV = prefix.
const NODES: &str = r#"
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', now, '+inf')) do
  local v = redis.call('GET', P .. 'node:' .. id)
  if v then table.insert(out, v) end
end
return out
"#;

/// Live matches as `{entry, seats taken}` pairs: ARGV = prefix, and optionally one match id.
const MATCHES: &str = r#"
local ids
if ARGV[2] and ARGV[2] ~= '' then
  ids = {ARGV[2]}
else
  ids = redis.call('ZRANGEBYSCORE', P .. 'matches', now, '+inf')
end
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('GET', P .. 'match:' .. id)
  if v then
    table.insert(out, v)
    table.insert(out, purge(P .. 'seats:' .. id))
  end
end
return out
"#;

/// A node leaving on purpose: ARGV = prefix, node id. Its entry and its matches' go at once.
const LEAVE: &str = r#"
local id = ARGV[2]
local mine = P .. 'node-matches:' .. id
for _, m in ipairs(redis.call('SMEMBERS', mine)) do
  redis.call('DEL', P .. 'match:' .. m, P .. 'seats:' .. m)
  redis.call('ZREM', P .. 'matches', m)
  redis.call('ZREM', P .. 'open', m)
end
redis.call('DEL', mine, P .. 'node:' .. id)
redis.call('ZREM', P .. 'nodes', id)
return now
"#;

/// Releases the creation lock if it is still ours: ARGV = prefix, token.
const UNLOCK: &str = r#"
if redis.call('GET', P .. 'creating') == ARGV[2] then redis.call('DEL', P .. 'creating') end
return now
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

pub(super) static SYNC_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SYNC));
pub(super) static PLACE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(PLACE));
pub(super) static TAKE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(TAKE));
pub(super) static NODES_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(NODES));
pub(super) static MATCHES_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(MATCHES));
pub(super) static LEAVE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(LEAVE));
pub(super) static UNLOCK_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(UNLOCK));
