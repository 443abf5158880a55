//! The meta commands against a real memcached (1.6.18 on the test machine),
//! run on each runtime adapter (see the `rt` module of the including test).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use memclient::serde::CacheValue;
use memclient::{
    Backend, Config, Error, MetaCommand, MetaFlag, MetaRequest, MetaStatus, MetaWrite, MultiGet,
    Request, Response, SetMode,
};

use crate::rt::{self, TestClient};
use crate::support::{unique_prefix, Memcached};

/// A server of this suite's own: its many items must not crowd the shared
/// server's slab class that other suites dump (`stats cachedump 1 10`).
fn server() -> &'static Memcached {
    static SERVER: OnceLock<Memcached> = OnceLock::new();
    SERVER.get_or_init(Memcached::start)
}

fn connect(config: impl FnOnce(Config) -> Config) -> TestClient {
    let config = config(Config::new(&server().address));
    rt::block_on(rt::connect(config)).expect("connect")
}

/// A client on the shared server, with keys of its own.
fn shared(test: &str) -> TestClient {
    connect(|c| c.key_prefix(unique_prefix(test)))
}

fn text(value: &Option<CacheValue>) -> Option<&str> {
    value.as_ref().and_then(|v| v.as_str())
}

#[test]
fn meta_get_returns_what_each_flag_asks_for() {
    let c = shared("mg");
    rt::block_on(async {
        assert_eq!(c.meta_get("missing").await.unwrap(), None);
        assert_eq!(c.meta_get("missing").quiet().await.unwrap(), None);
        let stored = c
            .meta_set("k", "hello")
            .ttl(Duration::from_secs(100))
            .return_cas()
            .await
            .unwrap();
        assert_eq!(stored.status, MetaWrite::Done);
        let item = c
            .meta_get("k")
            .cas()
            .ttl()
            .size()
            .hit_before()
            .last_access()
            .return_key()
            .opaque("op1")
            .await
            .unwrap()
            .expect("a hit");
        assert_eq!(text(&item.value), Some("hello"));
        assert_eq!(item.flags, Some(16), "PyFlags text");
        assert_eq!(item.cas, stored.cas);
        assert!(item
            .ttl
            .is_some_and(|t| t <= Duration::from_secs(100) && t >= Duration::from_secs(98)));
        assert_eq!(item.size, Some(5));
        assert_eq!(item.hit_before, Some(false));
        assert!(item.last_access.is_some());
        assert_eq!(item.key.as_deref(), Some(&b"k"[..]), "without the prefix");
        assert_eq!(item.opaque.as_deref(), Some(&b"op1"[..]));
        assert!(!item.won && !item.stale && !item.win_sent);
        // Touch, no bump, metadata only.
        let item = c
            .meta_get("k")
            .value(false)
            .touch(Duration::from_secs(200))
            .no_bump()
            .hit_before()
            .ttl()
            .await
            .unwrap()
            .expect("a hit");
        assert_eq!(item.value, None);
        assert_eq!(item.hit_before, Some(true));
        // No expiry reads back as no ttl; a touch sets one.
        c.meta_set("n", "x").await.unwrap();
        let item = c.meta_get("n").ttl().await.unwrap().expect("a hit");
        assert_eq!(item.ttl, None, "-1: never expires");
        let item = c
            .meta_get("n")
            .touch(Duration::from_secs(50))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(text(&item.value), Some("x"));
        let item = c.meta_get("n").ttl().await.unwrap().unwrap();
        assert!(item.ttl.is_some_and(|t| t > Duration::from_secs(40)));
    });
}

#[test]
fn meta_set_modes_and_cas() {
    let c = shared("ms");
    rt::block_on(async {
        let status = |o: memclient::MetaOutcome| o.status;
        assert_eq!(
            status(c.meta_set("a", "1").mode(SetMode::Add).await.unwrap()),
            MetaWrite::Done
        );
        assert_eq!(
            status(c.meta_set("a", "2").mode(SetMode::Add).await.unwrap()),
            MetaWrite::NotStored
        );
        assert_eq!(
            status(c.meta_set("b", "2").mode(SetMode::Replace).await.unwrap()),
            MetaWrite::NotStored
        );
        assert_eq!(
            status(c.meta_set("a", "3").mode(SetMode::Replace).await.unwrap()),
            MetaWrite::Done
        );
        c.meta_set("a", "4").mode(SetMode::Append).await.unwrap();
        c.meta_set("a", "0").mode(SetMode::Prepend).await.unwrap();
        assert_eq!(text(&c.get("a").await.unwrap()), Some("034"));
        assert_eq!(
            status(c.meta_set("none", "x").mode(SetMode::Append).await.unwrap()),
            MetaWrite::NotStored
        );
        // Append with vivify creates the item on newer servers; 1.6.18
        // takes the flag but does not.
        let vivified = c
            .meta_set("viv", "x")
            .mode(SetMode::Append)
            .vivify(Duration::from_secs(60))
            .await
            .unwrap();
        match vivified.status {
            MetaWrite::Done => assert_eq!(text(&c.get("viv").await.unwrap()), Some("x")),
            other => assert_eq!(other, MetaWrite::NotStored),
        }
        // Compare-and-set.
        let cas = c.meta_get("a").cas().await.unwrap().unwrap().cas.unwrap();
        let stale = c.meta_set("a", "5").compare_cas(cas + 1000).await.unwrap();
        assert_eq!(stale.status, MetaWrite::Exists);
        let fresh = c
            .meta_set("a", "5")
            .compare_cas(cas)
            .return_cas()
            .await
            .unwrap();
        assert_eq!(fresh.status, MetaWrite::Done);
        assert!(fresh.cas.is_some_and(|new| new != cas));
        assert_eq!(
            status(c.meta_set("gone", "x").compare_cas(1).await.unwrap()),
            MetaWrite::NotFound
        );
        // Invalidate: an older cas stores, but marks the item stale.
        let old = fresh.cas.unwrap() - 1;
        let outcome = c
            .meta_set("a", "6")
            .compare_cas(old)
            .invalidate()
            .await
            .unwrap();
        assert_eq!(outcome.status, MetaWrite::Done);
        let item = c.meta_get("a").await.unwrap().unwrap();
        assert!(item.stale);
        // Client flags, quiet, key and opaque.
        let quiet = c
            .meta_set("q", b"raw".to_vec())
            .client_flags(1 << 20)
            .quiet()
            .await
            .unwrap();
        assert_eq!(quiet.status, MetaWrite::Done);
        let item = c.meta_get("q").await.unwrap().unwrap();
        assert_eq!(item.flags, Some(1 << 20));
        let echoed = c
            .meta_set("q", "x")
            .return_key()
            .opaque("abc")
            .await
            .unwrap();
        assert_eq!(echoed.key.as_deref(), Some(&b"q"[..]));
        assert_eq!(echoed.opaque.as_deref(), Some(&b"abc"[..]));
        let quiet_fail = c
            .meta_set("q", "x")
            .mode(SetMode::Add)
            .quiet()
            .await
            .unwrap();
        assert_eq!(
            quiet_fail.status,
            MetaWrite::NotStored,
            "failures are never quiet"
        );
    });
}

#[test]
fn meta_delete_and_invalidation() {
    let c = shared("md");
    rt::block_on(async {
        assert_eq!(
            c.meta_delete("none").await.unwrap().status,
            MetaWrite::NotFound
        );
        c.meta_set("a", "1").await.unwrap();
        let cas = c.meta_get("a").cas().await.unwrap().unwrap().cas.unwrap();
        assert_eq!(
            c.meta_delete("a")
                .compare_cas(cas + 1)
                .await
                .unwrap()
                .status,
            MetaWrite::Exists
        );
        let done = c.meta_delete("a").return_key().opaque("7").await.unwrap();
        assert_eq!(done.status, MetaWrite::Done);
        assert_eq!(done.key.as_deref(), Some(&b"a"[..]));
        assert_eq!(done.opaque.as_deref(), Some(&b"7"[..]));
        assert_eq!(c.get("a").await.unwrap(), None);
        assert!(c.meta_delete("a").quiet().await.unwrap().status == MetaWrite::NotFound);
        c.meta_set("b", "old").await.unwrap();
        assert!(c.meta_delete("b").quiet().await.unwrap().is_done());
        // Invalidate: stale, the first reader wins the recache.
        c.meta_set("s", "old").await.unwrap();
        let outcome = c
            .meta_delete("s")
            .invalidate()
            .ttl(Duration::from_secs(30))
            .await
            .unwrap();
        assert!(outcome.is_done());
        let first = c.meta_get("s").ttl().await.unwrap().unwrap();
        assert!(first.stale && first.won && !first.win_sent);
        assert_eq!(text(&first.value), Some("old"));
        assert!(first.ttl.is_some_and(|t| t <= Duration::from_secs(30)));
        let second = c.meta_get("s").await.unwrap().unwrap();
        assert!(second.stale && !second.won && second.win_sent);
    });
}

#[test]
fn meta_arithmetic_counts() {
    let c = shared("ma");
    rt::block_on(async {
        let missing = c.meta_arithmetic("n").await.unwrap();
        assert_eq!(missing.status, MetaWrite::NotFound);
        assert_eq!(missing.value, None);
        let created = c
            .meta_arithmetic("n")
            .vivify(Duration::from_secs(100))
            .initial(10)
            .return_ttl()
            .await
            .unwrap();
        assert_eq!(created.status, MetaWrite::Done);
        assert_eq!(created.value, Some(10));
        assert!(created.ttl.is_some());
        assert_eq!(
            c.meta_arithmetic("n").delta(5).await.unwrap().value,
            Some(15)
        );
        assert_eq!(
            c.meta_arithmetic("n")
                .decrement()
                .delta(20)
                .await
                .unwrap()
                .value,
            Some(0),
            "decrement stops at 0"
        );
        let counted = c
            .meta_arithmetic("n")
            .return_cas()
            .return_key()
            .opaque("x")
            .ttl(Duration::from_secs(500))
            .await
            .unwrap();
        assert_eq!(counted.value, Some(1));
        let cas = counted.cas.unwrap();
        assert_eq!(counted.key.as_deref(), Some(&b"n"[..]));
        assert_eq!(counted.opaque.as_deref(), Some(&b"x"[..]));
        assert_eq!(
            c.meta_arithmetic("n")
                .compare_cas(cas + 9)
                .await
                .unwrap()
                .status,
            MetaWrite::Exists
        );
        let silent = c
            .meta_arithmetic("n")
            .compare_cas(cas)
            .value(false)
            .await
            .unwrap();
        assert_eq!((silent.status, silent.value), (MetaWrite::Done, None));
        let quiet = c.meta_arithmetic("n").quiet().await.unwrap();
        assert_eq!(quiet.status, MetaWrite::Done);
        assert_eq!(c.incr("n", 0).await.unwrap(), Some(3));
    });
}

#[test]
fn noop_debug_and_the_flags_1_6_18_rejects() {
    let c = shared("me");
    rt::block_on(async {
        c.meta_noop().await.unwrap();
        assert_eq!(c.meta_debug("none").await.unwrap(), None);
        c.set("k", "v").await.unwrap();
        let dump = c.meta_debug("k").await.unwrap().expect("a hit");
        assert_eq!(dump.get("exp").map(String::as_str), Some("-1"));
        assert!(dump.contains_key("cas") && dump.contains_key("size"));
        // Flags of newer servers: a clear client error, the connection still fine.
        let rejected = [
            c.meta_get("k").new_cas(5).await.map(|_| ()),
            c.meta_set("k", "v").new_cas(5).await.map(|_| ()),
            c.meta_delete("k").new_cas(5).await.map(|_| ()),
            c.meta_delete("k").remove_value().await.map(|_| ()),
            c.meta_arithmetic("k").new_cas(5).await.map(|_| ()),
        ];
        for outcome in rejected {
            assert!(
                matches!(outcome, Err(Error::Client(ref m)) if m.contains("invalid")),
                "{outcome:?}"
            );
        }
        assert_eq!(text(&c.get("k").await.unwrap()), Some("v"));
        c.meta_noop().await.unwrap();
    });
}

#[test]
fn quiet_batches_with_hits_misses_and_an_error() {
    let c = shared("batch");
    let prefix = std::str::from_utf8(&c.options().key_prefix)
        .unwrap()
        .to_string();
    rt::block_on(async {
        c.set("a", "1").await.unwrap();
        c.set("c", "3").await.unwrap();
        let mg = |key: &str, extra: Option<MetaFlag>| MetaRequest {
            command: MetaCommand::Get,
            key: Bytes::from(format!("{prefix}{key}")),
            flags: [MetaFlag::bare(b'v'), MetaFlag::bare(b'k')]
                .into_iter()
                .chain(extra)
                .collect(),
            data: None,
        };
        // The error line carries no opaque: it sits between two hits, so
        // it can only be the request between them.
        let batch = vec![
            mg("a", None),
            mg("b", Some(MetaFlag::with(b'E', "5"))),
            mg("c", None),
            mg("missing", None),
            mg("missing2", None),
        ];
        let reply = c.backend().call(Request::MetaBatch(batch)).await;
        let Response::MetaBatch(replies) = reply.unwrap() else {
            panic!("not a batch")
        };
        assert_eq!(replies.len(), 5);
        let hit = |i: usize| replies[i].as_ref().unwrap().as_ref().unwrap();
        assert_eq!(hit(0).data.as_deref(), Some(&b"1"[..]));
        assert!(
            matches!(&replies[1], Some(Err(Error::Client(m))) if m.contains("invalid flag")),
            "{:?}",
            replies[1]
        );
        assert_eq!(hit(2).data.as_deref(), Some(&b"3"[..]));
        assert_eq!(hit(2).status, Some(MetaStatus::Value));
        assert!(replies[3].is_none(), "a quiet miss");
        assert!(replies[4].is_none());
        // Between a hit and the end, after a miss: the error goes to both
        // requests it may belong to, never a value to the wrong one.
        let batch = vec![
            mg("a", None),
            mg("missing", None),
            mg("b", Some(MetaFlag::with(b'E', "5"))),
        ];
        let reply = c.backend().call(Request::MetaBatch(batch)).await;
        let Response::MetaBatch(replies) = reply.unwrap() else {
            panic!("not a batch")
        };
        assert!(matches!(replies[0], Some(Ok(_))));
        assert!(matches!(replies[1], Some(Err(Error::Client(_)))));
        assert!(matches!(replies[2], Some(Err(Error::Client(_)))));
        c.meta_noop().await.unwrap();
    });
}

#[test]
fn multi_get_both_ways_agree() {
    let prefix = unique_prefix("multi");
    let classic = connect(|c| c.key_prefix(prefix.clone()));
    let meta = connect(|c| c.key_prefix(prefix.clone()).multi_get(MultiGet::Meta));
    rt::block_on(async {
        let keys: Vec<String> = (0..60).map(|i| format!("k{i}")).collect();
        for key in keys.iter().step_by(2) {
            classic.set(key, format!("v-{key}")).await.unwrap();
        }
        classic.set("int", 7i64).await.unwrap();
        let mut all = keys.clone();
        all.push("int".into());
        let a = classic.get_many(&all).await.unwrap();
        let b = meta.get_many(&all).await.unwrap();
        assert_eq!(a.len(), 31);
        assert_eq!(a, b);
        let a = classic.gets_many(&all).await.unwrap();
        let b = meta.gets_many(&all).await.unwrap();
        assert_eq!(a, b);
        assert!(meta
            .get_many(Vec::<String>::new())
            .await
            .unwrap()
            .is_empty());
    });
}

#[test]
fn binary_keys_round_trip() {
    let c = connect(|c| c.key_prefix(unique_prefix("bin")).binary_keys(true));
    let plain = shared("nobin");
    rt::block_on(async {
        let keys: [&[u8]; 4] = [b"a b", b"line\r\nbreak", b"\xff\xfe\x00", b"plain"];
        for (i, key) in keys.iter().enumerate() {
            assert!(c.set(key, format!("v{i}")).await.unwrap());
            assert_eq!(
                text(&c.get(key).await.unwrap()),
                Some(format!("v{i}").as_str())
            );
        }
        let got = c.get_many(keys).await.unwrap();
        assert_eq!(got.len(), 4);
        for (i, key) in keys.iter().enumerate() {
            assert_eq!(
                got[*key].as_str(),
                Some(format!("v{i}").as_str()),
                "{key:?}"
            );
        }
        let (_, cas) = c.gets(b"a b").await.unwrap().unwrap();
        assert_eq!(
            c.cas(b"a b", "new", cas).await.unwrap(),
            memclient::CasOutcome::Stored
        );
        assert_eq!(
            c.cas(b"a b", "newer", cas).await.unwrap(),
            memclient::CasOutcome::Exists
        );
        assert!(!c.add(b"a b", "x").await.unwrap());
        assert!(c.append(b"a b", "!").await.unwrap());
        assert_eq!(text(&c.get(b"a b").await.unwrap()), Some("new!"));
        let item = c
            .meta_get(b"\xff\xfe\x00")
            .return_key()
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            item.key.as_deref(),
            Some(&b"\xff\xfe\x00"[..]),
            "the original bytes"
        );
        assert!(c.meta_debug(b"a b").await.unwrap().is_some());
        assert!(matches!(
            c.meta_debug(b"line\r\nbreak").await,
            Err(Error::IllegalInput(_))
        ));
        c.set(b"count er", "5").await.unwrap();
        assert_eq!(c.incr(b"count er", 3).await.unwrap(), Some(8));
        assert_eq!(c.decr(b"count er", 10).await.unwrap(), Some(0));
        assert!(c
            .touch(b"count er", Duration::from_secs(100))
            .await
            .unwrap());
        assert!(c.delete(b"line\r\nbreak").await.unwrap());
        assert!(!c.delete(b"line\r\nbreak").await.unwrap());
        assert_eq!(c.get(b"line\r\nbreak").await.unwrap(), None);
        assert_eq!(
            c.delete_many([&b"a b"[..], b"none here"])
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(c.set_many([(&b"x y"[..], "1")]).await.unwrap().len(), 0);
        // Still checked before any I/O: empty, or too long once in base64.
        assert!(matches!(c.get(b"").await, Err(Error::IllegalInput(_))));
        assert!(matches!(
            c.get(vec![0xffu8; 200]).await,
            Err(Error::IllegalInput(_))
        ));
        // Without the option the classic rules stand.
        assert!(matches!(
            plain.get(b"a b").await,
            Err(Error::IllegalInput(_))
        ));
        assert!(matches!(
            plain.meta_get(b"a b").await,
            Err(Error::IllegalInput(_))
        ));
    });
}

#[test]
fn a_key_stored_as_binary_reads_back_in_plain_text_with_its_own_name() {
    // memcached answers a plain `mg <key> k` for an item stored with `b` with
    // the key in base64 and a `b` flag: the client decodes it.
    let c = connect(|c| c);
    let key = unique_prefix("binplain");
    let encoded = base64::engine::general_purpose::STANDARD.encode(&key);
    rt::block_on(async {
        let stored = c
            .raw_command(
                format!("ms {encoded} 1 b F16"),
                Some(Bytes::from_static(b"v")),
                memclient::RawReply::Line,
            )
            .await
            .unwrap();
        assert_eq!(stored, Response::Line(Bytes::from_static(b"HD")));
        let item = c.meta_get(&key).return_key().await.unwrap().expect("a hit");
        assert_eq!(item.key.as_deref(), Some(key.as_bytes()));
        assert_eq!(text(&item.value), Some("v"));
    });
}

#[test]
fn set_many_and_delete_many_apply_their_options_to_binary_keys() {
    let c = connect(|c| c.key_prefix(unique_prefix("binmany")).binary_keys(true));
    rt::block_on(async {
        // Two sent as `ms` (binary keys), one classic `set`.
        let keys: [&[u8]; 3] = [b"a b", b"\xff\x00", b"plain"];
        let not_stored = c
            .set_many(keys.iter().map(|key| (*key, "v")))
            .ttl(Duration::from_secs(100))
            .flags(7)
            .await
            .unwrap();
        assert!(not_stored.is_empty(), "{not_stored:?}");
        for key in keys {
            let item = c
                .meta_get(key)
                .value(false)
                .client_flags()
                .ttl()
                .await
                .unwrap()
                .expect("stored");
            assert_eq!(item.flags, Some(7), "{key:?}: the flags asked for");
            let ttl = item.ttl.expect("an expiry");
            assert!(
                ttl >= Duration::from_secs(98) && ttl <= Duration::from_secs(100),
                "{key:?}: {ttl:?}"
            );
        }
        // noreply: nothing to report, everything stored, then deleted.
        let quiet = c
            .set_many(keys.iter().map(|key| (*key, "w")))
            .noreply(true)
            .await
            .unwrap();
        assert!(quiet.is_empty());
        for key in keys {
            assert_eq!(text(&c.get(key).await.unwrap()), Some("w"), "{key:?}");
        }
        let missed = c.delete_many(keys).noreply(true).await.unwrap();
        assert!(missed.is_empty());
        for key in keys {
            assert_eq!(c.get(key).await.unwrap(), None, "{key:?}");
        }
        // Without noreply, the keys not found are reported, binary or not.
        let missed = c.delete_many(keys).await.unwrap();
        assert_eq!(missed.len(), 3, "{missed:?}");
    });
}

/// Runs `callers` concurrent `get_or_compute` calls spread over `clients`;
/// returns how many times the compute ran and the values the callers got.
async fn stampede(
    clients: &[Arc<TestClient>],
    callers: usize,
    key: &'static str,
    value: &'static str,
    recache: Option<Duration>,
) -> (usize, Vec<String>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..callers)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let runs = runs.clone();
            rt::spawn(async move {
                let mut call = client
                    .get_or_compute(key, Duration::from_secs(300), move || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        rt::sleep(Duration::from_millis(200)).await;
                        Ok::<_, Error>(CacheValue::from(value))
                    })
                    .lease(Duration::from_secs(10));
                if let Some(threshold) = recache {
                    call = call.recache(threshold);
                }
                call.await
            })
        })
        .collect();
    let mut values = Vec::new();
    for task in tasks {
        let value = task.await.expect("get_or_compute");
        values.push(value.as_str().unwrap().to_string());
    }
    (runs.load(Ordering::SeqCst), values)
}

#[test]
fn get_or_compute_runs_the_compute_once_per_expiry() {
    const CLIENTS: usize = 4;
    const CALLERS: usize = 64;
    let prefix = unique_prefix("stampede");
    let clients: Vec<Arc<TestClient>> = (0..CLIENTS)
        .map(|_| Arc::new(connect(|c| c.key_prefix(prefix.clone()))))
        .collect();
    rt::block_on(async {
        // A miss: one caller computes, 63 wait for it.
        let (runs, values) = stampede(&clients, CALLERS, "k", "first", None).await;
        eprintln!(
            "stampede on a miss: {runs} compute run(s) for {CALLERS} callers on {CLIENTS} clients"
        );
        assert_eq!(runs, 1);
        assert!(values.iter().all(|v| v == "first"));
        // A hit: nobody computes.
        let (runs, _) = stampede(&clients, CALLERS, "k", "unused", None).await;
        assert_eq!(runs, 0);
        // Invalidated: one recomputes, the others are served the stale value.
        clients[0].meta_delete("k").invalidate().await.unwrap();
        let (runs, values) = stampede(&clients, CALLERS, "k", "second", None).await;
        eprintln!("stampede on a stale item: {runs} compute run(s) for {CALLERS} callers on {CLIENTS} clients");
        assert_eq!(runs, 1);
        assert!(values.iter().all(|v| v == "first" || v == "second"));
        assert!(values.iter().any(|v| v == "second"));
        let now = clients[1].get("k").await.unwrap();
        assert_eq!(text(&now), Some("second"));
        // Close to expiry with a recache threshold: one refreshes early.
        clients[0]
            .set("hot", "old")
            .ttl(Duration::from_secs(100))
            .await
            .unwrap();
        let threshold = Some(Duration::from_secs(200));
        let (runs, values) = stampede(&clients, CALLERS, "hot", "fresh", threshold).await;
        eprintln!("stampede before expiry (R): {runs} compute run(s) for {CALLERS} callers on {CLIENTS} clients");
        assert_eq!(runs, 1);
        assert!(values.iter().all(|v| v == "old" || v == "fresh"));
        // After the real expiry of a short-lived item: once again.
        clients[0]
            .set("short", "gone soon")
            .ttl(Duration::from_secs(1))
            .await
            .unwrap();
        rt::sleep(Duration::from_millis(2100)).await;
        let (runs, values) = stampede(&clients, CALLERS, "short", "recomputed", None).await;
        eprintln!("stampede after expiry: {runs} compute run(s) for {CALLERS} callers on {CLIENTS} clients");
        assert_eq!(runs, 1);
        assert!(values.iter().all(|v| v == "recomputed"));
    });
}

#[test]
fn get_or_compute_gives_the_win_back_when_the_compute_fails() {
    let c = shared("lease");
    rt::block_on(async {
        let failed = c
            .get_or_compute("k", Duration::from_secs(60), || async {
                Err::<CacheValue, _>(Error::Server("backend down".into()))
            })
            .await;
        assert!(matches!(failed, Err(Error::Server(_))));
        // The placeholder is gone: the next caller wins at once.
        let value = c
            .get_or_compute("k", Duration::from_secs(60), || async {
                Ok::<_, Error>(CacheValue::from("ok"))
            })
            .wait(Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(value.as_str(), Some("ok"));
    });
}

/// A compute that counts its runs and returns `value`, or fails when `value`
/// is `None`.
fn counted(
    runs: &Arc<AtomicUsize>,
    value: Option<&'static str>,
) -> impl FnOnce() -> std::future::Ready<Result<CacheValue, Error>> {
    let runs = runs.clone();
    move || {
        runs.fetch_add(1, Ordering::SeqCst);
        std::future::ready(
            value
                .map(CacheValue::from)
                .ok_or(Error::Server("backend down".into())),
        )
    }
}

#[test]
fn get_or_compute_gives_the_win_back_when_recomputing_an_invalidated_item_fails() {
    let c = shared("stalefail");
    let runs = Arc::new(AtomicUsize::new(0));
    rt::block_on(async {
        c.set("k", "old").await.unwrap();
        assert!(c.meta_delete("k").invalidate().await.unwrap().is_done());
        let failed = c
            .get_or_compute("k", Duration::from_secs(60), counted(&runs, None))
            .await;
        assert!(matches!(failed, Err(Error::Server(_))), "{failed:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "the first reader won");
        // The win is back: the next reader recomputes instead of being
        // served the stale value until the item expires.
        let value = c
            .get_or_compute("k", Duration::from_secs(60), counted(&runs, Some("fresh")))
            .await
            .unwrap();
        assert_eq!(value.as_str(), Some("fresh"));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let item = c.meta_get("k").await.unwrap().expect("stored");
        assert_eq!(text(&item.value), Some("fresh"));
        assert!(!item.stale && !item.win_sent, "{item:?}");
    });
}

#[test]
fn get_or_compute_gives_the_win_back_when_a_recache_fails() {
    let c = shared("recachefail");
    let runs = Arc::new(AtomicUsize::new(0));
    rt::block_on(async {
        // 100 s left, under the 200 s threshold: the first reader wins.
        c.set("k", "current")
            .ttl(Duration::from_secs(100))
            .await
            .unwrap();
        let failed = c
            .get_or_compute("k", Duration::from_secs(300), counted(&runs, None))
            .recache(Duration::from_secs(200))
            .await;
        assert!(matches!(failed, Err(Error::Server(_))), "{failed:?}");
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Another reader is still served the value while it waits for the
        // next winner, and the next reader wins and recomputes.
        let value = c
            .get_or_compute(
                "k",
                Duration::from_secs(300),
                counted(&runs, Some("recached")),
            )
            .recache(Duration::from_secs(200))
            .await
            .unwrap();
        assert_eq!(value.as_str(), Some("recached"));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        let item = c.meta_get("k").ttl().await.unwrap().expect("stored");
        assert_eq!(text(&item.value), Some("recached"));
        assert!(
            item.ttl.is_some_and(|t| t > Duration::from_secs(200)),
            "{item:?}"
        );
    });
}

#[test]
fn get_or_compute_gives_the_win_back_on_a_miss_with_binary_keys_too() {
    let c = connect(|c| c.key_prefix(unique_prefix("binlease")).binary_keys(true));
    let runs = Arc::new(AtomicUsize::new(0));
    rt::block_on(async {
        let key: &[u8] = b"a key\r\n";
        let failed = c
            .get_or_compute(key, Duration::from_secs(60), counted(&runs, None))
            .await;
        assert!(matches!(failed, Err(Error::Server(_))));
        let value = c
            .get_or_compute(key, Duration::from_secs(60), counted(&runs, Some("ok")))
            .wait(Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(value.as_str(), Some("ok"));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    });
}

#[test]
fn get_or_compute_without_a_runtime_says_what_to_do() {
    let address: memclient::runtime::Address = server().address.parse().unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    rt::block_on(async {
        let connection = memclient::Connection::connect(
            &address,
            rt::transport(),
            memclient::ConnectionOptions::default(),
        )
        .await
        .unwrap();
        let options = memclient::ClientOptions::new().key_prefix(unique_prefix("noruntime"));
        let bare = memclient::Client::with_options(connection, memclient::serde::PyFlags, options)
            .unwrap();
        // Another caller holds the win: a loser would have to wait.
        let held = bare
            .meta_get("k")
            .cas()
            .vivify(Duration::from_secs(30))
            .await
            .unwrap()
            .expect("a placeholder");
        assert!(held.won);
        let error = bare
            .get_or_compute("k", Duration::from_secs(60), counted(&runs, Some("v")))
            .await
            .unwrap_err();
        match &error {
            Error::IllegalInput(why) => {
                assert!(why.contains("Client::with_runtime"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(runs.load(Ordering::SeqCst), 0);
        // Without waiting, no runtime is needed: the loser gives up at once.
        let timed_out = bare
            .get_or_compute("k", Duration::from_secs(60), counted(&runs, Some("v")))
            .wait(Duration::ZERO)
            .await;
        assert!(matches!(timed_out, Err(Error::Timeout(_))), "{timed_out:?}");
        // With a runtime, the same client waits for the winner's value.
        let with_runtime = bare.clone().with_runtime(rt::transport());
        let publish = async {
            rt::sleep(Duration::from_millis(50)).await;
            let cas = held.cas.expect("cas");
            with_runtime
                .meta_set("k", "published")
                .compare_cas(cas)
                .await
                .unwrap();
        };
        let wait = with_runtime
            .get_or_compute("k", Duration::from_secs(60), counted(&runs, Some("v")))
            .wait(Duration::from_secs(5));
        let (value, ()) =
            futures_util::future::join(std::future::IntoFuture::into_future(wait), publish).await;
        assert_eq!(value.unwrap().as_str(), Some("published"));
        assert_eq!(runs.load(Ordering::SeqCst), 0, "the loser never computed");
    });
}
