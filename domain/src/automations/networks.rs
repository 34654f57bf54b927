//! The networks a tenant lets its automations' `http.request` reach although they are not
//! public (an internal ticketing bridge, a monitoring host). Without them a webhook reaches
//! public addresses only, so an automation cannot be pointed at the MSP's own network or at a
//! cloud metadata service by whoever may publish one.

pub use ipnet::IpNet;
use std::net::IpAddr;

/// Most networks a tenant may list.
pub const MAX_NETWORKS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetworkError {
    #[error("{0:?} is not an address or a CIDR block such as 10.20.0.0/16 or fd00::/8")]
    NotCidr(String),
    #[error("{0:?} would allow every address; name the networks to allow")]
    Everything(String),
    #[error("at most {MAX_NETWORKS} networks may be listed")]
    TooMany,
}

/// Parses a tenant's list: CIDR blocks, or single addresses (taken as /32 or /128). Each block
/// is reduced to its network (`10.1.2.3/8` is `10.0.0.0/8`) so what is shown is what is
/// matched; duplicates are dropped, order kept.
pub fn parse(list: &[String]) -> Result<Vec<IpNet>, NetworkError> {
    if list.len() > MAX_NETWORKS {
        return Err(NetworkError::TooMany);
    }
    // An error quotes the item it is about, cut short: a megabyte of nonsense is not echoed.
    let quoted = |item: &str| item.chars().take(64).collect::<String>();
    let mut out: Vec<IpNet> = Vec::with_capacity(list.len());
    for item in list {
        let text = item.trim();
        let net = match text.parse::<IpNet>() {
            Ok(net) => net.trunc(),
            Err(_) => match text.parse::<IpAddr>() {
                Ok(ip) => IpNet::from(ip),
                Err(_) => return Err(NetworkError::NotCidr(quoted(item))),
            },
        };
        if net.prefix_len() == 0 {
            return Err(NetworkError::Everything(quoted(item)));
        }
        if !out.contains(&net) {
            out.push(net);
        }
    }
    Ok(out)
}

/// Whether `ip` lies in one of `allowed`. An IPv4-mapped IPv6 address is compared as the IPv4
/// address it carries, so `::ffff:10.0.0.1` is as allowed as `10.0.0.1`.
pub fn allows(allowed: &[IpNet], ip: IpAddr) -> bool {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    allowed.iter().any(|net| net.contains(&ip))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn list(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn blocks_and_single_addresses_are_read_and_reduced() {
        let nets = parse(&list(&[
            "10.1.2.3/8",
            " 192.168.5.7 ",
            "fd00::/8",
            "10.0.0.0/8",
        ]))
        .expect("valid");
        let shown: Vec<String> = nets.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.5.7/32", "fd00::/8"]);
    }

    #[test]
    fn nonsense_everything_and_too_many_are_refused() {
        for bad in ["", "10.0.0.0/33", "intranet", "10.0.0.0/8\0", "::/129"] {
            assert_eq!(
                parse(&list(&[bad])),
                Err(NetworkError::NotCidr(bad.into())),
                "{bad:?}"
            );
        }
        for all in ["0.0.0.0/0", "::/0"] {
            assert_eq!(
                parse(&list(&[all])),
                Err(NetworkError::Everything(all.into()))
            );
        }
        let long = "x".repeat(100_000);
        assert_eq!(
            parse(std::slice::from_ref(&long)),
            Err(NetworkError::NotCidr(long[..64].into()))
        );
        let many: Vec<String> = (0..=MAX_NETWORKS)
            .map(|i| format!("10.0.{i}.0/24"))
            .collect();
        assert_eq!(parse(&many), Err(NetworkError::TooMany));
    }

    #[test]
    fn membership_sees_through_ipv4_mapped_addresses() {
        let nets = parse(&list(&["10.20.0.0/16", "fd00::/8"])).expect("valid");
        for inside in ["10.20.3.4", "::ffff:10.20.3.4", "fd12::1"] {
            assert!(allows(&nets, inside.parse().expect("ip")), "{inside}");
        }
        for outside in ["10.21.0.1", "127.0.0.1", "169.254.169.254", "fe80::1"] {
            assert!(!allows(&nets, outside.parse().expect("ip")), "{outside}");
        }
        assert!(!allows(&[], "10.20.3.4".parse().expect("ip")));
    }

    proptest! {
        /// A block allows exactly the addresses that share its prefix.
        #[test]
        fn a_v4_block_allows_what_shares_its_prefix(net in any::<u32>(), len in 1u8..=32, ip in any::<u32>()) {
            let block = format!("{}/{len}", std::net::Ipv4Addr::from(net));
            let nets = parse(&[block]).expect("valid");
            let mask = u32::MAX << (32 - u32::from(len));
            let same = (net & mask) == (ip & mask);
            prop_assert_eq!(allows(&nets, IpAddr::V4(ip.into())), same);
        }
    }
}
