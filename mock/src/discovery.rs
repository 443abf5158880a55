//! ElastiCache auto discovery on the mock: `config get cluster` answered
//! with a node list the test sets, as a configuration endpoint does.
//!
//! memcached itself does not know the command (it answers `ERROR`), and
//! neither does the mock until a list is set.

use std::sync::Mutex;

use bytes::BytesMut;
use memclient::proto::config::{encode_cluster_config, ClusterConfig, ConfigNode};

/// The configuration the mock reports, if any.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    config: Mutex<Option<ClusterConfig>>,
}

impl Discovery {
    /// Sets the node list; the version goes up by one.
    pub fn set_nodes(&self, nodes: Vec<ConfigNode>) -> u64 {
        let mut config = self.lock();
        let version = config.as_ref().map_or(1, |c| c.version + 1);
        *config = Some(ClusterConfig { version, nodes });
        version
    }

    /// Sets the whole configuration, version included (a test of an old
    /// version coming back).
    pub fn set(&self, config: Option<ClusterConfig>) {
        *self.lock() = config;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<ClusterConfig>> {
        self.config.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answers a `config get cluster` line at the front of `input`: consumes
    /// it and writes the reply to `out`. False (nothing consumed) for any
    /// other input, or while no configuration is set.
    pub fn answer(&self, input: &mut BytesMut, out: &mut BytesMut) -> bool {
        if !input.starts_with(b"config ") {
            return false;
        }
        let Some(end) = input.iter().position(|&b| b == b'\n') else {
            return false;
        };
        let line = input[..end].strip_suffix(b"\r").unwrap_or(&input[..end]);
        if line != b"config get cluster" {
            return false;
        }
        let config = self.lock();
        let Some(config) = config.as_ref() else {
            return false;
        };
        encode_cluster_config(config, out);
        let _ = input.split_to(end + 1);
        true
    }
}
