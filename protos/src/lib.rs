//! The `psa.v1` protobuf contract, compiled to Rust.
//!
//! Types that cross a process boundary change carefully: add fields, never renumber them.

pub mod codec;

#[allow(clippy::all, missing_docs)]
pub mod v1 {
    tonic::include_proto!("psa.v1");

    /// The encoded descriptor set, for gRPC server reflection.
    pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("psa_descriptor");
}
