//! Peer: Shopify's `async-memcached`, the tokio client. Its calls take
//! `&mut self` (one request on the wire at a time), so concurrent tasks share
//! it behind a mutex, or share 8 of them picked round-robin.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_memcached::{AsciiProtocol, Client};
use tokio::sync::Mutex;

use crate::exec::{Exec, TokioExec};
use crate::measure::{self, Meter, Outcome, Plan};
use crate::workload::{check_len, Data, MixOp, Workload, MANY, POOL, SMALL_LEN, TASKS};

async fn connect(address: &str) -> Result<Client, String> {
    // Its DSN parser wants a scheme for TCP.
    Client::new(format!("tcp://{address}"))
        .await
        .map_err(|e| format!("connect: {e}"))
}

/// Measures async-memcached on `workload`: units per second.
pub fn run(
    exec: &TokioExec,
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    address: &str,
) -> Result<f64, String> {
    let (exec2, plan, data, address) = (exec.clone(), *plan, data.clone(), address.to_string());
    exec.run(async move {
        match workload {
            Workload::Tasks64 => {
                let client = Arc::new(Mutex::new(connect(&address).await?));
                measure::concurrent(&exec2, &plan, TASKS, move |task, i| {
                    let (client, data) = (client.clone(), data.clone());
                    async move { op(&mut *client.lock().await, workload, &data, task, i).await }
                })
                .await
            }
            Workload::Pool8 => {
                let mut clients = Vec::with_capacity(POOL);
                for _ in 0..POOL {
                    clients.push(Mutex::new(connect(&address).await?));
                }
                let clients = Arc::new(clients);
                let next = Arc::new(AtomicUsize::new(0));
                measure::concurrent(&exec2, &plan, TASKS, move |task, i| {
                    let (clients, next, data) = (clients.clone(), next.clone(), data.clone());
                    async move {
                        let client = &clients[next.fetch_add(1, Ordering::Relaxed) % POOL];
                        op(&mut *client.lock().await, workload, &data, task, i).await
                    }
                })
                .await
            }
            _ => {
                let mut client = connect(&address).await?;
                let mut meter = Meter::start(&plan);
                for i in 0.. {
                    if !meter.record(op(&mut client, workload, &data, 0, i).await?) {
                        break;
                    }
                }
                Ok(meter.rate())
            }
        }
    })
}

async fn op(client: &mut Client, workload: Workload, data: &Data, task: usize, i: u64) -> Outcome {
    let error = |e: async_memcached::Error| e.to_string();
    let len = |v: Option<async_memcached::Value>| v.and_then(|v| v.data).map(|d| d.len());
    match workload {
        // Not run for this client (see `Contestant::runs`).
        Workload::SetNoreply64 | Workload::Joined64 => return Err("not run for this client".into()),
        Workload::Get | Workload::Tasks64 | Workload::Pool8 => {
            let value = client.get(data.key(task, i)).await.map_err(error)?;
            check_len("get", len(value), SMALL_LEN)?;
        }
        Workload::Set => {
            let value: &[u8] = &data.small;
            client
                .set(data.key(task, i), value, None, None)
                .await
                .map_err(error)?
        }
        // The peers never run the meta row; the raw loop runs its classic get there.
        Workload::GetMany | Workload::GetManyMeta => {
            let values = client.get_multi(&data.many).await.map_err(error)?;
            if values.len() != MANY {
                return Err(format!("get_many: {} values", values.len()));
            }
            return Ok(MANY as u64);
        }
        Workload::GetLarge => {
            let value = client.get(&data.large_key).await.map_err(error)?;
            check_len("get 512 KiB", len(value), data.large.len())?;
        }
        Workload::SetLarge => {
            let value: &[u8] = &data.large;
            client
                .set(&data.large_key, value, None, None)
                .await
                .map_err(error)?
        }
        Workload::Mix => match data.mix(i) {
            MixOp::Set(key) => {
                let value: &[u8] = &data.small;
                client
                    .set(&data.keys[key], value, None, None)
                    .await
                    .map_err(error)?
            }
            MixOp::Get(key) => {
                let value = client.get(&data.keys[key]).await.map_err(error)?;
                check_len("mix get", len(value), SMALL_LEN)?;
            }
            MixOp::Miss(key) => {
                if client
                    .get(&data.misses[key])
                    .await
                    .map_err(error)?
                    .is_some()
                {
                    return Err("mix: a miss hit".into());
                }
            }
        },
    }
    Ok(1)
}
