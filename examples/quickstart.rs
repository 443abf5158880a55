//! The main example: a tour of the client.
//!
//! Uses the memcached at `MEMCACHED_ADDR` (or 127.0.0.1:11211) when one
//! answers, and otherwise the in-memory mock of `memclient-mock`, so it runs
//! on a machine without memcached. Run it with `cargo run --example quickstart`.
//!
//! The client core needs no runtime: here smol's executor drives it, with a
//! stream opened by hand. With a runtime feature enabled,
//! `Config::new(addr).connect(Smol)` (or `Tokio`, `AsyncStd`) does the same,
//! and `.pool(..)`, `Config::servers(..)` and `.retry(..)` build the other
//! backends the same way.

use std::time::Duration;

use memclient::serde::CacheValue;
use memclient::{Backend, CasOutcome, Client, Connection};
use memclient_mock::MockMemcache;

fn main() -> memclient::Result<()> {
    smol::block_on(async {
        let address = std::env::var("MEMCACHED_ADDR").unwrap_or_else(|_| "127.0.0.1:11211".into());
        let connect = async_net::TcpStream::connect(address.as_str());
        match smol::future::or(async { Some(connect.await) }, async {
            smol::Timer::after(Duration::from_millis(500)).await;
            None
        })
        .await
        {
            Some(Ok(stream)) => {
                println!("using memcached at {address}");
                let (connection, driver) = Connection::from_stream(stream);
                smol::spawn(driver).detach();
                tour(Client::new(connection)).await
            }
            _ => {
                println!(
                    "no memcached answers at {address}: using the in-process mock (memclient-mock)"
                );
                let mock = MockMemcache::new();
                let (connection, driver) = Connection::from_stream(mock.connect());
                smol::spawn(driver).detach();
                tour(Client::new(connection)).await
            }
        }
    })
}

/// The same code runs on any backend: a connection, a pool, the mock.
async fn tour<B: Backend>(client: Client<B>) -> memclient::Result<()> {
    println!("server version {}", client.version().await?);

    // Text, bytes and integers are stored with pymemcache's flags.
    client
        .set("greeting", "hello")
        .ttl(Duration::from_secs(60))
        .await?;
    client.set("blob", vec![0u8, 159, 146, 150]).await?;
    client.set("visits", 41i64).await?;
    println!("greeting = {:?}", client.get("greeting").await?);

    let found = client
        .get_many(["greeting", "blob", "visits", "absent"])
        .await?;
    println!("get_many found {} of 4 keys", found.len());

    println!("visits after incr = {:?}", client.incr("visits", 1).await?);

    // Optimistic concurrency: gets hands out a token, cas checks it.
    let (value, token) = client.gets("greeting").await?.expect("stored above");
    let first = client.cas("greeting", "hi", token).await?;
    let second = client.cas("greeting", "hey", token).await?;
    println!("cas with a fresh token: {first:?}; with the same token again: {second:?}");
    assert_eq!((first, second), (CasOutcome::Stored, CasOutcome::Exists));
    assert_eq!(value, CacheValue::from("hello"));

    // Invalid keys never reach the server.
    let err = client.set("two words", "x").await.unwrap_err();
    println!("rejected before any I/O: {err}");

    let not_stored = client.set_many([("a", "1"), ("b", "2")]).await?;
    println!("set_many: {} keys not stored", not_stored.len());
    client
        .delete_many(["a", "b", "greeting", "blob", "visits"])
        .await?;

    let stats = client.stats(Vec::<&str>::new()).await?;
    println!(
        "server holds {:?} items",
        stats.get("curr_items").and_then(|v| v.as_int())
    );
    Ok(())
}
