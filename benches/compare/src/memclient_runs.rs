//! memclient on each runtime: one pipelined `Connection`, or a `Pool` of 8 for
//! the pool workload. Values go through `RawBytes`, so no serde cost is
//! measured, as with the peers, which all take and return plain bytes.

use std::sync::Arc;

use memclient::runtime::Transport;
use memclient::serde::RawBytes;
use memclient::{Backend, Client, Config, MultiGet, PoolOptions};

use crate::alloc;
use crate::exec::Exec;
use crate::measure::{self, Outcome, Plan};
use crate::workload::{check_len, Data, MixOp, Workload, MANY, POOL, SMALL_LEN, TASKS};

/// Measures memclient on `workload`: units per second. `runtime` makes the
/// memclient runtime adapter inside the executor (tokio's needs to be there).
pub fn run<E, R>(
    exec: &E,
    runtime: fn() -> R,
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    address: &str,
) -> Result<f64, String>
where
    E: Exec,
    R: Transport,
{
    let config = match workload {
        Workload::GetManyMeta => Config::new(address).multi_get(MultiGet::Meta),
        _ => Config::new(address),
    };
    run_config(exec, runtime, workload, plan, data, config)
}

/// [`run`] with a client made from `config` (the TLS rows set TLS on it).
pub fn run_config<E, R>(
    exec: &E,
    runtime: fn() -> R,
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    config: Config,
) -> Result<f64, String>
where
    E: Exec,
    R: Transport,
{
    let (exec2, plan, data) = (exec.clone(), *plan, data.clone());
    exec.run(async move {
        match workload {
            Workload::Pool8 => {
                let pool = PoolOptions::new().max_size(POOL);
                let client = config
                    .pool(pool)
                    .connect(runtime())
                    .await
                    .map_err(|e| e.to_string())?
                    .with_serde(RawBytes);
                concurrent(&exec2, workload, &plan, data, client).await
            }
            _ => {
                let client = config
                    .connect(runtime())
                    .await
                    .map_err(|e| format!("connect: {e}"))?
                    .with_serde(RawBytes);
                match workload {
                    Workload::Tasks64 => concurrent(&exec2, workload, &plan, data, client).await,
                    _ => measure::sequential(&plan, |i| op(&client, workload, &data, 0, i)).await,
                }
            }
        }
    })
}

/// `TASKS` tasks sharing one client.
pub async fn concurrent<E, B>(
    exec: &E,
    workload: Workload,
    plan: &Plan,
    data: Arc<Data>,
    client: Client<B, RawBytes>,
) -> Result<f64, String>
where
    E: Exec,
    B: Backend + 'static,
{
    let client = Arc::new(client);
    measure::concurrent(exec, plan, TASKS, move |task, i| {
        let (client, data) = (client.clone(), data.clone());
        async move { op(&client, workload, &data, task, i).await }
    })
    .await
}

/// Operation `i` of task `task` of `workload`.
pub async fn op<B: Backend>(
    client: &Client<B, RawBytes>,
    workload: Workload,
    data: &Data,
    task: usize,
    i: u64,
) -> Outcome {
    let error = |e: memclient::Error| e.to_string();
    match workload {
        Workload::Get | Workload::Tasks64 | Workload::Pool8 => {
            let value = client.get(data.key(task, i)).await.map_err(error)?;
            check_len("get", value.map(|v| v.len()), SMALL_LEN)?;
        }
        Workload::Set => stored(client.set(data.key(task, i), data.small.clone()).await)?,
        Workload::GetMany | Workload::GetManyMeta => {
            let values = client.get_many(&data.many).await.map_err(error)?;
            if values.len() != MANY {
                return Err(format!("get_many: {} values", values.len()));
            }
            return Ok(MANY as u64);
        }
        Workload::GetLarge => {
            let value = client.get(&data.large_key).await.map_err(error)?;
            check_len("get 512 KiB", value.map(|v| v.len()), data.large.len())?;
        }
        Workload::SetLarge => stored(client.set(&data.large_key, data.large.clone()).await)?,
        Workload::Joined64 => {
            let gets = (0..TASKS).map(|task| client.get(data.key(task, i)));
            for value in futures_util::future::join_all(gets).await {
                check_len(
                    "joined get",
                    value.map_err(error)?.map(|v| v.len()),
                    SMALL_LEN,
                )?;
            }
            return Ok(TASKS as u64);
        }
        Workload::SetNoreply64 => {
            let items = (0..TASKS).map(|task| (data.key(task, i), data.small.clone()));
            client.set_many(items).noreply(true).await.map_err(error)?;
            client.version().await.map_err(error)?;
            return Ok(TASKS as u64);
        }
        Workload::Mix => match data.mix(i) {
            MixOp::Set(key) => stored(client.set(&data.keys[key], data.small.clone()).await)?,
            MixOp::Get(key) => {
                let value = client.get(&data.keys[key]).await.map_err(error)?;
                check_len("mix get", value.map(|v| v.len()), SMALL_LEN)?;
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

fn stored(result: memclient::Result<bool>) -> Result<(), String> {
    match result {
        Ok(true) => Ok(()),
        Ok(false) => Err("set: not stored".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Heap allocations per operation of memclient on `workload` (sequential, one
/// connection), counted over `ops` operations after `warmup` uncounted ones.
/// Counts every thread's allocations, the connection's driver included.
/// `variant` sends `set` with `noreply`, or runs without a call timeout.
#[allow(clippy::too_many_arguments)]
pub fn allocations_per_op<E, R>(
    exec: &E,
    runtime: fn() -> R,
    workload: Workload,
    variant: AllocVariant,
    data: &Arc<Data>,
    address: &str,
    warmup: u64,
    ops: u64,
) -> Result<f64, String>
where
    E: Exec,
    R: Transport,
{
    let (data, address) = (data.clone(), address.to_string());
    exec.run(async move {
        let mut config = Config::new(address);
        if variant == AllocVariant::NoTimeout {
            config = config.no_timeout();
        }
        let client = config
            .connect(runtime())
            .await
            .map_err(|e| format!("connect: {e}"))?
            .with_serde(RawBytes);
        let noreply = variant == AllocVariant::Noreply;
        let one = |i| {
            let (client, data) = (&client, &data);
            async move {
                if noreply && workload == Workload::Set {
                    let set = client.set(data.key(0, i), data.small.clone()).noreply(true);
                    return set.await.map(|_| 1).map_err(|e| e.to_string());
                }
                op(client, workload, data, 0, i).await
            }
        };
        for i in 0..warmup {
            one(i).await?;
        }
        let before = alloc::allocations();
        for i in warmup..warmup + ops {
            one(i).await?;
        }
        let after = alloc::allocations();
        Ok((after - before) as f64 / ops as f64)
    })
}

/// A variant of a workload in the allocations table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AllocVariant {
    /// As in the throughput table.
    Plain,
    /// `set` with `noreply`: no reply awaited.
    Noreply,
    /// Without a call timeout (`Config::no_timeout`): what the per-call timer costs.
    NoTimeout,
}

impl AllocVariant {
    /// What the table adds to the workload's name.
    pub fn suffix(self) -> &'static str {
        match self {
            AllocVariant::Plain => "",
            AllocVariant::Noreply => ", noreply",
            AllocVariant::NoTimeout => ", no call timeout",
        }
    }
}
