//! Clients and their contacts over HTTP; the operations are `psa_store::clients`.

pub mod http;
