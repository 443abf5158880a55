//! Peer: `memcache`, the synchronous client, on the text protocol (as every
//! other row, so the wire is the same). Its client owns an r2d2 pool: with
//! one connection it is the mutex of the async peers, with 8 it is its own
//! pool. Concurrent "tasks" are OS threads, as a synchronous user would run
//! them.

use std::sync::Arc;

use memcache::Client;

use crate::measure::{self, Outcome, Plan};
use crate::workload::{check_len, Data, MixOp, Workload, MANY, POOL, SMALL_LEN, TASKS};

fn connect(address: &str, connections: u32) -> Result<Client, String> {
    let url = format!("memcache://{address}?protocol=ascii&tcp_nodelay=true");
    Client::with_pool_size(url.as_str(), connections).map_err(|e| format!("connect: {e}"))
}

/// Measures memcache on `workload`: units per second.
pub fn run(
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    address: &str,
) -> Result<f64, String> {
    match workload {
        Workload::Tasks64 => {
            let client = connect(address, 1)?;
            measure::threads(plan, TASKS, |task, i| op(&client, workload, data, task, i))
        }
        Workload::Pool8 => {
            let client = connect(address, POOL as u32)?;
            measure::threads(plan, TASKS, |task, i| op(&client, workload, data, task, i))
        }
        _ => {
            let client = connect(address, 1)?;
            measure::sync_sequential(plan, |i| op(&client, workload, data, 0, i))
        }
    }
}

fn op(client: &Client, workload: Workload, data: &Data, task: usize, i: u64) -> Outcome {
    let error = |e: memcache::MemcacheError| e.to_string();
    let get = |key: &str| -> Result<Option<usize>, String> {
        let value: Option<Vec<u8>> = client.get(key).map_err(error)?;
        Ok(value.map(|v| v.len()))
    };
    match workload {
        // Not run for this client (see `Contestant::runs`).
        Workload::SetNoreply64 | Workload::Joined64 => return Err("not run for this client".into()),
        Workload::Get | Workload::Tasks64 | Workload::Pool8 => {
            check_len("get", get(data.key(task, i))?, SMALL_LEN)?;
        }
        Workload::Set => client
            .set(data.key(task, i), &data.small[..], 0)
            .map_err(error)?,
        // The peers never run the meta row; the raw loop runs its classic get there.
        Workload::GetMany | Workload::GetManyMeta => {
            let keys: Vec<&str> = data.many.iter().map(String::as_str).collect();
            let values: std::collections::HashMap<String, Vec<u8>> =
                client.gets(&keys).map_err(error)?;
            if values.len() != MANY {
                return Err(format!("get_many: {} values", values.len()));
            }
            return Ok(MANY as u64);
        }
        Workload::GetLarge => check_len("get 512 KiB", get(&data.large_key)?, data.large.len())?,
        Workload::SetLarge => client
            .set(&data.large_key, &data.large[..], 0)
            .map_err(error)?,
        Workload::Mix => match data.mix(i) {
            MixOp::Set(key) => client
                .set(&data.keys[key], &data.small[..], 0)
                .map_err(error)?,
            MixOp::Get(key) => check_len("mix get", get(&data.keys[key])?, SMALL_LEN)?,
            MixOp::Miss(key) => {
                if get(&data.misses[key])?.is_some() {
                    return Err("mix: a miss hit".into());
                }
            }
        },
    }
    Ok(1)
}
