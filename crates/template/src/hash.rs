//! Bit-exact `uniqueString`, `guid` and `templateHash`.
//!
//! - `uniqueString` and `templateHash` use Microsoft's 64-bit MurmurHash variant (two 32-bit
//!   lanes, from `Microsoft.WindowsAzure.ResourceStack`), described in
//!   `fixtures/azure/expressions/hash-vectors.json` and checked against values ARM returned.
//! - `guid` is an RFC 4122 §4.3 name-based UUID, version 5 (SHA-1), in ARM's own namespace
//!   `11fb06fb-712d-4ddd-98c7-e71bbd588830`; checked against `guid('asdf')` as evaluated by
//!   ARM's engine in Bicep's `baselines_bicepparam/Expressions` baseline.
//! - `templateHash` is the decimal MurmurHash of the upper-cased minified template.

use sha1::{Digest, Sha1};

use crate::netfmt;
use crate::value::Value;

const C1: u32 = 0x239b_961b;
const C2: u32 = 0xab0e_9789;

/// ARM's `guid()` namespace.
const GUID_NAMESPACE: [u8; 16] = [
    0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30,
];

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn fmix32(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Little-endian word from up to 4 bytes (missing high bytes are zero).
fn word(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .rev()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

fn mix_lane1(k: u32) -> u32 {
    k.wrapping_mul(C1).rotate_left(15).wrapping_mul(C2)
}

fn mix_lane2(k: u32) -> u32 {
    k.wrapping_mul(C2).rotate_left(17).wrapping_mul(C1)
}

/// Microsoft's 64-bit MurmurHash variant (seed 0), as ARM uses for `uniqueString` and
/// `templateHash`.
pub fn murmur64(data: &[u8]) -> u64 {
    let mut h1: u32 = 0;
    let mut h2: u32 = 0;
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let (a, b) = block.split_at(4);
        h1 ^= mix_lane1(word(a));
        h1 = h1
            .rotate_left(19)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x561c_cd1b);
        h2 ^= mix_lane2(word(b));
        h2 = h2
            .rotate_left(13)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x0bca_a747);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let (a, b) = tail.split_at(tail.len().min(4));
        h1 ^= mix_lane1(word(a));
        if !b.is_empty() {
            h2 ^= mix_lane2(word(b));
        }
    }
    // The length is mixed in as a 32-bit value, as .NET's `(uint)data.Length` does.
    let len = data.len() as u32;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix32(h1);
    h2 = fmix32(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

/// ARM's `uniqueString(args...)`: 13 characters of `a-z2-7` from the hash of the arguments
/// joined with `-`.
pub fn unique_string(args: &[&str]) -> String {
    let mut hash = murmur64(args.join("-").as_bytes());
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        out.push(char::from(BASE32[(hash >> 59) as usize]));
        hash <<= 5;
    }
    out
}

/// ARM's `guid(args...)`: a version-5 UUID of the arguments joined with `-`, lower-case with
/// hyphens.
pub fn guid(args: &[&str]) -> String {
    let mut sha = Sha1::new();
    sha.update(GUID_NAMESPACE);
    sha.update(args.join("-").as_bytes());
    let digest = sha.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    uuid::Uuid::from_bytes(bytes).hyphenated().to_string()
}

/// A template as ARM minifies it before hashing: compact JSON in the original property order,
/// strings escaped as Newtonsoft.Json writes them. Not upper-cased (see
/// [`minified_template`] for ARM's response form).
pub fn minify(v: &Value) -> String {
    netfmt::json_text(v, '"')
}

/// The `minifiedTemplate` ARM's `calculateTemplateHash` returns: [`minify`] upper-cased with
/// the invariant culture.
pub fn minified_template(v: &Value) -> String {
    netfmt::to_upper_invariant(&minify(v))
}

/// `templateHash` of an already minified template: decimal MurmurHash64 of the UTF-8 of its
/// invariant upper-case form.
pub fn template_hash_of_minified(minified: &str) -> String {
    murmur64(netfmt::to_upper_invariant(minified).as_bytes()).to_string()
}

/// `templateHash` of a template (classic templates; languageVersion 2.0 templates are
/// normalised by ARM first in a way not yet reproduced).
pub fn template_hash(template: &Value) -> String {
    template_hash_of_minified(&minify(template))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should stop loudly.
mod tests {
    use super::*;

    #[test]
    fn murmur_of_empty_input_is_zero() {
        assert_eq!(murmur64(b""), 0);
        assert_eq!(unique_string(&[""]), "aaaaaaaaaaaaa");
    }

    #[test]
    fn unique_string_matches_arm_for_single_argument() {
        assert_eq!(unique_string(&["tyeth"]), "zcztcwvu6iyg6");
    }

    #[test]
    fn unique_string_joins_arguments_with_hyphen() {
        assert_eq!(unique_string(&["a", "b", "c"]), unique_string(&["a-b-c"]));
        assert_eq!(unique_string(&["a", "b", "c"]), "gmauwwrtcq2xa");
    }

    #[test]
    fn guid_is_uuid_v5_in_arm_namespace() {
        let g = guid(&["asdf"]);
        assert_eq!(g, "228d27cc-6fdb-5934-b7ac-1efccebade04");
        assert_eq!(&g[14..15], "5");
    }

    #[test]
    fn guid_joins_arguments_with_hyphen() {
        assert_eq!(guid(&["a", "b"]), guid(&["a-b"]));
        assert_ne!(guid(&["a", "b"]), guid(&["ab"]));
    }

    #[test]
    fn template_hash_upper_cases_before_hashing() {
        assert_eq!(
            template_hash_of_minified("{\"a\":1}"),
            template_hash_of_minified("{\"A\":1}")
        );
    }
}
