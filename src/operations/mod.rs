//! The Operations service: the requests of its calls and the typed
//! [`ScavengeResult`] its scavenge calls answer with. The methods are on
//! [`AsyncKurrentDBClient`](crate::AsyncKurrentDBClient) (`start_scavenge`,
//! `stop_scavenge`, `shutdown_node`, `merge_indexes`, `resign_node`,
//! `set_node_priority`; restarting the persistent-subscription subsystem is
//! `restart_persistent_subscription_subsystem`, on the persistent service).
//!
//! Operations act on the node the client is connected to (the node
//! preference picks it; `leader` by default). Stopping a scavenge that is not
//! running gives [`Error::NotFound`].

use crate::error::{Error, Result};
use crate::options::StartScavengeOptions;
use crate::proto::operations as po;
use crate::proto::operations::scavenge_resp::ScavengeResult as ProtoResult;

/// What a scavenge call answers: the scavenge's id and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ScavengeResult {
    /// The scavenge's id (a GUID), to stop it with.
    pub id: String,
    /// Its state.
    pub status: ScavengeStatus,
}

/// The state of a scavenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScavengeStatus {
    /// It started (on a start).
    Started,
    /// One was already running (on a start: the id is the running one's).
    InProgress,
    /// It stopped (on a stop).
    Stopped,
}

impl ScavengeResult {
    pub(crate) fn from_response(response: po::ScavengeResp) -> Result<ScavengeResult> {
        let status = match ProtoResult::try_from(response.scavenge_result) {
            Ok(ProtoResult::Started) => ScavengeStatus::Started,
            Ok(ProtoResult::InProgress) => ScavengeStatus::InProgress,
            Ok(ProtoResult::Stopped) => ScavengeStatus::Stopped,
            Err(_) => {
                return Err(Error::Protocol(format!(
                    "unknown scavenge result {}",
                    response.scavenge_result
                )));
            }
        };
        Ok(ScavengeResult {
            id: response.scavenge_id,
            status,
        })
    }
}

/// The request of `start_scavenge`; counts above `i32::MAX` are refused.
pub(crate) fn start_scavenge(options: &StartScavengeOptions) -> Result<po::StartScavengeReq> {
    let int = |what: &str, value: u32| {
        i32::try_from(value)
            .map_err(|_| Error::Programming(format!("{what} {value} is above {}", i32::MAX)))
    };
    Ok(po::StartScavengeReq {
        options: Some(po::start_scavenge_req::Options {
            thread_count: int("thread count", options.thread_count.unwrap_or(1))?,
            start_from_chunk: int("start chunk", options.start_from_chunk)?,
        }),
    })
}

/// The request of `stop_scavenge`; an empty id is refused.
pub(crate) fn stop_scavenge(scavenge_id: &str) -> Result<po::StopScavengeReq> {
    if scavenge_id.is_empty() {
        return Err(Error::Programming(
            "the scavenge id is empty (give an id, or \"current\")".into(),
        ));
    }
    Ok(po::StopScavengeReq {
        options: Some(po::stop_scavenge_req::Options {
            scavenge_id: scavenge_id.to_owned(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_check_their_input() {
        let req = start_scavenge(&StartScavengeOptions::default()).unwrap();
        assert_eq!(req.options.unwrap().thread_count, 1);
        let big = StartScavengeOptions::default().thread_count(u32::MAX);
        assert!(matches!(start_scavenge(&big), Err(Error::Programming(_))));
        assert!(matches!(stop_scavenge(""), Err(Error::Programming(_))));
        let unknown = po::ScavengeResp {
            scavenge_id: "x".into(),
            scavenge_result: 9,
        };
        assert!(matches!(
            ScavengeResult::from_response(unknown),
            Err(Error::Protocol(_))
        ));
    }
}
