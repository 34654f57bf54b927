//! Reference data (boards, priorities, statuses, users) over HTTP; the operations are
//! `psa_store::reference`.

pub mod http;
