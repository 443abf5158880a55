//! Many tasks on one client: every answer reaches its own caller, even when
//! calls are cancelled or time out at random points.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{select, Either};
use memclient::{Config, Error};
use rand::{Rng, SeedableRng};

use crate::rt::{self, TestClient};
use crate::support::{unique_prefix, Memcached};

const TASKS: usize = 64;
const ROUNDS: usize = 150;
const KEYS_PER_TASK: usize = 6;

fn client(config: impl FnOnce(Config) -> Config) -> Arc<TestClient> {
    let config =
        config(Config::new(&Memcached::shared().address).key_prefix(unique_prefix("conc")));
    Arc::new(rt::block_on(rt::connect(config)).expect("connect"))
}

/// The values a key may hold: a cancelled write may or may not have landed,
/// and may land even after a later confirmed one (its request can still sit
/// in the server's buffer of a retired socket while a new socket writes).
#[derive(Default)]
struct Possible(
    HashMap<String, HashSet<Option<String>>>,
    HashMap<String, HashSet<String>>,
);

impl Possible {
    fn wrote(&mut self, key: &str, value: String, certain: bool) {
        let interrupted = self.1.entry(key.to_string()).or_default();
        let set = self
            .0
            .entry(key.to_string())
            .or_insert_with(|| HashSet::from([None]));
        if certain {
            set.clear();
            set.extend(interrupted.iter().cloned().map(Some));
        } else {
            interrupted.insert(value.clone());
        }
        set.insert(Some(value));
    }

    fn check(&self, key: &str, got: Option<String>) {
        let default = HashSet::from([None]);
        let allowed = self.0.get(key).unwrap_or(&default);
        assert!(
            allowed.contains(&got),
            "{key} read {got:?}, but only {allowed:?} were ever written to it"
        );
    }
}

/// One task's workload: sets and gets of its own keys, each value naming its
/// key and round. `cancel_within` races every call against a random timer.
/// A call that times out with its reply overdue retires the socket, and the
/// calls still on it fail with `ConnectionRetired`: interrupted, like a timeout.
async fn workload(
    client: Arc<TestClient>,
    task: usize,
    cancel_within: Option<Duration>,
) -> (usize, usize) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(task as u64);
    let mut possible = Possible::default();
    let (mut completed, mut interrupted) = (0, 0);
    for round in 0..ROUNDS {
        let key = format!("t{task}k{}", rng.gen_range(0..KEYS_PER_TASK));
        let deadline = cancel_within.map(|limit| rng.gen_range(Duration::ZERO..limit));
        match rng.gen_range(0..3) {
            0 => {
                let value = format!("{key}={round}");
                let write = async { client.set(&key, value.as_str()).await };
                match race(write, deadline).await {
                    Some(Ok(stored)) => {
                        assert!(stored);
                        possible.wrote(&key, value, true);
                        completed += 1;
                    }
                    Some(Err(Error::Timeout(_) | Error::ConnectionRetired)) | None => {
                        possible.wrote(&key, value, false);
                        interrupted += 1;
                    }
                    Some(Err(other)) => panic!("set {key}: {other}"),
                }
            }
            1 => match race(client.get(&key), deadline).await {
                Some(Ok(value)) => {
                    possible.check(&key, value.and_then(|v| v.as_str().map(str::to_string)));
                    completed += 1;
                }
                Some(Err(Error::Timeout(_) | Error::ConnectionRetired)) | None => interrupted += 1,
                Some(Err(other)) => panic!("get {key}: {other}"),
            },
            _ => {
                let keys: Vec<String> =
                    (0..KEYS_PER_TASK).map(|k| format!("t{task}k{k}")).collect();
                match race(client.get_many(&keys), deadline).await {
                    Some(Ok(found)) => {
                        for key in &keys {
                            let value = found
                                .get(key.as_bytes())
                                .and_then(|v| v.as_str().map(str::to_string));
                            possible.check(key, value);
                        }
                        completed += 1;
                    }
                    Some(Err(Error::Timeout(_) | Error::ConnectionRetired)) | None => {
                        interrupted += 1
                    }
                    Some(Err(other)) => panic!("get_many: {other}"),
                }
            }
        }
    }
    (completed, interrupted)
}

/// Runs `call`, dropping it when `deadline` passes first. `None`: dropped.
async fn race<F: std::future::Future>(call: F, deadline: Option<Duration>) -> Option<F::Output> {
    let Some(deadline) = deadline else {
        return Some(call.await);
    };
    let call = std::pin::pin!(call);
    let timer = std::pin::pin!(rt::sleep(deadline));
    match select(call, timer).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(_) => None,
    }
}

fn run(client: Arc<TestClient>, cancel_within: Option<Duration>) -> (usize, usize) {
    rt::block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|task| rt::spawn(workload(client.clone(), task, cancel_within)))
            .collect();
        let mut totals = (0, 0);
        for task in tasks {
            let (completed, interrupted) = task.await;
            totals.0 += completed;
            totals.1 += interrupted;
        }
        totals
    })
}

#[test]
fn sixty_four_tasks_share_one_connection_and_each_gets_its_own_answers() {
    let (completed, interrupted) = run(client(|c| c), None);
    assert_eq!((completed, interrupted), (TASKS * ROUNDS, 0));
}

#[test]
fn calls_dropped_at_random_points_never_leak_replies_to_other_callers() {
    let client = client(|c| c);
    let (completed, interrupted) = run(client.clone(), Some(Duration::from_micros(800)));
    assert!(
        interrupted > 0,
        "no call was cancelled: the test proves nothing"
    );
    assert!(completed > 0, "no call completed: the test proves nothing");
    // The connection is still in step afterwards.
    rt::block_on(async {
        client.set("after", "ok").await.unwrap();
        assert_eq!(
            client.get("after").await.unwrap().unwrap().as_str(),
            Some("ok")
        );
    });
}

#[test]
fn calls_that_time_out_never_leak_replies_to_other_callers() {
    let client = client(|c| c.timeout(Duration::from_millis(1)));
    let (completed, interrupted) = run(client.clone(), None);
    assert!(completed > 0, "no call completed: the test proves nothing");
    eprintln!("{completed} calls completed, {interrupted} timed out");
    rt::block_on(async {
        // Retry until a call fits the 1 ms budget: the stream must be in step.
        for _ in 0..100 {
            if let Ok(stored) = client.set("after", "ok").await {
                assert!(stored);
                break;
            }
        }
        let mut answered = false;
        for _ in 0..1000 {
            match client.get("after").await {
                Ok(value) => {
                    assert_eq!(value.unwrap().as_str(), Some("ok"));
                    answered = true;
                    break;
                }
                Err(Error::Timeout(_) | Error::ConnectionRetired) => continue,
                Err(other) => panic!("{other}"),
            }
        }
        assert!(answered, "no get fitted in its timeout after the workload");
    });
}
