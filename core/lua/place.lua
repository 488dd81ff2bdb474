-- Put job ids where PostgreSQL says they belong, atomically.
-- KEYS: 1 ready, 2 delayed, 3 inflight, 4 dead, 5 wake, 6 queues (set of queue names)
-- ARGV: 1 queue name, 2 now (ms), 3 mode, then triples (id, target, score)
--   target: "r" ready or delayed (by score against now), "i" inflight, "d" dead,
--           "x" nowhere (finished)
--   mode "move": take the id out of every set first.
--   mode "new": ids no set holds yet (a submit): just add them, in bulk.
--   mode "absent" (the reconciler, which may act on a stale read): place an id only
--   if Redis has it nowhere, or it should be waiting but sits in dead. Making
--   an id ready is always safe (the guarded claim drops it if the row moved on);
--   taking one out of ready, delayed or in flight on a stale read is not.
-- Returns how many ids were placed.
local now = tonumber(ARGV[2])
local only_absent = ARGV[3] == "absent"
local sets = {KEYS[1], KEYS[2], KEYS[3], KEYS[4]}
local waiting = {KEYS[1], KEYS[2], KEYS[3]}
local placed, woke = 0, false

if ARGV[3] == "new" then
  local ready, delayed = {}, {}
  for i = 4, #ARGV, 3 do
    local into = tonumber(ARGV[i + 2]) <= now and ready or delayed
    into[#into + 1] = ARGV[i + 2]
    into[#into + 1] = ARGV[i]
  end
  -- ZADD in chunks: unpack() is limited by the Lua stack.
  for key, members in pairs({[KEYS[1]] = ready, [KEYS[2]] = delayed}) do
    for first = 1, #members, 1000 do
      redis.call("ZADD", key, unpack(members, first, math.min(first + 999, #members)))
    end
  end
  if #ready > 0 then
    redis.call("LPUSH", KEYS[5], "1")
    redis.call("LTRIM", KEYS[5], 0, 0)
  end
  redis.call("SADD", KEYS[6], ARGV[1])
  return (#ready + #delayed) / 2
end
for i = 4, #ARGV, 3 do
  local id, target, score = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  local known = false
  if only_absent then
    for _, key in ipairs(target == "r" and waiting or sets) do
      if redis.call("ZSCORE", key, id) then known = true break end
    end
    if not known and target == "r" then redis.call("ZREM", KEYS[4], id) end
  else
    for _, key in ipairs(sets) do redis.call("ZREM", key, id) end
  end
  if not known then
    if target == "r" then
      if score <= now then
        redis.call("ZADD", KEYS[1], score, id)
        woke = true
      else
        redis.call("ZADD", KEYS[2], score, id)
      end
    elseif target == "i" then
      redis.call("ZADD", KEYS[3], score, id)
    elseif target == "d" then
      redis.call("ZADD", KEYS[4], score, id)
    end
    placed = placed + 1
  end
end
if woke then
  redis.call("LPUSH", KEYS[5], "1")
  redis.call("LTRIM", KEYS[5], 0, 0)
end
redis.call("SADD", KEYS[6], ARGV[1])
return placed
