import Redis

/// The Lua scripts behind panel leases. Each runs atomically on the server, which is what makes "check the
/// owner, then act" safe against another worker acting in between.
enum LeaseScripts {
    /// KEYS: lock, fence. ARGV: owner token, TTL in ms. Takes the lock when it is free (or already ours: a
    /// retry after a lost reply) and returns a new fencing token from INCR on the fence key, in the same
    /// atomic step, so every grant has a token greater than every earlier grant's. Returns 0 when another
    /// owner holds the lock.
    static let acquire = RedisScript("""
        local current = redis.call('GET', KEYS[1])
        if current == false or current == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return redis.call('INCR', KEYS[2])
        end
        return 0
        """)

    /// KEYS: lock 1, fence 1, lock 2, fence 2, ... ARGV: owner token, TTL in ms. `acquire` for many panels in one round
    /// trip: an array with the new fencing token, or 0, per panel.
    static let acquireMany = RedisScript("""
        local tokens = {}
        for index = 1, #KEYS, 2 do
          local current = redis.call('GET', KEYS[index])
          if current == false or current == ARGV[1] then
            redis.call('SET', KEYS[index], ARGV[1], 'PX', ARGV[2])
            tokens[(index + 1) / 2] = redis.call('INCR', KEYS[index + 1])
          else
            tokens[(index + 1) / 2] = 0
          end
        end
        return tokens
        """)

    /// KEYS: lock. ARGV: owner token, TTL in ms. Compare-and-extend: 1 when the lock was ours and now lives
    /// for the TTL again, 0 when it expired or someone else holds it.
    static let extend = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          return redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return 0
        """)

    /// KEYS: locks. ARGV: owner token, TTL in ms. `extend` for many locks in one round trip: an array with
    /// 1 or 0 per key.
    static let extendMany = RedisScript("""
        local extended = {}
        for index, key in ipairs(KEYS) do
          if redis.call('GET', key) == ARGV[1] then
            extended[index] = redis.call('PEXPIRE', key, ARGV[2])
          else
            extended[index] = 0
          end
        end
        return extended
        """)

    /// KEYS: locks. ARGV: owner token. Compare-and-delete for each lock: a plain DEL could remove a lock that
    /// expired and was taken by another worker. Returns how many were deleted.
    static let release = RedisScript("""
        local deleted = 0
        for _, key in ipairs(KEYS) do
          if redis.call('GET', key) == ARGV[1] then
            deleted = deleted + redis.call('DEL', key)
          end
        end
        return deleted
        """)

    /// KEYS: fence. ARGV: minimum. Raises the fencing counter to at least the minimum (never lowers it): for
    /// a worker that found a newer token in the database than Redis hands out, e.g. after Redis lost data.
    static let raiseFence = RedisScript("""
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if current < tonumber(ARGV[1]) then
          redis.call('SET', KEYS[1], ARGV[1])
          return tonumber(ARGV[1])
        end
        return current
        """)
}
