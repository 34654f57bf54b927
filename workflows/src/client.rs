//! Connecting to Temporal, shared by the edge (relay, readiness) and the worker.

use crate::search_attributes::{self, Kind};
use std::collections::HashMap;
use std::time::Duration;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, Url};
use temporalio_common::protos::temporal::api::enums::v1::IndexedValueType;
use temporalio_common::protos::temporal::api::operatorservice::v1::{
    AddSearchAttributesRequest, ListSearchAttributesRequest,
};

#[derive(Debug, thiserror::Error)]
pub enum TemporalSetupError {
    #[error("invalid Temporal address `{address}`: {reason}")]
    Address { address: String, reason: String },
    #[error("cannot connect to Temporal at {address}: {reason}")]
    Connect { address: String, reason: String },
    #[error("cannot register search attributes: {0}")]
    SearchAttributes(#[from] tonic::Status),
}

/// Connects to the Temporal frontend at `address` (`host:port`, or a URL) bound to `namespace`.
pub async fn connect(
    address: &str,
    namespace: &str,
    identity: &str,
) -> Result<Client, TemporalSetupError> {
    let url_text = if address.contains("://") {
        address.to_owned()
    } else {
        format!("http://{address}")
    };
    let url = Url::parse(&url_text).map_err(|e| TemporalSetupError::Address {
        address: address.to_owned(),
        reason: e.to_string(),
    })?;
    let options = ConnectionOptions::new(url)
        .identity(identity.to_owned())
        .connect_timeout(Duration::from_secs(5))
        .build();
    let connection =
        Connection::connect(options)
            .await
            .map_err(|e| TemporalSetupError::Connect {
                address: address.to_owned(),
                reason: e.to_string(),
            })?;
    Client::new(connection, ClientOptions::new(namespace).build()).map_err(|e| {
        TemporalSetupError::Connect {
            address: address.to_owned(),
            reason: e.to_string(),
        }
    })
}

/// Registers the project's custom search attributes in `namespace`, leaving existing ones be.
pub async fn ensure_search_attributes(
    client: &Client,
    namespace: &str,
) -> Result<(), TemporalSetupError> {
    let mut operator = client.connection().operator_service();
    let existing = match operator
        .list_search_attributes(tonic::Request::new(ListSearchAttributesRequest {
            namespace: namespace.to_owned(),
        }))
        .await
    {
        Ok(listed) => listed.into_inner().custom_attributes,
        // The time-skipping test server registers attributes but cannot list them: ask for
        // all of them; if they are there already, the server says so (handled below).
        Err(s) if s.code() == tonic::Code::Unimplemented => HashMap::new(),
        Err(s) => return Err(s.into()),
    };
    let missing: HashMap<String, i32> = search_attributes::ALL
        .iter()
        .filter(|(name, _)| !existing.contains_key(*name))
        .map(|(name, kind)| {
            let t = match kind {
                Kind::Keyword => IndexedValueType::Keyword,
                Kind::Int => IndexedValueType::Int,
            };
            ((*name).to_owned(), t as i32)
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    match operator
        .add_search_attributes(tonic::Request::new(AddSearchAttributesRequest {
            search_attributes: missing,
            namespace: namespace.to_owned(),
        }))
        .await
    {
        Ok(_) => Ok(()),
        // Another process registered them between our list and add.
        Err(s) if s.code() == tonic::Code::AlreadyExists => Ok(()),
        Err(s) => Err(s.into()),
    }
}
