//! The client's address behind reverse proxies.
//!
//! Rate limits are keyed on the client's address. Behind nginx every connection comes from the
//! proxy, so the client is in `X-Forwarded-For`; but anyone can send that header, so it is
//! believed only when the connection comes from a configured trusted proxy
//! (`trusted_proxies` in the config, `OG_TRUSTED_PROXIES`). [`resolve_client`] is one layer
//! that replaces the connection's address (`ConnectInfo`) by the client's before any handler
//! runs, so every handler that asks for the client address gets the right one.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;

/// A trusted proxy: one address (`10.0.0.2`) or a network (`172.16.0.0/12`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |a: IpAddr| -> (u128, u8) {
            match a {
                IpAddr::V4(v) => (u128::from(u32::from(v)) << 96, 32),
                IpAddr::V6(v) => (u128::from(v), 128),
            }
        };
        let ((net, width), (addr, w2)) = (bits(self.net), bits(ip.to_canonical()));
        if width != w2 {
            return false;
        }
        let mask = if self.prefix == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.prefix))
        };
        net & mask == addr & mask
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Cidr, String> {
        let bad = || format!("{s:?} is not an IP address or network (10.0.0.2, 172.16.0.0/12)");
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let net: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
        };
        // `contains` puts an IPv4 address in the top 32 of 128 bits, so prefixes count from the top.
        Ok(Cidr {
            net: net.to_canonical(),
            prefix,
        })
    }
}

impl<'de> serde::Deserialize<'de> for Cidr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

fn trusted_by(list: &[Cidr], ip: IpAddr) -> bool {
    list.iter().any(|c| c.contains(ip))
}

/// The client of a connection from `peer` carrying these `X-Forwarded-For` values: the
/// right-most address that is not a trusted proxy, walking leftwards only through trusted
/// proxies (addresses left of an untrusted hop are the client's own claims and are ignored).
pub fn client_address(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    if !trusted_by(trusted, peer) {
        return peer;
    }
    let hops = forwarded_for
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>() else {
            break; // garbage: stop at the last address we could trust
        };
        client = ip;
        if !trusted_by(trusted, ip) {
            break;
        }
    }
    client
}

/// The layer (see the module documentation), behind the configured `trusted` proxies (the web
/// layer passes the settings' list for every request).
pub async fn resolve_client(trusted: &[Cidr], mut req: Request, next: Next) -> Response {
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().copied();
    if let (false, Some(ConnectInfo(peer))) = (trusted.is_empty(), peer) {
        let xff: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let client = client_address(peer.ip(), &xff, trusted);
        req.extensions_mut().insert(ConnectInfo(SocketAddr::new(client, 0)));
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
        let trusted = ["10.0.0.2".parse().unwrap()];
        // Direct client: its own header is ignored.
        assert_eq!(
            client_address(ip("203.0.113.9"), &["1.2.3.4"], &trusted),
            ip("203.0.113.9")
        );
        // Through the proxy: the address the proxy appended.
        assert_eq!(client_address(ip("10.0.0.2"), &["1.2.3.4"], &trusted), ip("1.2.3.4"));
        // A client that sends its own header through the proxy cannot choose its address.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["6.6.6.6, 1.2.3.4"], &trusted),
            ip("1.2.3.4")
        );
        // Proxy chains are walked through trusted hops only.
        assert_eq!(
            client_address(ip("10.0.0.2"), &["1.2.3.4", "10.0.0.2"], &trusted),
            ip("1.2.3.4")
        );
        // No header or garbage: the proxy itself.
        assert_eq!(client_address(ip("10.0.0.2"), &[], &trusted), ip("10.0.0.2"));
        assert_eq!(client_address(ip("10.0.0.2"), &["nonsense"], &trusted), ip("10.0.0.2"));
    }

    #[test]
    fn trusted_proxies_can_be_networks() {
        let net: Cidr = "172.16.0.0/12".parse().unwrap();
        assert!(net.contains(ip("172.20.1.5")));
        assert!(!net.contains(ip("172.32.0.1")));
        assert!(!net.contains(ip("::1")));
        let one: Cidr = "::1".parse().unwrap();
        assert!(one.contains(ip("::1")) && !one.contains(ip("::2")));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nonsense".parse::<Cidr>().is_err());
    }
}
