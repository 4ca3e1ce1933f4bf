//! CIDR functions: `parseCidr`, `cidrSubnet`, `cidrHost`, for IPv4 and IPv6.
//!
//! Results follow Microsoft's documentation (template-functions-cidr): `parseCidr` returns
//! `network`, `netmask`, `broadcast` (IPv4 only), `firstUsable`, `lastUsable` and `cidr`; for
//! IPv6 every address is usable, so `firstUsable` is the network address. IPv4 `/31` and `/32`
//! have no usable hosts in the classic sense: both usable fields are the network address.
//! `cidrHost(net, 0)` is the address right after the network address, for both families.
//! IPv6 addresses print as .NET prints them (RFC 5952 compression, embedded IPv4 forms).

use std::net::{Ipv4Addr, Ipv6Addr};

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::{Object, Value};

/// The CIDR functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("parseCidr", parse_cidr, 1, Some(1)),
    FnDef::new("cidrSubnet", cidr_subnet, 3, Some(3)),
    FnDef::new("cidrHost", cidr_host, 2, Some(2)),
];

/// An address range: family width in bits (32 or 128), network address (host bits cleared,
/// in the low `width` bits) and prefix length.
#[derive(Clone, Copy, Debug)]
struct Network {
    width: u32,
    network: u128,
    prefix: u32,
}

impl Network {
    fn is_v4(self) -> bool {
        self.width == 32
    }

    fn all_ones(self) -> u128 {
        if self.width == 128 {
            u128::MAX
        } else {
            (1u128 << self.width) - 1
        }
    }

    /// The mask for a prefix of `prefix` bits.
    fn mask_for(self, prefix: u32) -> u128 {
        // checked_shl: a shift by the full 128 bits (prefix 0 on IPv6) must give 0, not panic.
        (u128::MAX.checked_shl(self.width - prefix).unwrap_or(0)) & self.all_ones()
    }

    fn netmask(self) -> u128 {
        self.mask_for(self.prefix)
    }

    fn broadcast(self) -> u128 {
        self.network | (!self.netmask() & self.all_ones())
    }

    fn format(self, addr: u128) -> String {
        if self.is_v4() {
            Ipv4Addr::from(u32::try_from(addr).unwrap_or(u32::MAX)).to_string()
        } else {
            format_ipv6(addr)
        }
    }
}

fn invalid(name: &str, text: &str, why: &str) -> FnError {
    FnError::at(
        0,
        format!(
            "Unable to evaluate template language function '{name}': '{text}' is not a valid IP address range in CIDR notation ({why})."
        ),
    )
}

/// Parses `address/prefix`; the host bits of the address are cleared.
fn parse_network(name: &str, text: &str) -> Result<Network, FnError> {
    let Some((addr, prefix)) = text.split_once('/') else {
        return Err(invalid(
            name,
            text,
            "expected an address, '/' and a prefix length",
        ));
    };
    let (width, value) = if addr.contains(':') {
        let a: Ipv6Addr = addr
            .parse()
            .map_err(|_| invalid(name, text, "bad IPv6 address"))?;
        (128, u128::from(a))
    } else {
        let a: Ipv4Addr = addr
            .parse()
            .map_err(|_| invalid(name, text, "bad IPv4 address"))?;
        (32, u128::from(u32::from(a)))
    };
    let prefix =
        if !prefix.is_empty() && prefix.len() <= 3 && prefix.bytes().all(|b| b.is_ascii_digit()) {
            prefix.parse::<u32>().ok()
        } else {
            None
        }
        .filter(|p| *p <= width)
        .ok_or_else(|| {
            invalid(
                name,
                text,
                &format!("the prefix length must be 0 to {width}"),
            )
        })?;
    let mut net = Network {
        width,
        network: value,
        prefix,
    };
    net.network = value & net.netmask();
    Ok(net)
}

fn parse_cidr(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let net = parse_network(name, Args::new(name, args).str(0)?)?;
    let broadcast = net.broadcast();
    let (first, last) = if !net.is_v4() {
        (net.network, broadcast)
    } else if net.prefix >= 31 {
        (net.network, net.network)
    } else {
        (net.network + 1, broadcast - 1)
    };
    let mut o = Object::new();
    o.insert("network".into(), Value::String(net.format(net.network)));
    o.insert("netmask".into(), Value::String(net.format(net.netmask())));
    if net.is_v4() {
        o.insert("broadcast".into(), Value::String(net.format(broadcast)));
    }
    o.insert("firstUsable".into(), Value::String(net.format(first)));
    o.insert("lastUsable".into(), Value::String(net.format(last)));
    o.insert("cidr".into(), Value::Int(i64::from(net.prefix)));
    Ok(Value::Object(o))
}

fn cidr_subnet(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let net = parse_network(name, a.str(0)?)?;
    let new_prefix = a.int(1)?;
    let index = a.int(2)?;
    let new_prefix = u32::try_from(new_prefix)
        .ok()
        .filter(|p| (net.prefix..=net.width).contains(p))
        .ok_or_else(|| {
            FnError::at(
                1,
                format!(
                    "Unable to evaluate template language function '{name}': the new CIDR {new_prefix} must be between the network's prefix length {} and {}.",
                    net.prefix, net.width
                ),
            )
        })?;
    let extra_bits = new_prefix - net.prefix;
    let index_ok = u128::try_from(index)
        .ok()
        .filter(|i| extra_bits >= 128 || *i < (1u128 << extra_bits));
    let Some(index) = index_ok else {
        return Err(FnError::at(
            2,
            format!(
                "Unable to evaluate template language function '{name}': the subnet index {index} is out of range: a /{} splits into 2^{extra_bits} subnets of /{new_prefix}, numbered from 0.",
                net.prefix
            ),
        ));
    };
    // index < 2^extra_bits, so the shifted index stays inside the host bits.
    let offset = index.checked_shl(net.width - new_prefix).unwrap_or(0);
    Ok(Value::String(format!(
        "{}/{new_prefix}",
        net.format(net.network | offset)
    )))
}

fn cidr_host(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let net = parse_network(name, a.str(0)?)?;
    let index = a.int(1)?;
    // IPv4 reserves the broadcast address; IPv6 has none.
    let last = if net.is_v4() {
        net.broadcast().checked_sub(1)
    } else {
        Some(net.broadcast())
    };
    let host = u128::try_from(index)
        .ok()
        .and_then(|i| net.network.checked_add(1)?.checked_add(i))
        .filter(|h| last.is_some_and(|l| *h <= l));
    let Some(host) = host else {
        return Err(FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the host index {index} is out of range for the usable addresses of '{}/{}'.",
                net.format(net.network),
                net.prefix
            ),
        ));
    };
    Ok(Value::String(net.format(host)))
}

/// .NET's rule for printing the last 32 bits of an IPv6 address as dotted IPv4: IPv4-compatible
/// (`::a.b.c.d`), IPv4-mapped (`::ffff:a.b.c.d`), SIIT (`::ffff:0:a.b.c.d`) and ISATAP.
fn has_embedded_ipv4(s: &[u16; 8]) -> bool {
    if s[..4].iter().all(|x| *x == 0) && s[6] != 0 {
        if s[4] == 0 && (s[5] == 0 || s[5] == 0xffff) {
            return true;
        }
        if s[4] == 0xffff && s[5] == 0 {
            return true;
        }
    }
    s[4] == 0 && s[5] == 0x5efe
}

/// Hex groups with the longest run (two or more, first on ties) of zero groups as `::`.
fn format_groups(groups: &[u16]) -> String {
    let (mut best_start, mut best_len, mut run) = (0usize, 0usize, 0usize);
    for (i, g) in groups.iter().enumerate() {
        if *g == 0 {
            run += 1;
            if run > best_len {
                best_len = run;
                best_start = i + 1 - run;
            }
        } else {
            run = 0;
        }
    }
    let hex = |gs: &[u16]| {
        gs.iter()
            .map(|g| format!("{g:x}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    if best_len > 1 {
        format!(
            "{}::{}",
            hex(&groups[..best_start]),
            hex(&groups[best_start + best_len..])
        )
    } else {
        hex(groups)
    }
}

/// Prints an IPv6 address the way .NET's `IPAddress.ToString()` does.
fn format_ipv6(addr: u128) -> String {
    let s = Ipv6Addr::from(addr).segments();
    if !has_embedded_ipv4(&s) {
        return format_groups(&s);
    }
    let mut out = format_groups(&s[..6]);
    if !out.ends_with(':') {
        out.push(':');
    }
    let v4 = (u32::from(s[6]) << 16) | u32::from(s[7]);
    out.push_str(&Ipv4Addr::from(v4).to_string());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v6(s: &str) -> String {
        s.parse::<Ipv6Addr>()
            .map(|a| format_ipv6(u128::from(a)))
            .unwrap_or_default()
    }

    #[test]
    fn ipv6_prints_like_dotnet() {
        assert_eq!(v6("fdad:3236:5555:0:0:0:0:0"), "fdad:3236:5555::");
        assert_eq!(v6("0:0:0:0:0:0:0:0"), "::");
        assert_eq!(v6("0:0:0:0:0:0:0:1"), "::1");
        assert_eq!(v6("1:0:2:0:0:3:0:0"), "1:0:2::3:0:0");
        assert_eq!(v6("1:0:2:3:4:5:6:7"), "1:0:2:3:4:5:6:7");
        assert_eq!(v6("::ffff:10.1.2.3"), "::ffff:10.1.2.3");
        assert_eq!(v6("::10.1.2.3"), "::10.1.2.3");
        assert_eq!(v6("fe80::5efe:a00:1"), "fe80::5efe:10.0.0.1");
    }
}
