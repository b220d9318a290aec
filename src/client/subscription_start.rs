//! Where a resumable catch-up subscription `from_end` starts.
//!
//! A subscription from the end that resumes after the last event it
//! delivered cannot do so before it has delivered one: subscribing `from_end`
//! again would skip what was appended while it was disconnected. So a
//! resumable (`retry`) subscription from the end reads the end first (the
//! stream's last revision, or `$all`'s last commit position, system events
//! included) and subscribes after it: "from the end" is the end when the
//! subscription was asked for, and every event after it is delivered, once,
//! however often the subscription is lost before the first one comes. An
//! event appended between that read and the server's confirmation is
//! delivered (a plain `from_end` subscription may or may not see it).

use futures::StreamExt;

use super::AsyncKurrentDBClient;
use crate::error::{Error, Result};
use crate::options::{
    GetCommitPositionOptions, ReadStreamOptions, SubscribeToAllOptions, SubscribeToStreamOptions,
};

impl AsyncKurrentDBClient {
    /// `options` with `from_end` replaced by the current end of `$all`, when
    /// the subscription is resumable.
    pub(super) async fn pin_end_of_all(
        &self,
        options: &SubscribeToAllOptions,
    ) -> Result<SubscribeToAllOptions> {
        let mut options = options.clone();
        if options.retry.is_some() && options.from_end {
            let everything =
                GetCommitPositionOptions::default().filter_exclude(Vec::<String>::new());
            let end = self.get_commit_position(&everything).await?;
            options.from_end = false;
            // 0: an empty log, so from its start.
            options.commit_position = (end > 0).then_some(end);
        }
        Ok(options)
    }

    /// `options` with `from_end` replaced by the current end of
    /// `stream_name`, when the subscription is resumable.
    pub(super) async fn pin_end_of_stream(
        &self,
        stream_name: &str,
        options: &SubscribeToStreamOptions,
    ) -> Result<SubscribeToStreamOptions> {
        let mut options = options.clone();
        if options.retry.is_some() && options.from_end {
            let last = ReadStreamOptions::default().backwards(true).limit(1);
            let end = match self.read_stream(stream_name, &last).await {
                Ok(mut events) => match events.next().await {
                    Some(Ok(event)) => Some(event.stream_position),
                    Some(Err(Error::NotFound { .. })) | None => None,
                    Some(Err(e)) => return Err(e),
                },
                Err(Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            options.from_end = false;
            // No stream yet: from its start.
            options.stream_position = end;
        }
        Ok(options)
    }
}
