//! The counters behind `stats`, named and ordered as memcached 1.6.18 prints them.

use bytes::Bytes;

/// Counters the store keeps. Gauges (`curr_items`, `bytes`) are computed.
#[derive(Debug, Default, Clone)]
pub(crate) struct Counters {
    pub cmd_get: u64,
    pub cmd_set: u64,
    pub cmd_flush: u64,
    pub cmd_touch: u64,
    /// memcached 1.6.18 counts only `me` here.
    pub cmd_meta: u64,
    pub get_hits: u64,
    pub get_misses: u64,
    pub get_expired: u64,
    pub get_flushed: u64,
    pub delete_misses: u64,
    pub delete_hits: u64,
    pub incr_misses: u64,
    pub incr_hits: u64,
    pub decr_misses: u64,
    pub decr_hits: u64,
    pub cas_misses: u64,
    pub cas_hits: u64,
    pub cas_badval: u64,
    pub touch_hits: u64,
    pub touch_misses: u64,
    pub store_too_large: u64,
    pub store_no_memory: u64,
    pub total_items: u64,
    pub evictions: u64,
    pub evicted_unfetched: u64,
    pub reclaimed: u64,
    pub expired_unfetched: u64,
}

/// What `stats` needs besides the counters.
pub(crate) struct Snapshot<'a> {
    pub counters: &'a Counters,
    pub uptime: u64,
    pub time: u64,
    pub curr_connections: u64,
    pub total_connections: u64,
    pub limit_maxbytes: u64,
    pub bytes: u64,
    pub curr_items: u64,
}

/// `stats` with no argument: the general statistics.
pub(crate) fn general(s: &Snapshot<'_>) -> Vec<Bytes> {
    let c = s.counters;
    let pairs: Vec<(&str, String)> = vec![
        ("pid", std::process::id().to_string()),
        ("uptime", s.uptime.to_string()),
        ("time", s.time.to_string()),
        ("version", crate::VERSION.to_string()),
        ("pointer_size", "64".into()),
        ("max_connections", "1024".into()),
        ("curr_connections", s.curr_connections.to_string()),
        ("total_connections", s.total_connections.to_string()),
        ("rejected_connections", "0".into()),
        ("cmd_get", c.cmd_get.to_string()),
        ("cmd_set", c.cmd_set.to_string()),
        ("cmd_flush", c.cmd_flush.to_string()),
        ("cmd_touch", c.cmd_touch.to_string()),
        ("cmd_meta", c.cmd_meta.to_string()),
        ("get_hits", c.get_hits.to_string()),
        ("get_misses", c.get_misses.to_string()),
        ("get_expired", c.get_expired.to_string()),
        ("get_flushed", c.get_flushed.to_string()),
        ("delete_misses", c.delete_misses.to_string()),
        ("delete_hits", c.delete_hits.to_string()),
        ("incr_misses", c.incr_misses.to_string()),
        ("incr_hits", c.incr_hits.to_string()),
        ("decr_misses", c.decr_misses.to_string()),
        ("decr_hits", c.decr_hits.to_string()),
        ("cas_misses", c.cas_misses.to_string()),
        ("cas_hits", c.cas_hits.to_string()),
        ("cas_badval", c.cas_badval.to_string()),
        ("touch_hits", c.touch_hits.to_string()),
        ("touch_misses", c.touch_misses.to_string()),
        ("store_too_large", c.store_too_large.to_string()),
        ("store_no_memory", c.store_no_memory.to_string()),
        ("auth_cmds", "0".into()),
        ("auth_errors", "0".into()),
        ("limit_maxbytes", s.limit_maxbytes.to_string()),
        ("accepting_conns", "1".into()),
        ("threads", "4".into()),
        ("bytes", s.bytes.to_string()),
        ("curr_items", s.curr_items.to_string()),
        ("total_items", c.total_items.to_string()),
        ("expired_unfetched", c.expired_unfetched.to_string()),
        ("evicted_unfetched", c.evicted_unfetched.to_string()),
        ("evicted_active", "0".into()),
        ("evictions", c.evictions.to_string()),
        ("reclaimed", c.reclaimed.to_string()),
    ];
    render(pairs)
}

/// The settings `stats settings` reports.
pub(crate) struct SettingsView {
    pub maxbytes: u64,
    pub verbosity: u32,
    pub oldest: u64,
    pub item_size_max: usize,
    pub slab_automove: u8,
    pub lru_crawler: bool,
    pub lru_crawler_sleep: u32,
    pub lru_crawler_tocrawl: u32,
}

/// `stats settings`: the fields a test may look at, in memcached's order.
pub(crate) fn settings(s: &SettingsView) -> Vec<Bytes> {
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_string();
    render(vec![
        ("maxbytes", s.maxbytes.to_string()),
        ("maxconns", "1024".into()),
        ("verbosity", s.verbosity.to_string()),
        ("oldest", s.oldest.to_string()),
        ("evictions", "on".into()),
        ("shutdown_command", "no".into()),
        ("growth_factor", "1.25".into()),
        ("chunk_size", "48".into()),
        ("num_threads", "4".into()),
        ("cas_enabled", "yes".into()),
        ("item_size_max", s.item_size_max.to_string()),
        ("slab_automove", s.slab_automove.to_string()),
        ("lru_crawler", yes_no(s.lru_crawler)),
        ("lru_crawler_sleep", s.lru_crawler_sleep.to_string()),
        ("lru_crawler_tocrawl", s.lru_crawler_tocrawl.to_string()),
        ("flush_enabled", "yes".into()),
        ("dump_enabled", "yes".into()),
    ])
}

fn render(pairs: Vec<(&str, String)>) -> Vec<Bytes> {
    pairs
        .into_iter()
        .map(|(name, value)| Bytes::from(format!("STAT {name} {value}")))
        .collect()
}
