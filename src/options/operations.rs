//! The options of the Operations service's calls (scavenges and node
//! administration).

options! {
    /// Options of [`start_scavenge`](crate::AsyncKurrentDBClient::start_scavenge).
    StartScavengeOptions {
        /// The threads the server scavenges with (`None`: 1, KurrentDB's
        /// default).
        opt thread_count: u32,
        /// The chunk to start from (KurrentDB's deprecated `startFromChunk`;
        /// default 0).
        plain start_from_chunk: u32,
    }
}

options! {
    /// Options of [`stop_scavenge`](crate::AsyncKurrentDBClient::stop_scavenge).
    StopScavengeOptions {}
}

options! {
    /// Options of [`shutdown_node`](crate::AsyncKurrentDBClient::shutdown_node).
    ShutdownNodeOptions {}
}

options! {
    /// Options of [`merge_indexes`](crate::AsyncKurrentDBClient::merge_indexes).
    MergeIndexesOptions {}
}

options! {
    /// Options of [`resign_node`](crate::AsyncKurrentDBClient::resign_node).
    ResignNodeOptions {}
}

options! {
    /// Options of [`set_node_priority`](crate::AsyncKurrentDBClient::set_node_priority).
    SetNodePriorityOptions {}
}
