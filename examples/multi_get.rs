//! Times `get_many` sent as a classic `get k1 k2 ...` line against a quiet
//! meta batch (`mg <key> v f q O<i>` ... `mn`): 100 keys of 100-byte values,
//! half of them missing. Not a benchmark suite, a quick figure for choosing
//! the default of `ClientOptions::multi_get`.
//!
//! ```sh
//! memcached -p 11311 -U 0 &
//! MEMCACHED_ADDR=127.0.0.1:11311 cargo run --release --features smol --example multi_get
//! ```

use std::time::{Duration, Instant};

use memclient::smol::Smol;
use memclient::{Config, MultiGet};

const KEYS: usize = 100;
const RUN: Duration = Duration::from_secs(3);
const TASKS: usize = 16;

fn main() -> memclient::Result<()> {
    let address = std::env::var("MEMCACHED_ADDR").unwrap_or_else(|_| "127.0.0.1:11211".into());
    smol::block_on(async {
        let keys: Vec<String> = (0..KEYS)
            .map(|i| format!("multi-get-timing:{i:03}"))
            .collect();
        let setup = Config::new(&address).connect(Smol).await?;
        for (i, key) in keys.iter().enumerate() {
            if i % 2 == 0 {
                setup.set(key, vec![b'x'; 100]).await?;
            } else {
                setup.delete(key).await?;
            }
        }
        for how in [
            MultiGet::Classic,
            MultiGet::Meta,
            MultiGet::Classic,
            MultiGet::Meta,
        ] {
            let client = Config::new(&address).multi_get(how).connect(Smol).await?;
            // One task: latency of one call.
            let start = Instant::now();
            let mut calls = 0u64;
            while start.elapsed() < RUN {
                let hits = client.get_many(&keys).await?;
                assert_eq!(hits.len(), KEYS / 2);
                calls += 1;
            }
            let one = calls as f64 / start.elapsed().as_secs_f64();
            // Many tasks on the one pipelined connection: throughput.
            let start = Instant::now();
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let client = client.clone();
                    let keys = keys.clone();
                    smol::spawn(async move {
                        let mut calls = 0u64;
                        while start.elapsed() < RUN {
                            client.get_many(&keys).await.expect("get_many");
                            calls += 1;
                        }
                        calls
                    })
                })
                .collect();
            let mut total = 0;
            for task in tasks {
                total += task.await;
            }
            let many = total as f64 / start.elapsed().as_secs_f64();
            println!(
                "{how:?}: 1 task {one:.0} calls/s ({:.1} us/call); {TASKS} tasks {many:.0} calls/s",
                1e6 / one
            );
        }
        Ok(())
    })
}
