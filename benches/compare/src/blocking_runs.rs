//! memclient's blocking client, as a program without an async runtime uses
//! it: sequentially on one thread, and from 64 OS threads sharing one client
//! (one pipelined connection, or a pool of 8), beside the `memcache` rows
//! that do the same.

use std::sync::Arc;

use memclient::blocking::Client;
use memclient::serde::RawBytes;
use memclient::{Backend, Config, PoolOptions};

use crate::measure::{self, Outcome, Plan};
use crate::workload::{check_len, Data, MixOp, Workload, MANY, POOL, SMALL_LEN, TASKS};

/// Measures the blocking client on `workload`: units per second.
pub fn run(
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    address: &str,
) -> Result<f64, String> {
    let config = match workload {
        Workload::GetManyMeta => Config::new(address).multi_get(memclient::MultiGet::Meta),
        _ => Config::new(address),
    };
    match workload {
        Workload::Pool8 => {
            let pool = PoolOptions::new().max_size(POOL);
            let client = Client::connect_pool(config, pool).map_err(|e| e.to_string())?;
            let client = Client::new(client.into_async().with_serde(RawBytes));
            measure::threads(plan, TASKS, |task, i| op(&client, workload, data, task, i))
        }
        _ => {
            let client = Client::connect_with(config).map_err(|e| format!("connect: {e}"))?;
            let client = Client::new(client.into_async().with_serde(RawBytes));
            match workload {
                Workload::Tasks64 => {
                    measure::threads(plan, TASKS, |task, i| op(&client, workload, data, task, i))
                }
                _ => measure::sync_sequential(plan, |i| op(&client, workload, data, 0, i)),
            }
        }
    }
}

fn op<B: Backend>(
    client: &Client<B, RawBytes>,
    workload: Workload,
    data: &Data,
    task: usize,
    i: u64,
) -> Outcome {
    let error = |e: memclient::Error| e.to_string();
    let get = |key: &str| -> Result<Option<usize>, String> {
        Ok(client.get(key).map_err(error)?.map(|v| v.len()))
    };
    let stored = |result: memclient::Result<bool>| match result {
        Ok(true) => Ok(()),
        Ok(false) => Err("set: not stored".to_string()),
        Err(e) => Err(e.to_string()),
    };
    match workload {
        // Not run for this client (see `Contestant::runs`).
        Workload::SetNoreply64 | Workload::Joined64 => return Err("not run for this client".into()),
        Workload::Get | Workload::Tasks64 | Workload::Pool8 => {
            check_len("get", get(data.key(task, i))?, SMALL_LEN)?;
        }
        Workload::Set => stored(client.set(data.key(task, i), data.small.clone()).send())?,
        Workload::GetMany | Workload::GetManyMeta => {
            let values = client.get_many(&data.many).map_err(error)?;
            if values.len() != MANY {
                return Err(format!("get_many: {} values", values.len()));
            }
            return Ok(MANY as u64);
        }
        Workload::GetLarge => check_len("get 512 KiB", get(&data.large_key)?, data.large.len())?,
        Workload::SetLarge => stored(client.set(&data.large_key, data.large.clone()).send())?,
        Workload::Mix => match data.mix(i) {
            MixOp::Set(key) => stored(client.set(&data.keys[key], data.small.clone()).send())?,
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
