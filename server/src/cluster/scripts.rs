//! The Lua scripts that change the cluster's state in Redis. Each runs atomically, so two nodes
//! placing players at once can never over-fill a match or lose a seat; each reads the clock
//! with `TIME` (Redis's own), so the nodes' clocks never have to agree.
//!
//! Every script takes the key prefix as `ARGV[1]`. Keys are built inside the scripts, which a
//! single Redis (or a Sentinel-managed primary) allows; Redis Cluster would not (docs/cluster.md).

use std::sync::LazyLock;

use redis::Script;

/// `now` in milliseconds, from Redis's clock; `purge(seats)` drops expired reservations and
/// returns the seats left (held = `0`, reserved = expiry in ms); `forget_match` deletes a match
/// and its seats everywhere, `forget_matches_of` every match of a node; `reindex` moves a match in
/// the open index after its seats changed.
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
local function forget_match(m)
  redis.call('DEL', P .. 'match:' .. m, P .. 'seats:' .. m)
  redis.call('SREM', P .. 'matches', m)
  redis.call('ZREM', P .. 'open', m)
end
local function forget_matches_of(node)
  local theirs = P .. 'node-matches:' .. node
  for _, m in ipairs(redis.call('SMEMBERS', theirs)) do forget_match(m) end
  redis.call('DEL', theirs)
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
/// the matches (JSON `{full, matches: [{id, entry, open, capacity, holders, reserve}], gone: [id]}`),
/// reservation ms, match entry ms.
///
/// A match lives as long as its node's entry: readers skip matches whose node entry has expired,
/// so match entries need no refresh of their own and a refresh carries only the matches that
/// changed (plus each one every few seconds, and all of them when `full`). For each match sent:
/// writes its entry, makes its held seats exactly its holders (reservations stay until they
/// expire), reserves a seat for `reserve` (a match just created for that player: the seat is
/// theirs before the match shows in the open index), and puts it in the open index by seats
/// taken (or takes it out). `gone` matches (and, when `full`, any the node no longer has) are
/// deleted. Then the entries of nodes that expired are swept. Returns live nodes, matches and
/// open matches; `{-1, http}` when a live node with another address or start time holds this id
/// (two processes configured with one `node_id`), writing nothing; `{-2}` when a partial refresh
/// finds the node's entry gone (Redis restarted, or the node was taken for dead): send everything.
const SYNC: &str = r#"
local id, ttl, draining = ARGV[2], tonumber(ARGV[3]), ARGV[5] == '1'
local seat_ms, entry_ms = tonumber(ARGV[7]), tonumber(ARGV[8])
local nk = P .. 'node:' .. id
local mine_now = cjson.decode(ARGV[4])
local payload = cjson.decode(ARGV[6])
local before = redis.call('GET', nk)
if before then
  local other = cjson.decode(before)
  if other.http ~= mine_now.http or other.started_ms ~= mine_now.started_ms then
    return {-1, other.http}
  end
elseif not payload.full then
  return {-2}
end
redis.call('SET', nk, ARGV[4], 'PX', ttl)
redis.call('ZADD', P .. 'nodes', now + ttl, id)
local mine = P .. 'node-matches:' .. id
local function forget(m)
  forget_match(m)
  redis.call('SREM', mine, m)
end
if payload.full then
  local live = {}
  for _, m in ipairs(payload.matches) do live[m.id] = true end
  for _, old in ipairs(redis.call('SMEMBERS', mine)) do
    if not live[old] then forget(old) end
  end
end
for _, g in ipairs(payload.gone) do forget(g) end
for _, m in ipairs(payload.matches) do
  redis.call('SET', P .. 'match:' .. m.id, m.entry, 'PX', entry_ms)
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
    redis.call('HSET', sk, m.reserve, now + seat_ms)
    redis.call('SET', P .. 'player:' .. m.reserve, m.id, 'PX', seat_ms)
  end
  local taken = redis.call('HLEN', sk)
  if taken > 0 then redis.call('PEXPIRE', sk, entry_ms) end
  redis.call('SADD', P .. 'matches', m.id)
  redis.call('SADD', mine, m.id)
  if m.open and not draining and taken < m.capacity then
    redis.call('ZADD', P .. 'open', taken, m.id)
  else
    redis.call('ZREM', P .. 'open', m.id)
  end
end
redis.call('PEXPIRE', mine, entry_ms)
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', now)) do
  if redis.call('EXISTS', P .. 'node:' .. dead) == 0 then forget_matches_of(dead) end
  redis.call('ZREM', P .. 'nodes', dead)
end
return {redis.call('ZCARD', P .. 'nodes'), redis.call('SCARD', P .. 'matches'),
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
/// A match is live while its node's entry is.
const MATCHES: &str = r#"
local ids
if ARGV[2] and ARGV[2] ~= '' then
  ids = {ARGV[2]}
else
  ids = redis.call('SMEMBERS', P .. 'matches')
end
local alive = {}
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('GET', P .. 'match:' .. id)
  if v then
    local node = cjson.decode(v).node
    if alive[node] == nil then alive[node] = redis.call('EXISTS', P .. 'node:' .. node) == 1 end
    if alive[node] then
      table.insert(out, v)
      table.insert(out, purge(P .. 'seats:' .. id))
    end
  end
end
return out
"#;

/// A node leaving on purpose: ARGV = prefix, node id. Its entry and its matches' go at once.
const LEAVE: &str = r#"
local id = ARGV[2]
forget_matches_of(id)
redis.call('DEL', P .. 'node:' .. id)
redis.call('ZREM', P .. 'nodes', id)
return now
"#;

/// Releases the creation lock if it is still ours: ARGV = prefix, token.
const UNLOCK: &str = r#"
if redis.call('GET', P .. 'creating') == ARGV[2] then redis.call('DEL', P .. 'creating') end
return now
"#;

/// Counts a matchmaking reservation against its address, cluster-wide: ARGV = prefix, address,
/// player, ttl ms, cap. A sorted set per address holds its players' reservations by expiry; the
/// expired are dropped, the player's own is refreshed, and a new one past `cap` is refused.
/// Returns 2 (counted, new), 1 (the player's own, refreshed) or 0 (refused).
const ADDRESS_RESERVE: &str = r#"
local key = P .. 'address:' .. ARGV[2]
local ttl = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if not redis.call('ZSCORE', key, ARGV[3]) and redis.call('ZCARD', key) >= tonumber(ARGV[5]) then
  return 0
end
local added = redis.call('ZADD', key, now + ttl, ARGV[3])
redis.call('PEXPIRE', key, ttl)
return 1 + added
"#;

/// Gives back a reservation's place in its address's set (a matchmake that failed after
/// `ADDRESS_RESERVE` counted it). ARGV: prefix, ip, player.
const ADDRESS_RELEASE: &str = r#"
redis.call('ZREM', P .. 'address:' .. ARGV[2], ARGV[3])
return 1
"#;

fn script(body: &str) -> Script {
    Script::new(&format!("{PRELUDE}{body}"))
}

pub(crate) static SYNC_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(SYNC));
pub(super) static PLACE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(PLACE));
pub(super) static TAKE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(TAKE));
pub(super) static NODES_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(NODES));
pub(super) static MATCHES_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(MATCHES));
pub(super) static LEAVE_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(LEAVE));
pub(super) static UNLOCK_SCRIPT: LazyLock<Script> = LazyLock::new(|| script(UNLOCK));
pub(super) static ADDRESS_RESERVE_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| script(ADDRESS_RESERVE));
pub(super) static ADDRESS_RELEASE_SCRIPT: LazyLock<Script> =
    LazyLock::new(|| script(ADDRESS_RELEASE));
