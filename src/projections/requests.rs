//! The request messages of the projection-management calls, built from their
//! arguments and options. Names are checked here, before anything is sent.

use crate::error::{Error, Result};
use crate::options::{
    CreateProjectionOptions, DeleteProjectionOptions, GetProjectionResultOptions,
    GetProjectionStateOptions, UpdateProjectionOptions,
};
use crate::proto::projections as pp;
use crate::proto::shared::Empty;

/// Refuses an empty projection name.
fn check_name(name: &str) -> Result<String> {
    if name.is_empty() {
        return Err(Error::Programming("the projection name is empty".into()));
    }
    Ok(name.to_owned())
}

/// A continuous projection running `query` (engine v1, as the Python client's
/// default).
pub(crate) fn create(
    name: &str,
    query: &str,
    options: &CreateProjectionOptions,
) -> Result<pp::CreateReq> {
    use pp::create_req::{Options, options};
    if options.track_emitted_streams && !options.emit_enabled {
        // The server refuses it too (an exception, so an unknown error).
        return Err(Error::Programming(
            "track_emitted_streams needs emit_enabled".into(),
        ));
    }
    Ok(pp::CreateReq {
        options: Some(Options {
            mode: Some(options::Mode::Continuous(options::Continuous {
                name: check_name(name)?,
                emit_enabled: options.emit_enabled,
                track_emitted_streams: options.track_emitted_streams,
            })),
            query: query.to_owned(),
            engine_version: 0,
            metadata: Default::default(),
        }),
    })
}

pub(crate) fn update(
    name: &str,
    query: &str,
    options: &UpdateProjectionOptions,
) -> Result<pp::UpdateReq> {
    use pp::update_req::{Options, options::EmitOption};
    let emit_option = match options.emit_enabled {
        Some(enabled) => EmitOption::EmitEnabled(enabled),
        None => EmitOption::NoEmitOptions(Empty {}),
    };
    Ok(pp::UpdateReq {
        options: Some(Options {
            name: check_name(name)?,
            query: query.to_owned(),
            emit_option: Some(emit_option),
            metadata: Default::default(),
        }),
    })
}

pub(crate) fn delete(name: &str, options: &DeleteProjectionOptions) -> Result<pp::DeleteReq> {
    Ok(pp::DeleteReq {
        options: Some(pp::delete_req::Options {
            name: check_name(name)?,
            delete_emitted_streams: options.delete_emitted_streams,
            delete_state_stream: options.delete_state_stream,
            delete_checkpoint_stream: options.delete_checkpoint_stream,
        }),
    })
}

/// Which projections a statistics request asks about.
pub(crate) enum Which<'a> {
    One(&'a str),
    Continuous,
    All,
}

pub(crate) fn statistics(which: Which<'_>) -> Result<pp::StatisticsReq> {
    use pp::statistics_req::{Options, options::Mode};
    let mode = match which {
        Which::One(name) => Mode::Name(check_name(name)?),
        Which::Continuous => Mode::Continuous(Empty {}),
        Which::All => Mode::All(Empty {}),
    };
    Ok(pp::StatisticsReq {
        options: Some(Options { mode: Some(mode) }),
    })
}

pub(crate) fn enable(name: &str) -> Result<pp::EnableReq> {
    Ok(pp::EnableReq {
        options: Some(pp::enable_req::Options {
            name: check_name(name)?,
        }),
    })
}

/// Disable (`write_checkpoint`) or abort (without).
pub(crate) fn disable(name: &str, write_checkpoint: bool) -> Result<pp::DisableReq> {
    Ok(pp::DisableReq {
        options: Some(pp::disable_req::Options {
            name: check_name(name)?,
            write_checkpoint,
        }),
    })
}

pub(crate) fn reset(name: &str) -> Result<pp::ResetReq> {
    Ok(pp::ResetReq {
        options: Some(pp::reset_req::Options {
            name: check_name(name)?,
            write_checkpoint: true,
        }),
    })
}

pub(crate) fn state(name: &str, options: &GetProjectionStateOptions) -> Result<pp::StateReq> {
    Ok(pp::StateReq {
        options: Some(pp::state_req::Options {
            name: check_name(name)?,
            partition: options.partition.clone().unwrap_or_default(),
        }),
    })
}

pub(crate) fn result(name: &str, options: &GetProjectionResultOptions) -> Result<pp::ResultReq> {
    Ok(pp::ResultReq {
        options: Some(pp::result_req::Options {
            name: check_name(name)?,
            partition: options.partition.clone().unwrap_or_default(),
        }),
    })
}
