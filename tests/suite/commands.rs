//! Every command of the classic protocol against a real memcached, run on
//! each runtime adapter (see the `rt` module of the including test).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use memclient::serde::{CacheValue, Compressed, RawBytes};
use memclient::{
    CasOutcome, Config, Error, Lru, LruCrawler, LruFactor, LruMode, RawReply, Response, StatValue,
};

use crate::rt::{self, TestClient};
use crate::support::{unique_prefix, Memcached};

fn connect(server: &Memcached, config: impl FnOnce(Config) -> Config) -> TestClient {
    rt::block_on(rt::connect(config(Config::new(&server.address)))).expect("connect")
}

/// A client on the shared server, with keys of its own.
fn shared(test: &str) -> TestClient {
    connect(Memcached::shared(), |c| c.key_prefix(unique_prefix(test)))
}

fn text(value: Option<CacheValue>) -> Option<String> {
    value.and_then(|v| v.as_str().map(str::to_string))
}

#[test]
fn set_get_and_the_conditional_stores() {
    let c = shared("stores");
    rt::block_on(async {
        assert_eq!(c.get("a").await.unwrap(), None);
        assert!(c.set("a", "1").await.unwrap());
        assert_eq!(text(c.get("a").await.unwrap()), Some("1".into()));
        assert!(!c.add("a", "2").await.unwrap(), "add of an existing key");
        assert!(c.add("b", "2").await.unwrap());
        assert!(c.replace("a", "3").await.unwrap());
        assert!(!c.replace("missing", "3").await.unwrap());
        assert!(c.append("a", "4").await.unwrap());
        assert!(c.prepend("a", "0").await.unwrap());
        assert_eq!(text(c.get("a").await.unwrap()), Some("034".into()));
        assert!(!c.append("missing", "x").await.unwrap());
        assert!(!c.prepend("missing", "x").await.unwrap());
    });
}

#[test]
fn values_keep_their_bytes_and_flags() {
    let c = shared("bytes");
    rt::block_on(async {
        let tricky: &[u8] = b"\r\nEND\r\nVALUE x 0 1\r\n\0\xff";
        c.set("tricky", tricky.to_vec()).await.unwrap();
        c.set("empty", Vec::new()).await.unwrap();
        c.set("int", 42i64).await.unwrap();
        c.set("flagged", b"raw".to_vec())
            .flags(1 << 30)
            .await
            .unwrap();
        let got = c
            .get_many(["tricky", "empty", "int", "flagged", "none"])
            .await
            .unwrap();
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[&b"tricky"[..]],
            CacheValue::Bytes(Bytes::from_static(tricky))
        );
        assert_eq!(got[&b"empty"[..]], CacheValue::Bytes(Bytes::new()));
        assert_eq!(got[&b"int"[..]], CacheValue::Int(42));
        // Unknown flags read back as bytes, as pymemcache does.
        assert_eq!(
            got[&b"flagged"[..]],
            CacheValue::Bytes(Bytes::from_static(b"raw"))
        );
    });
}

#[test]
fn get_many_returns_hits_by_user_key() {
    let c = shared("many");
    rt::block_on(async {
        let items: Vec<(String, String)> = (0..50)
            .map(|i| (format!("k{i}"), format!("v{i}")))
            .collect();
        let not_stored = c.set_many(items.clone()).await.unwrap();
        assert!(not_stored.is_empty());
        let mut keys: Vec<String> = items.iter().map(|(k, _)| k.clone()).collect();
        keys.push("absent".into());
        keys.push("k3".into()); // a duplicate
        let got = c.get_many(&keys).await.unwrap();
        assert_eq!(got.len(), 50);
        for (key, value) in &items {
            assert_eq!(got[key.as_bytes()].as_str(), Some(value.as_str()));
        }
        assert!(c.get_many(Vec::<&str>::new()).await.unwrap().is_empty());
        let missing = c.delete_many(["k1", "k2", "absent"]).await.unwrap();
        assert_eq!(missing, vec![Bytes::from_static(b"absent")]);
        assert_eq!(c.get_many(["k1", "k2"]).await.unwrap().len(), 0);
    });
}

#[test]
fn gets_and_cas_outcomes() {
    let c = shared("cas");
    rt::block_on(async {
        c.set("k", "v1").await.unwrap();
        let (value, token) = c.gets("k").await.unwrap().expect("hit");
        assert_eq!(value.as_str(), Some("v1"));
        assert_eq!(c.cas("k", "v2", token).await.unwrap(), CasOutcome::Stored);
        // The token is stale now: the item changed.
        assert_eq!(c.cas("k", "v3", token).await.unwrap(), CasOutcome::Exists);
        assert_eq!(text(c.get("k").await.unwrap()), Some("v2".into()));
        assert_eq!(
            c.cas("gone", "v", token).await.unwrap(),
            CasOutcome::NotFound
        );
        let many = c.gets_many(["k", "gone"]).await.unwrap();
        assert_eq!(many.len(), 1);
        assert_ne!(
            many[&b"k"[..]].1,
            token,
            "every write changes the cas unique"
        );
    });
}

#[test]
fn delete_touch_gat_gats() {
    let c = shared("touch");
    rt::block_on(async {
        c.set("k", "v").await.unwrap();
        assert!(c.touch("k", Duration::from_secs(100)).await.unwrap());
        assert!(!c.touch("missing", Duration::from_secs(100)).await.unwrap());
        assert_eq!(
            text(c.gat("k", Duration::from_secs(100)).await.unwrap()),
            Some("v".into())
        );
        let (value, cas) = c
            .gats("k", Duration::from_secs(100))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(value.as_str(), Some("v"));
        assert!(cas > 0);
        assert_eq!(
            c.gat("missing", Duration::from_secs(1)).await.unwrap(),
            None
        );
        assert!(c.delete("k").await.unwrap());
        assert!(!c.delete("k").await.unwrap());
        assert_eq!(c.get("k").await.unwrap(), None);
    });
}

#[test]
fn incr_wraps_at_2_64_and_decr_floors_at_0() {
    // A fresh server: memcached checks numbers of 2^63 and more for a minus
    // sign with strchr, which reads past the value into whatever memory
    // follows; on a fresh server that memory is zeroed.
    let server = Memcached::start();
    let c = connect(&server, |c| c);
    rt::block_on(async {
        assert_eq!(c.incr("missing", 1).await.unwrap(), None);
        c.set("n", u64::MAX.to_string()).await.unwrap();
        assert_eq!(c.incr("n", 1).await.unwrap(), Some(0));
        assert_eq!(c.incr("n", 5).await.unwrap(), Some(5));
        assert_eq!(c.decr("n", 7).await.unwrap(), Some(0));
        c.set("m", 10i64).await.unwrap();
        assert_eq!(c.decr("m", 5).await.unwrap(), Some(5));
        // memcached keeps the length of a number it shrinks: "5 ". The
        // pymemcache integer flag still reads it as 5.
        assert_eq!(c.get("m").await.unwrap(), Some(CacheValue::Int(5)));
        c.set("word", "abc").await.unwrap();
        match c.incr("word", 1).await {
            Err(Error::Client(message)) => assert!(message.contains("non-numeric"), "{message}"),
            other => panic!("incr on text: {other:?}"),
        }
        // The connection is still in step after the error.
        assert_eq!(c.incr("n", 1).await.unwrap(), Some(1));
    });
}

#[test]
fn a_value_too_large_is_a_server_error_and_the_connection_still_works() {
    let c = shared("large");
    rt::block_on(async {
        let big = vec![b'x'; 2 * 1024 * 1024];
        match c.set("big", big).await {
            Err(Error::Server(message)) => assert!(message.contains("too large"), "{message}"),
            other => panic!("2 MiB value: {other:?}"),
        }
        c.set("after", "ok").await.unwrap();
        assert_eq!(text(c.get("after").await.unwrap()), Some("ok".into()));
        // Within the 1 MiB limit: stored and read back whole.
        let near = vec![b'y'; 1000 * 1024];
        assert!(c.set("near", near.clone()).await.unwrap());
        assert_eq!(c.get("near").await.unwrap(), Some(CacheValue::from(near)));
    });
}

#[test]
fn noreply_writes_then_reads_see_them() {
    let c = shared("noreply");
    rt::block_on(async {
        assert!(c.set("a", "1").noreply(true).await.unwrap());
        assert!(c.add("b", "2").noreply(true).await.unwrap());
        assert_eq!(c.incr("missing", 1).noreply(true).await.unwrap(), None);
        c.set("n", 1i64).noreply(true).await.unwrap();
        c.incr("n", 2).noreply(true).await.unwrap();
        // Even a failing noreply write sends no reply: the next read is in step.
        c.set("big", vec![0u8; 2 << 20])
            .noreply(true)
            .await
            .unwrap();
        c.incr("a_text", 1).noreply(true).await.unwrap();
        let got = c.get_many(["a", "b", "n", "big"]).await.unwrap();
        assert_eq!(got[&b"a"[..]].as_str(), Some("1"));
        assert_eq!(got[&b"b"[..]].as_str(), Some("2"));
        assert_eq!(got[&b"n"[..]], CacheValue::Int(3));
        assert!(!got.contains_key(&b"big"[..]));
        c.delete("a").noreply(true).await.unwrap();
        c.touch("b", Duration::from_secs(10))
            .noreply(true)
            .await
            .unwrap();
        assert_eq!(c.get("a").await.unwrap(), None);
    });
}

#[test]
fn default_noreply_is_off_and_can_be_turned_on() {
    let server = Memcached::shared();
    let quiet = connect(server, |c| {
        c.key_prefix(unique_prefix("dnr")).default_noreply(true)
    });
    rt::block_on(async {
        // With noreply, add of an existing key cannot report NOT_STORED.
        quiet.set("k", "1").await.unwrap();
        assert!(quiet.add("k", "2").await.unwrap());
        // A call can still ask for the reply.
        assert!(!quiet.add("k", "2").noreply(false).await.unwrap());
        assert_eq!(text(quiet.get("k").await.unwrap()), Some("1".into()));
    });
}

#[test]
fn keys_of_250_bytes_pass_and_251_are_rejected_before_io() {
    let c = connect(Memcached::shared(), |c| c);
    rt::block_on(async {
        let key = "k".repeat(250);
        assert!(c.set(&key, "v").await.unwrap());
        assert_eq!(text(c.get(&key).await.unwrap()), Some("v".into()));
        let long = "k".repeat(251);
        assert!(matches!(
            c.set(&long, "v").await,
            Err(Error::IllegalInput(_))
        ));
        assert!(matches!(c.get(&long).await, Err(Error::IllegalInput(_))));
        c.delete(&key).await.unwrap();
    });
}

#[test]
fn a_key_cannot_inject_a_command() {
    let c = shared("inject");
    rt::block_on(async {
        c.set("victim", "still here").await.unwrap();
        for evil in ["x\r\nflush_all", "x flush_all", "x\nflush_all", "x\0"] {
            match c.set(evil, "v").await {
                Err(Error::IllegalInput(_)) => {}
                other => panic!("{evil:?} was not rejected: {other:?}"),
            }
            assert!(matches!(c.get(evil).await, Err(Error::IllegalInput(_))));
            assert!(matches!(c.delete(evil).await, Err(Error::IllegalInput(_))));
        }
        // One bad key fails the whole multi-key call before any byte is sent.
        assert!(matches!(
            c.get_many(["ok", "x\r\nflush_all"]).await,
            Err(Error::IllegalInput(_))
        ));
        let batch = c.set_many([("good", "1"), ("bad key", "2")]).await;
        assert!(matches!(batch, Err(Error::IllegalInput(_))));
        assert_eq!(
            c.get("good").await.unwrap(),
            None,
            "nothing of the batch was sent"
        );
        assert_eq!(
            text(c.get("victim").await.unwrap()),
            Some("still here".into())
        );
    });
}

#[test]
fn unicode_keys_only_when_enabled() {
    let server = Memcached::shared();
    let plain = connect(server, |c| c.key_prefix(unique_prefix("uni")));
    let unicode = connect(server, |c| {
        c.key_prefix(unique_prefix("uni")).allow_unicode_keys(true)
    });
    rt::block_on(async {
        assert!(matches!(
            plain.set("clé", "v").await,
            Err(Error::IllegalInput(_))
        ));
        assert!(unicode.set("clé", "v").await.unwrap());
        assert_eq!(text(unicode.get("clé").await.unwrap()), Some("v".into()));
        let many = unicode.get_many(["clé"]).await.unwrap();
        assert!(many.contains_key("clé".as_bytes()));
    });
}

#[test]
fn short_ttls_expire() {
    let c = shared("expiry");
    rt::block_on(async {
        c.set("short", "v")
            .ttl(Duration::from_secs(1))
            .await
            .unwrap();
        c.set("absolute", "v")
            .ttl(SystemTime::now() + Duration::from_secs(1))
            .await
            .unwrap();
        c.set("long", "v")
            .ttl(Duration::from_secs(3600))
            .await
            .unwrap();
        c.set("past", "v")
            .ttl(SystemTime::now() - Duration::from_secs(10))
            .await
            .unwrap();
        c.set("over_30_days", "v")
            .ttl(Duration::from_secs(40 * 24 * 3600))
            .await
            .unwrap();
        assert_eq!(
            c.get("past").await.unwrap(),
            None,
            "a time in the past expires at once"
        );
        assert!(c.get("short").await.unwrap().is_some());
        rt::sleep(Duration::from_millis(2500)).await;
        let got = c
            .get_many(["short", "absolute", "long", "over_30_days"])
            .await
            .unwrap();
        assert!(!got.contains_key(&b"short"[..]));
        assert!(!got.contains_key(&b"absolute"[..]));
        assert!(got.contains_key(&b"long"[..]));
        assert!(
            got.contains_key(&b"over_30_days"[..]),
            "a ttl past 30 days is sent as a unix time"
        );
    });
}

#[test]
fn a_zero_duration_is_expired_and_a_zero_expire_is_never() {
    use memclient::Ttl;
    let c = shared("zero_ttl");
    rt::block_on(async {
        // Stored (memcached answers STORED), but already expired.
        assert!(c.set("zero", "v").ttl(Duration::ZERO).await.unwrap());
        assert!(c.set("expired", "v").ttl(Ttl::EXPIRED).await.unwrap());
        // pymemcache's expire=0, and the default: never.
        c.set("expire0", "v")
            .ttl(Ttl::from_expire(0))
            .await
            .unwrap();
        c.set("never", "v").ttl(Ttl::Never).await.unwrap();
        c.set("default", "v").await.unwrap();
        let got = c
            .get_many(["zero", "expired", "expire0", "never", "default"])
            .await
            .unwrap();
        assert!(!got.contains_key(&b"zero"[..]), "Duration::ZERO is expired");
        assert!(!got.contains_key(&b"expired"[..]));
        for key in ["expire0", "never", "default"] {
            assert!(got.contains_key(key.as_bytes()), "{key} never expires");
        }
        // touch and gat take the same ttls.
        assert!(c.touch("never", Duration::ZERO).await.unwrap());
        assert_eq!(c.get("never").await.unwrap(), None);
        assert!(c
            .gat("default", Ttl::from_expire(0))
            .await
            .unwrap()
            .is_some());
        assert!(c.get("default").await.unwrap().is_some());
    });
}

#[test]
fn flush_all_now_and_with_a_delay() {
    let server = Memcached::start();
    let c = connect(&server, |c| c);
    rt::block_on(async {
        c.set("a", "1").await.unwrap();
        c.flush_all().await.unwrap();
        assert_eq!(c.get("a").await.unwrap(), None);
        c.set("b", "1").await.unwrap();
        c.flush_all().delay(Duration::from_secs(2)).await.unwrap();
        assert!(
            c.get("b").await.unwrap().is_some(),
            "not flushed before the delay"
        );
        rt::sleep(Duration::from_millis(3100)).await;
        assert_eq!(c.get("b").await.unwrap(), None, "flushed after the delay");
        c.flush_all().noreply(true).await.unwrap();
        assert!(c.get("b").await.unwrap().is_none());
    });
}

#[test]
fn stats_are_typed() {
    let server = Memcached::start();
    let c = connect(&server, |c| c);
    rt::block_on(async {
        c.set("a", "1").await.unwrap();
        c.get("a").await.unwrap();
        c.get("b").await.unwrap();
        let stats = c.stats(Vec::<&str>::new()).await.unwrap();
        assert_eq!(stats["curr_items"].as_int(), Some(1));
        assert_eq!(stats["get_hits"].as_int(), Some(1));
        assert_eq!(stats["get_misses"].as_int(), Some(1));
        assert!(stats["rusage_user"].as_f64().is_some());
        assert!(matches!(
            stats["rusage_user"],
            memclient::StatValue::Float(_)
        ));
        assert!(stats["version"].as_str().is_some());
        let settings = c.stats(["settings"]).await.unwrap();
        assert_eq!(settings["growth_factor"], memclient::StatValue::Float(1.25));
        assert_eq!(settings["evictions"].as_bool(), Some(true));
        assert_eq!(settings["cas_enabled"].as_bool(), Some(true));
        for group in ["items", "slabs", "sizes", "conns"] {
            c.stats([group])
                .await
                .unwrap_or_else(|e| panic!("stats {group}: {e}"));
        }
        // cachedump lists the cold LRU: memcached's maintainer thread moves a
        // new item there in the background, so give it a few seconds.
        let mut dump = c.stats(["cachedump", "1", "10"]).await.unwrap();
        for _ in 0..50 {
            if dump.contains_key("a") {
                break;
            }
            rt::sleep(Duration::from_millis(100)).await;
            dump = c.stats(["cachedump", "1", "10"]).await.unwrap();
        }
        assert!(dump.contains_key("a"), "{dump:?}");
        assert!(matches!(
            c.stats(["bogus"]).await,
            Err(Error::UnknownCommand(_))
        ));
        assert!(matches!(
            c.stats(["two words"]).await,
            Err(Error::IllegalInput(_))
        ));
    });
}

#[test]
fn lru_tunes_the_servers_lru() {
    let server = Memcached::start();
    let c = connect(&server, |c| c);
    rt::block_on(async {
        let setting = |settings: &HashMap<String, StatValue>, name: &str| {
            settings
                .get(name)
                .cloned()
                .unwrap_or_else(|| panic!("no {name}"))
        };
        c.lru(Lru::Tune {
            hot_percent: 15,
            warm_percent: 35,
            hot_max_factor: LruFactor(0.25),
            warm_max_factor: LruFactor(1.5),
        })
        .await
        .unwrap();
        c.lru(Lru::Mode(LruMode::Flat)).await.unwrap();
        c.lru(Lru::TempTtl(61)).await.unwrap();
        let settings = c.stats(["settings"]).await.unwrap();
        assert_eq!(setting(&settings, "hot_lru_pct"), StatValue::Int(15));
        assert_eq!(setting(&settings, "warm_lru_pct"), StatValue::Int(35));
        assert_eq!(setting(&settings, "hot_max_factor"), StatValue::Float(0.25));
        assert_eq!(setting(&settings, "warm_max_factor"), StatValue::Float(1.5));
        assert_eq!(setting(&settings, "lru_segmented"), StatValue::Bool(false));
        assert_eq!(setting(&settings, "temp_lru"), StatValue::Bool(true));
        assert_eq!(setting(&settings, "temporary_ttl"), StatValue::Int(61));

        c.lru(Lru::Mode(LruMode::Segmented)).await.unwrap();
        c.lru(Lru::TempTtl(-1)).await.unwrap();
        let settings = c.stats(["settings"]).await.unwrap();
        assert_eq!(setting(&settings, "lru_segmented"), StatValue::Bool(true));
        assert_eq!(setting(&settings, "temp_lru"), StatValue::Bool(false));

        // A refusal is the server's reason, and the connection stays usable.
        let too_much = Lru::Tune {
            hot_percent: 60,
            warm_percent: 60,
            hot_max_factor: LruFactor(0.1),
            warm_max_factor: LruFactor(2.0),
        };
        match c.lru(too_much).await {
            Err(Error::UnknownCommand(message)) => {
                assert!(message.contains("must not exceed 80"), "{message}")
            }
            other => panic!("lru tune 60 60: {other:?}"),
        }
        assert!(c.set("still", "usable").await.unwrap());
    });
}

#[test]
fn admin_commands() {
    let server = Memcached::start();
    let c = connect(&server, |c| c);
    rt::block_on(async {
        let version = c.version().await.unwrap();
        assert!(version.starts_with("1."), "{version}");
        c.verbosity(1).await.unwrap();
        c.verbosity(0).noreply(true).await.unwrap();
        c.cache_memlimit(100).await.unwrap();
        match c.cache_memlimit(1).await {
            Err(Error::Server(message)) => {
                assert!(message.contains("MEMLIMIT_TOO_SMALL"), "{message}")
            }
            other => panic!("cache_memlimit 1: {other:?}"),
        }
        c.slabs_automove(1).await.unwrap();
        match c.slabs_reassign(1, 2).await {
            Err(Error::Server(message)) => assert!(message.starts_with("NOSPARE"), "{message}"),
            other => panic!("slabs reassign on an empty server: {other:?}"),
        }
        c.lru_crawler(LruCrawler::Sleep(100)).await.unwrap();
        c.lru_crawler(LruCrawler::ToCrawl(10)).await.unwrap();
        c.set("a", "1").await.unwrap();
        let lines = c
            .lru_crawler(LruCrawler::Metadump("all".into()))
            .await
            .unwrap();
        assert!(lines.iter().any(|l| l.starts_with(b"key=a ")), "{lines:?}");
        c.lru_crawler(LruCrawler::Crawl("all".into()))
            .await
            .unwrap();
        c.lru_crawler(LruCrawler::Disable).await.unwrap();
        // The crawler thread stops in the background: until it has, memcached
        // answers enable with "ERROR failed to start lru crawler thread".
        let mut enabled = Err(Error::ConnectionClosed);
        for _ in 0..50 {
            enabled = c.lru_crawler(LruCrawler::Enable).await;
            if enabled.is_ok() {
                break;
            }
            rt::sleep(Duration::from_millis(20)).await;
        }
        enabled.unwrap();
        // memcached without -A refuses shutdown, and the client says so.
        match c.shutdown(false).await {
            Err(Error::UnknownCommand(message)) => {
                assert!(message.contains("shutdown"), "{message}")
            }
            other => panic!("shutdown: {other:?}"),
        }
        // The client carries on (on a new connection).
        assert!(c.version().await.is_ok());
    });
}

#[test]
fn shutdown_stops_a_server_that_allows_it() {
    let server = Memcached::start_with(crate::support::Listen::Ipv4, &["-A"]);
    let c = connect(&server, |c| c.timeout(Duration::from_secs(2)));
    rt::block_on(async {
        c.set("k", "v").await.unwrap();
        c.shutdown(false).await.unwrap();
        // memcached's main loop notices the request on its next clock tick
        // (once a second): until then it still accepts connections.
        let mut gone = None;
        for _ in 0..40 {
            rt::sleep(Duration::from_millis(100)).await;
            if let Err(err) = c.get("k").await {
                gone = Some(err);
                break;
            }
        }
        let err = gone.expect("the server exits within 4 s of shutdown");
        assert!(err.is_connection_error(), "the server is gone: {err}");
    });
}

#[test]
fn raw_commands() {
    let c = connect(Memcached::shared(), |c| c);
    rt::block_on(async {
        let version = c
            .raw_command("version", None, RawReply::Line)
            .await
            .unwrap();
        assert!(matches!(version, Response::Line(ref l) if l.starts_with(b"VERSION ")));
        let stored = c
            .raw_command(
                "set raw:key 0 0 3",
                Some(Bytes::from_static(b"abc")),
                RawReply::Line,
            )
            .await
            .unwrap();
        assert_eq!(stored, Response::Line(Bytes::from_static(b"STORED")));
        let lines = c
            .raw_command("get raw:key", None, RawReply::UntilEnd)
            .await
            .unwrap();
        assert_eq!(
            lines,
            Response::Lines(vec![
                Bytes::from_static(b"VALUE raw:key 0 3"),
                Bytes::from_static(b"abc")
            ])
        );
        assert!(matches!(
            c.raw_command("bogus", None, RawReply::Line).await,
            Err(Error::UnknownCommand(_))
        ));
        assert!(matches!(
            c.raw_command("get a\r\nflush_all", None, RawReply::Line)
                .await,
            Err(Error::IllegalInput(_))
        ));
    });
}

#[test]
fn quit_closes_and_the_next_call_reconnects() {
    let c = connect(Memcached::shared(), |c| c.key_prefix(unique_prefix("quit")));
    rt::block_on(async {
        c.set("k", "v").await.unwrap();
        c.quit().await.unwrap();
        assert_eq!(text(c.get("k").await.unwrap()), Some("v".into()));
    });
}

/// A serde that shows the stored flags: the value read is `(data, flags)`.
struct WithFlags;

impl memclient::serde::Serde for WithFlags {
    type Value = (Bytes, u32);

    fn serialize(&self, _key: &[u8], value: &(Bytes, u32)) -> memclient::Result<(Bytes, u32)> {
        Ok(value.clone())
    }

    fn deserialize(&self, _key: &[u8], data: Bytes, flags: u32) -> memclient::Result<(Bytes, u32)> {
        Ok((data, flags))
    }
}

#[test]
fn raw_bytes_and_compression_serdes() {
    let server = Memcached::shared();
    let raw = connect(server, |c| c.key_prefix(unique_prefix("serde"))).with_serde(RawBytes);
    rt::block_on(async {
        raw.set("k", Bytes::from_static(b"\x00bytes"))
            .await
            .unwrap();
        assert_eq!(
            raw.get("k").await.unwrap(),
            Some(Bytes::from_static(b"\x00bytes"))
        );
    });
    let prefix = unique_prefix("lz4");
    let compressed =
        connect(server, |c| c.key_prefix(prefix.clone())).with_serde(Compressed::new(RawBytes));
    let stored = connect(server, |c| c.key_prefix(prefix.clone())).with_serde(WithFlags);
    rt::block_on(async {
        let value = Bytes::from("memclient ".repeat(1000));
        compressed.set("big", value.clone()).await.unwrap();
        assert_eq!(compressed.get("big").await.unwrap(), Some(value.clone()));
        let (data, flags) = stored.get("big").await.unwrap().unwrap();
        assert_eq!(flags, 8, "stored with the compressed flag");
        assert!(
            data.len() < value.len() / 4,
            "stored compressed: {} bytes",
            data.len()
        );
        compressed
            .set("small", Bytes::from_static(b"tiny"))
            .await
            .unwrap();
        assert_eq!(stored.get("small").await.unwrap().unwrap().1, 0);
    });
}

#[test]
fn errors_as_misses_turns_read_failures_into_misses() {
    let server = Memcached::start();
    let address = server.address.clone();
    let c = rt::block_on(rt::connect(
        Config::new(&address)
            .errors_as_misses(true)
            .timeout(Duration::from_millis(500))
            .connect_timeout(Duration::from_millis(500)),
    ))
    .unwrap();
    let strict = connect(&server, |c| c.timeout(Duration::from_millis(500)));
    rt::block_on(async {
        c.set("k", "v").await.unwrap();
        drop(server);
        assert_eq!(c.get("k").await.unwrap(), None);
        assert!(c.get_many(["k"]).await.unwrap().is_empty());
        assert_eq!(c.gets("k").await.unwrap(), None);
        assert!(c.set("k", "v").await.is_err(), "writes still report errors");
        assert!(strict.get("k").await.is_err());
        assert!(matches!(
            c.get("bad key").await,
            Err(Error::IllegalInput(_))
        ));
    });
}
