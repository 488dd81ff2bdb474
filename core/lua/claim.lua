-- Take up to N ready ids and mark them in flight until a deadline, atomically.
-- KEYS: 1 ready, 2 delayed, 3 inflight, 4 wake
-- ARGV: 1 now (ms), 2 how many, 3 deadline (ms)
-- Due delayed ids are promoted first. If ids remain after the claim, the wake
-- token is passed on so that another idle worker takes them.
-- Returns {ids, ready left, ms of the next delayed id or false}.
local now = tonumber(ARGV[1])
local due = redis.call("ZRANGEBYSCORE", KEYS[2], "-inf", now, "WITHSCORES", "LIMIT", 0, 1000)
for i = 1, #due, 2 do
  redis.call("ZADD", KEYS[1], due[i + 1], due[i])
  redis.call("ZREM", KEYS[2], due[i])
end
local ids = {}
local popped = redis.call("ZPOPMIN", KEYS[1], tonumber(ARGV[2]))
for i = 1, #popped, 2 do
  ids[#ids + 1] = popped[i]
  redis.call("ZADD", KEYS[3], ARGV[3], popped[i])
end
local left = redis.call("ZCARD", KEYS[1])
if left > 0 then
  redis.call("LPUSH", KEYS[4], "1")
  redis.call("LTRIM", KEYS[4], 0, 0)
end
local next_due = redis.call("ZRANGE", KEYS[2], 0, 0, "WITHSCORES")
return {ids, left, next_due[2] or false}
