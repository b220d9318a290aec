//! Compiles the KurrentDB wire protocol under `proto/` into Rust.
//!
//! Parsing is done by `protox` (pure Rust, no `protoc` needed); code generation
//! by `tonic-prost-build`. Client stubs are always generated; server stubs only
//! when the `server` cargo feature is enabled.

use std::error::Error;
use std::fs;
use std::path::{Path, PathBuf};

const PROTO_ROOT: &str = "proto";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=CARGO_FEATURE_SERVER");

    let mut files = Vec::new();
    collect_protos(Path::new(PROTO_ROOT), &mut files)?;
    files.sort();
    for file in &files {
        // Directories only report changes to their direct entries, so watch each file too.
        println!("cargo:rerun-if-changed={}", file.display());
    }

    let mut compiler = protox::Compiler::new([PROTO_ROOT])?;
    compiler.include_source_info(true).include_imports(true);
    compiler.open_files(&files)?;
    // Imports (the google.protobuf well-known types) stay in the set: prost-build
    // needs their descriptors, but maps them to `prost_types` instead of generating them.
    let fds = compiler.file_descriptor_set();

    let build_server = std::env::var_os("CARGO_FEATURE_SERVER").is_some();

    // Implement `prost::Name` for every message, so error details can be packed
    // into and unpacked from `google.protobuf.Any` by their type URL.
    let mut config = tonic_prost_build::Config::new();
    config
        .enable_type_names()
        .type_name_domain(["."], "type.googleapis.com");

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(build_server)
        .build_transport(true)
        // Every `bytes` field becomes `bytes::Bytes`, so payloads are never copied.
        .bytes(".")
        .compile_fds_with_config(fds, config)?;

    Ok(())
}

/// Recursively gathers every `.proto` file under `dir`.
fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Box<dyn Error>> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
