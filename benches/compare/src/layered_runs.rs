//! memclient/smol with the observability layers (`Traced` over `Metered`)
//! around its connection: the layers' cost, against the plain
//! `memclient/smol` row of the same run.

use std::sync::Arc;

use memclient::observe::{Metered, Traced};
use memclient::serde::RawBytes;
use memclient::{Client, Config};

use crate::collectors;
use crate::exec::{Exec, SmolExec};
use crate::measure::{self, Plan};
use crate::memclient_runs::{concurrent, op};
use crate::workload::{Data, Workload};

/// The workloads the layered rows run: those where a per-call cost shows.
pub fn runs(workload: Workload) -> bool {
    matches!(
        workload,
        Workload::Get | Workload::Set | Workload::GetMany | Workload::Tasks64
    )
}

/// Measures memclient/smol with both layers on `workload`, with the
/// collectors on (`recording`) or off: units per second.
pub fn run(
    exec: &SmolExec,
    recording: bool,
    workload: Workload,
    plan: &Plan,
    data: &Arc<Data>,
    address: &str,
) -> Result<f64, String> {
    collectors::collect(recording);
    let (exec2, plan, data, address) = (*exec, *plan, data.clone(), address.to_string());
    let result = exec.run(async move {
        let connection = Config::new(address)
            .connect(memclient::smol::Smol)
            .await
            .map_err(|e| format!("connect: {e}"))?
            .backend()
            .clone();
        let node = "bench";
        let layered = Traced::new(Metered::new(connection).node(node)).node(node);
        let client = Client::new(layered).with_serde(RawBytes);
        match workload {
            Workload::Tasks64 => concurrent(&exec2, workload, &plan, data, client).await,
            _ => measure::sequential(&plan, |i| op(&client, workload, &data, 0, i)).await,
        }
    });
    collectors::collect(false);
    result
}
