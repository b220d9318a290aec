//! The options of the Projections service's calls.

options! {
    /// Options of [`create_projection`](crate::AsyncKurrentDBClient::create_projection):
    /// a continuous projection, enabled and running once created.
    CreateProjectionOptions {
        /// Allow the projection to write events (`emit`, `linkTo`,
        /// `linkStreamTo`); without it, a projection that emits faults.
        plain emit_enabled: bool,
        /// Record every stream the projection writes to (in
        /// `$projections-<name>-emittedstreams`), so that deleting the
        /// projection with `delete_emitted_streams` can delete them. Needs
        /// `emit_enabled`.
        plain track_emitted_streams: bool,
    }
}

options! {
    /// Options of [`update_projection`](crate::AsyncKurrentDBClient::update_projection).
    UpdateProjectionOptions {
        /// Change whether the projection may emit events; `None` keeps the
        /// current setting.
        opt emit_enabled: bool,
    }
}

options! {
    /// Options of [`delete_projection`](crate::AsyncKurrentDBClient::delete_projection).
    /// The projection must be stopped (disabled, aborted or faulted) first.
    DeleteProjectionOptions {
        /// Also delete the streams the projection emitted to (when it tracked
        /// them, see [`CreateProjectionOptions::track_emitted_streams`]).
        plain delete_emitted_streams: bool,
        /// Also delete the projection's state stream (ignored by the v1 engine,
        /// which keeps its state in the checkpoint streams).
        plain delete_state_stream: bool,
        /// Also delete the projection's checkpoint stream.
        plain delete_checkpoint_stream: bool,
    }
}

options! {
    /// Options of [`get_projection_statistics`](crate::AsyncKurrentDBClient::get_projection_statistics).
    GetProjectionStatisticsOptions {}
}

options! {
    /// Options of [`list_continuous_projection_statistics`](crate::AsyncKurrentDBClient::list_continuous_projection_statistics)
    /// and [`list_all_projection_statistics`](crate::AsyncKurrentDBClient::list_all_projection_statistics).
    ListProjectionStatisticsOptions {}
}

options! {
    /// Options of [`enable_projection`](crate::AsyncKurrentDBClient::enable_projection).
    EnableProjectionOptions {}
}

options! {
    /// Options of [`disable_projection`](crate::AsyncKurrentDBClient::disable_projection).
    DisableProjectionOptions {}
}

options! {
    /// Options of [`abort_projection`](crate::AsyncKurrentDBClient::abort_projection).
    AbortProjectionOptions {}
}

options! {
    /// Options of [`reset_projection`](crate::AsyncKurrentDBClient::reset_projection).
    ResetProjectionOptions {}
}

options! {
    /// Options of [`get_projection_state`](crate::AsyncKurrentDBClient::get_projection_state).
    GetProjectionStateOptions {
        /// The partition whose state to get (partitioned projections:
        /// `partitionBy`, `foreachStream`); by default the projection's own
        /// (root) state.
        opt partition: String,
    }
}

options! {
    /// Options of [`get_projection_result`](crate::AsyncKurrentDBClient::get_projection_result).
    GetProjectionResultOptions {
        /// The partition whose result to get; by default the root partition's.
        opt partition: String,
    }
}

options! {
    /// Options of [`restart_projections_subsystem`](crate::AsyncKurrentDBClient::restart_projections_subsystem).
    RestartProjectionsSubsystemOptions {}
}
