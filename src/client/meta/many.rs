//! Multi-key reads as one quiet meta batch: `mg <key> v f [c] q O<i>` per
//! key, then `mn`.
//!
//! The opaque number, not the key (`k`), tells which request a reply
//! answers: it is shorter, and the codec already checks it, so a value can
//! never be paired with the wrong key.

use bytes::Bytes;

use crate::client::Client;
use crate::proto::{Flag, Returned};
use crate::serde::Serde;
use crate::{
    Backend, Error, MetaCommand, MetaFlag, MetaRequest, MetaStatus, Request, Response, Result,
    Value,
};

impl<B: Backend, S: Serde> Client<B, S> {
    /// The hits among `keys` (wire keys, each with whether it needs `b`),
    /// in request order, as the classic reads return them.
    pub(crate) async fn meta_get_many(
        &self,
        keys: Vec<(Bytes, bool)>,
        cas: bool,
    ) -> Result<Vec<Value>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let requests: Vec<MetaRequest> = keys
            .into_iter()
            .map(|(key, binary)| {
                let flags = [
                    binary.then_some(Flag::Base64Key),
                    Some(Flag::ReturnValue),
                    Some(Flag::ReturnClientFlags),
                    cas.then_some(Flag::ReturnCas),
                ];
                MetaRequest {
                    command: MetaCommand::Get,
                    key,
                    flags: flags.into_iter().flatten().map(MetaFlag::from).collect(),
                    data: None,
                }
            })
            .collect();
        let keys: Vec<Bytes> = requests.iter().map(|r| r.key.clone()).collect();
        let replies = match self.backend.call(Request::MetaBatch(requests)).await? {
            Response::MetaBatch(replies) => replies,
            other => return Err(crate::client::unexpected(&other, "a meta batch")),
        };
        let mut values = Vec::with_capacity(replies.len());
        for (key, reply) in keys.into_iter().zip(replies) {
            let Some(reply) = reply else { continue };
            let mut reply = reply?;
            match reply.status {
                Some(MetaStatus::Miss) => continue,
                Some(MetaStatus::Value) => {}
                other => {
                    return Err(Error::Protocol(format!(
                        "unexpected reply {other:?} to mg v in a batch"
                    )))
                }
            }
            let returned = Returned::decode(&reply)?;
            values.push(Value {
                flags: returned.client_flags.unwrap_or(0),
                cas: if cas { returned.cas } else { None },
                data: reply.data.take().unwrap_or_default(),
                key,
            });
        }
        Ok(values)
    }
}
