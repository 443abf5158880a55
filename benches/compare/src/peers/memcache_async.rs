//! Peer: `memcache-async`, the futures-io client, over smol's sockets. Its
//! calls take `&mut self`, so concurrent tasks share it behind a mutex, or
//! share 8 of them picked round-robin.
//!
//! Its `set` always sends `noreply` and returns without a round trip, so its
//! set and mix rows are not comparable with clients that wait for `STORED`
//! (the table marks them and leaves them out of the best-peer ratio).

use std::io::ErrorKind;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_lock::Mutex;
use async_net::TcpStream;
use memcache_async::ascii::Protocol;

use crate::exec::{Exec, SmolExec};
use crate::measure::{self, Meter, Outcome, Plan};
use crate::workload::{check_len, Data, MixOp, Workload, MANY, POOL, SMALL_LEN, TASKS};

type Client = Protocol<TcpStream>;

async fn connect(address: &str) -> Result<Client, String> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // As memclient and the other peers do: small requests leave at once.
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(Protocol::new(stream))
}

/// True where this peer's writes skip the reply (its `set` is `noreply`).
pub fn skips_replies(workload: Workload) -> bool {
    matches!(workload, Workload::Set | Workload::SetLarge | Workload::Mix)
}

/// Measures memcache-async on `workload`: units per second.
pub fn run(
    exec: &SmolExec,
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    address: &str,
) -> Result<f64, String> {
    let (exec2, plan, data, address) = (*exec, *plan, data.clone(), address.to_string());
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

/// A get: the value's length, `None` on a miss.
async fn get(client: &mut Client, key: &str) -> Result<Option<usize>, String> {
    match client.get(key).await {
        Ok(value) => Ok(Some(value.len())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

async fn op(client: &mut Client, workload: Workload, data: &Data, task: usize, i: u64) -> Outcome {
    let error = |e: std::io::Error| e.to_string();
    match workload {
        // Not run for this client (see `Contestant::runs`).
        Workload::SetNoreply64 | Workload::Joined64 => return Err("not run for this client".into()),
        Workload::Get | Workload::Tasks64 | Workload::Pool8 => {
            check_len("get", get(client, data.key(task, i)).await?, SMALL_LEN)?;
        }
        Workload::Set => client
            .set(data.key(task, i), &data.small, 0)
            .await
            .map_err(error)?,
        // The peers never run the meta row; the raw loop runs its classic get there.
        Workload::GetMany | Workload::GetManyMeta => {
            let values = client.get_multi(&data.many).await.map_err(error)?;
            if values.len() != MANY {
                return Err(format!("get_many: {} values", values.len()));
            }
            return Ok(MANY as u64);
        }
        Workload::GetLarge => {
            let len = get(client, &data.large_key).await?;
            check_len("get 512 KiB", len, data.large.len())?;
        }
        Workload::SetLarge => client
            .set(&data.large_key, &data.large, 0)
            .await
            .map_err(error)?,
        Workload::Mix => match data.mix(i) {
            MixOp::Set(key) => client
                .set(&data.keys[key], &data.small, 0)
                .await
                .map_err(error)?,
            MixOp::Get(key) => {
                check_len("mix get", get(client, &data.keys[key]).await?, SMALL_LEN)?;
            }
            MixOp::Miss(key) => {
                if get(client, &data.misses[key]).await?.is_some() {
                    return Err("mix: a miss hit".into());
                }
            }
        },
    }
    Ok(1)
}
