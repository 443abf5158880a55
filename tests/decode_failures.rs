//! One undecodable value in a multi-key read: the other keys survive.

use bytes::Bytes;
use memclient::serde::{CacheValue, PyFlags, Serde};
use memclient::{Client, ClientOptions, Error, Result};
use memclient_mock::MockMemcache;

/// Stores `(data, flags)` as given.
struct AsStored;

impl Serde for AsStored {
    type Value = (Bytes, u32);

    fn serialize(&self, _key: &[u8], value: &(Bytes, u32)) -> Result<(Bytes, u32)> {
        Ok(value.clone())
    }

    fn deserialize(&self, _key: &[u8], data: Bytes, flags: u32) -> Result<(Bytes, u32)> {
        Ok((data, flags))
    }
}

/// A mock holding two good values and one whose flags say integer but whose
/// data is not one.
fn mock() -> MockMemcache {
    let mock = MockMemcache::new();
    let raw = Client::new(mock.clone()).with_serde(AsStored);
    futures_lite::future::block_on(async {
        for (key, data, flags) in [
            ("good1", "1", 2),
            ("bad", "not a number", 2),
            ("good2", "two", 16),
        ] {
            assert!(raw.set(key, (Bytes::from(data), flags)).await.unwrap());
        }
    });
    mock
}

const KEYS: [&str; 4] = ["good1", "bad", "good2", "absent"];

fn client(mock: &MockMemcache, errors_as_misses: bool) -> Client<MockMemcache> {
    let options = ClientOptions::new().errors_as_misses(errors_as_misses);
    Client::with_options(mock.clone(), PyFlags, options).unwrap()
}

#[test]
fn without_errors_as_misses_get_many_fails_naming_the_key() {
    let mock = mock();
    let c = client(&mock, false);
    for err in futures_lite::future::block_on(async {
        [
            c.get_many(KEYS).await.unwrap_err(),
            c.gets_many(KEYS).await.unwrap_err(),
        ]
    }) {
        assert!(
            matches!(&err, Error::Serde(m) if m.contains("bad")),
            "{err}"
        );
    }
}

#[test]
fn with_errors_as_misses_the_bad_key_is_a_miss_and_the_rest_are_hits() {
    let mock = mock();
    let c = client(&mock, true);
    let (got, gots) =
        futures_lite::future::block_on(async { (c.get_many(KEYS).await, c.gets_many(KEYS).await) });
    let got = got.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[&b"good1"[..]], CacheValue::Int(1));
    assert_eq!(got[&b"good2"[..]], CacheValue::Text("two".into()));
    assert_eq!(gots.unwrap().len(), 2);
}

#[test]
fn get_many_results_reports_each_key_on_its_own() {
    let mock = mock();
    for errors_as_misses in [false, true] {
        let c = client(&mock, errors_as_misses);
        let (got, gots) = futures_lite::future::block_on(async {
            (
                c.get_many_results(KEYS).await,
                c.gets_many_results(KEYS).await,
            )
        });
        let got = got.unwrap();
        assert_eq!(got.len(), 3);
        assert_eq!(got[&b"good1"[..]], Ok(CacheValue::Int(1)));
        assert_eq!(got[&b"good2"[..]], Ok(CacheValue::Text("two".into())));
        assert!(matches!(&got[&b"bad"[..]], Err(Error::Serde(_))));
        let gots = gots.unwrap();
        assert!(matches!(&gots[&b"good1"[..]], Ok((CacheValue::Int(1), _))));
        assert!(gots[&b"bad"[..]].is_err());
    }
}
