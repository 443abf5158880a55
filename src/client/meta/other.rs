//! `meta_noop` and `meta_debug`.

use std::collections::HashMap;

use bytes::Bytes;

use crate::client::Client;
use crate::proto::Flag;
use crate::serde::Serde;
use crate::{Backend, Error, MetaCommand, MetaFlag, MetaRequest, MetaStatus, Result};

impl<B: Backend, S: Serde> Client<B, S> {
    /// `mn`: a round trip that does nothing; `MN` proves every earlier
    /// request on the connection was processed.
    pub async fn meta_noop(&self) -> Result<()> {
        let request = MetaRequest {
            command: MetaCommand::Noop,
            key: Bytes::new(),
            flags: Vec::new(),
            data: None,
        };
        match self.call_meta(request).await?.status {
            Some(MetaStatus::Noop) => Ok(()),
            other => Err(Error::Protocol(format!("unexpected reply {other:?} to mn"))),
        }
    }

    /// `me`: the item's internal metadata as memcached prints it (`exp`,
    /// `la`, `cas`, `fetch`, `cls`, `size`, ...), or `None` on a miss. A
    /// binary key holding `\r` or `\n` is refused before any I/O: memcached
    /// 1.6.18 echoes binary keys raw in its reply.
    pub async fn meta_debug(
        &self,
        key: impl AsRef<[u8]>,
    ) -> Result<Option<HashMap<String, String>>> {
        let (wire, binary) = self.meta_key(key.as_ref())?;
        if binary && wire.iter().any(|&b| b == b'\r' || b == b'\n') {
            // memcached 1.6.18 prints a binary key raw in `ME`: a line end in
            // it would split the reply line and break the stream.
            return Err(Error::IllegalInput(
                "meta_debug cannot ask about a key with \\r or \\n: memcached echoes it raw".into(),
            ));
        }
        let request = MetaRequest {
            command: MetaCommand::Debug,
            key: wire,
            flags: binary
                .then_some(Flag::Base64Key)
                .into_iter()
                .map(MetaFlag::from)
                .collect(),
            data: None,
        };
        let reply = self.call_meta(request).await?;
        match reply.status {
            Some(MetaStatus::Miss) => Ok(None),
            Some(MetaStatus::Debug) => Ok(Some(
                reply
                    .debug
                    .iter()
                    .map(|(k, v)| {
                        (
                            String::from_utf8_lossy(k).into_owned(),
                            String::from_utf8_lossy(v).into_owned(),
                        )
                    })
                    .collect(),
            )),
            other => Err(Error::Protocol(format!("unexpected reply {other:?} to me"))),
        }
    }
}
