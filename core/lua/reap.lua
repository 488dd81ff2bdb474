-- Return in-flight ids whose deadline passed to ready (their processor is gone).
-- KEYS: 1 ready, 2 inflight, 3 wake
-- ARGV: 1 now (ms), 2 most ids to move
-- Returns the ids moved. A moved id whose job is in fact still leased in
-- PostgreSQL is dropped again by the guarded claim, so being early is harmless.
local expired = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", ARGV[1], "LIMIT", 0, tonumber(ARGV[2]))
for _, id in ipairs(expired) do
  redis.call("ZREM", KEYS[2], id)
  redis.call("ZADD", KEYS[1], ARGV[1], id)
end
if #expired > 0 then
  redis.call("LPUSH", KEYS[3], "1")
  redis.call("LTRIM", KEYS[3], 0, 0)
end
return expired
