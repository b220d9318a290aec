//! The options of the Gossip and ServerFeatures services' calls.

options! {
    /// Options of [`read_gossip`](crate::AsyncKurrentDBClient::read_gossip).
    ReadGossipOptions {}
}

options! {
    /// Options of [`get_server_info`](crate::AsyncKurrentDBClient::get_server_info).
    GetServerInfoOptions {}
}
