//! `http.request`: a webhook call with a timeout (at most 30 s), a cap on the response read,
//! the step's idempotency key as the `Idempotency-Key` header, and never to a loopback,
//! link-local, private or otherwise non-public address unless the tenant's automation settings
//! list its network: the host is resolved here, every address checked, and the connection
//! pinned to a checked one, so a name that resolves differently a moment later cannot reach
//! inside the network. Plain `http` is allowed only to the tenant's listed networks.

use super::{Failure, Input, refused};
use psa_domain::automations::{durations, networks};
use psa_store::automations::settings;
use psa_store::{PgPool, Principal};
use serde_json::{Map, Value as Json, json};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Longest a request may take, and the default.
const MAX_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Most bytes of a response body read; more fails the action.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Clone, Default)]
pub struct Http;

impl Http {
    pub fn new() -> Self {
        Http
    }

    pub(super) async fn request(
        &self,
        pool: &PgPool,
        p: &Principal,
        key: &str,
        input: &Input<'_>,
    ) -> Result<Json, Failure> {
        let method = match input.required_string("method")? {
            "GET" => reqwest::Method::GET,
            "POST" => reqwest::Method::POST,
            "PUT" => reqwest::Method::PUT,
            "PATCH" => reqwest::Method::PATCH,
            "DELETE" => reqwest::Method::DELETE,
            _ => return Err(refused("method", "must be GET, POST, PUT, PATCH or DELETE")),
        };
        let url: reqwest::Url = input
            .required_string("url")?
            .parse()
            .map_err(|_| refused("url", "must be a URL"))?;
        let plain = match url.scheme() {
            "https" => false,
            "http" => true,
            _ => return Err(refused("url", "must be an https URL")),
        };
        let host = url
            .host_str()
            .ok_or_else(|| refused("url", "must name a host"))?
            .to_owned();
        let timeout = match input.string("timeout")? {
            None => DEFAULT_TIMEOUT,
            Some(t) => durations::parse(t)
                .ok()
                .and_then(|d| d.to_std().ok())
                .filter(|d| *d <= MAX_TIMEOUT && !d.is_zero())
                .ok_or_else(|| refused("timeout", "must be an ISO 8601 duration up to PT30S"))?,
        };
        let port = url.port_or_known_default().unwrap_or(443);
        let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| Failure::Retry(format!("{host} cannot be resolved: {e}")))?
            .collect();
        let Some(addr) = addrs.first().copied() else {
            return Err(Failure::Retry(format!("{host} resolves to no address")));
        };
        // The tenant's list is read only when it can matter.
        let allowed = match plain || addrs.iter().any(|a| !is_public(a.ip())) {
            true => settings::http_allowed_networks(pool, p).await?,
            false => Vec::new(),
        };
        if let Some(bad) = addrs
            .iter()
            .find(|a| !is_public(a.ip()) && !networks::allows(&allowed, a.ip()))
        {
            return Err(Failure::Refused(format!(
                "{host} resolves to {}, which is not a public address nor in a network the \
                 tenant's automation settings allow",
                bad.ip()
            )));
        }
        if plain && !addrs.iter().all(|a| networks::allows(&allowed, a.ip())) {
            return Err(refused(
                "url",
                "must be an https URL (plain http only to a network the tenant's automation \
                 settings allow)",
            ));
        }
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .resolve(&host, addr)
            .build()
            .map_err(|e| Failure::Retry(e.to_string()))?;
        let mut request = client
            .request(method, url)
            .header("Idempotency-Key", key)
            .header("User-Agent", "psa-automations");
        if let Some(headers) = input.value("headers") {
            let Json::Object(headers) = headers else {
                return Err(refused("headers", "must be an object of strings"));
            };
            for (name, value) in headers {
                let Json::String(value) = value else {
                    return Err(refused("headers", "must be an object of strings"));
                };
                request = request.header(name.as_str(), value.as_str());
            }
        }
        if let Some(body) = input.value("body") {
            request = request.json(body);
        }
        let mut response = request.send().await.map_err(|e| {
            if e.is_builder() {
                Failure::Refused(format!("the request cannot be made: {e}"))
            } else {
                Failure::Retry(format!("the request failed: {e}"))
            }
        })?;
        let status = response.status();
        let mut headers = Map::new();
        for (name, value) in response.headers() {
            if let Ok(v) = value.to_str() {
                headers.insert(name.as_str().to_owned(), Json::String(v.to_owned()));
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| Failure::Retry(format!("the response failed: {e}")))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Failure::Refused(format!(
                    "the response is larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice(&body)
            .unwrap_or_else(|_| Json::String(String::from_utf8_lossy(&body).into_owned()));
        // A server error may pass; a client error will not.
        if status.is_server_error() {
            return Err(Failure::Retry(format!("the server answered {status}")));
        }
        Ok(json!({ "status": status.as_u16(), "headers": headers, "body": body }))
    }
}

/// Whether a request may go to `ip`: not loopback, link-local, private, shared, multicast,
/// documentation or unspecified, in IPv4 or IPv6 (IPv4-mapped included).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_may_be_called() {
        for inside in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "224.0.0.1",
            "255.255.255.255",
        ] {
            assert!(
                !is_public(inside.parse().unwrap()),
                "{inside} is not public"
            );
        }
        for outside in ["1.1.1.1", "93.184.216.34", "2606:4700:4700::1111"] {
            assert!(is_public(outside.parse().unwrap()), "{outside} is public");
        }
    }
}
