//! String functions: encoding (`base64`, `dataUri`, `uriComponent`...), `format` (.NET
//! composite formatting, see [`crate::netfmt`]), the deterministic `guid` and `uniqueString`
//! (see [`crate::hash`]), `newGuid`, and the text operations (`padLeft`, `replace`, `split`,
//! `substring`, `toLower`, `trim`, `uri`...).
//!
//! Lengths and indexes count UTF-16 code units, as .NET strings do, so `substring` and
//! `padLeft` agree with Azure on text outside the Basic Multilingual Plane.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use sha1::{Digest, Sha1};

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::value::Value;
use crate::{hash, netfmt};

/// The string functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("base64", base64_fn, 1, Some(1)),
    FnDef::new("base64ToJson", base64_to_json, 1, Some(1)),
    FnDef::new("base64ToString", base64_to_string, 1, Some(1)),
    FnDef::new("dataUri", data_uri, 1, Some(1)),
    FnDef::new("dataUriToString", data_uri_to_string, 1, Some(1)),
    FnDef::new("endsWith", ends_with, 2, Some(2)),
    FnDef::new("startsWith", starts_with, 2, Some(2)),
    FnDef::new("format", format_fn, 1, None),
    FnDef::new("guid", guid, 1, None),
    FnDef::new("join", join, 2, Some(2)),
    FnDef::new("like", like, 2, Some(2)),
    FnDef::new("newGuid", new_guid, 0, Some(0)),
    FnDef::new("padLeft", pad_left, 2, Some(3)),
    FnDef::new("replace", replace, 3, Some(3)),
    FnDef::new("split", split, 2, Some(2)),
    FnDef::new("string", string_fn, 1, Some(1)),
    FnDef::new("substring", substring, 2, Some(3)),
    FnDef::new("toLower", to_lower, 1, Some(1)),
    FnDef::new("toUpper", to_upper, 1, Some(1)),
    FnDef::new("trim", trim, 1, Some(1)),
    FnDef::new("uniqueString", unique_string, 1, None),
    FnDef::new("uri", uri, 2, Some(2)),
    FnDef::new("uriComponent", uri_component, 1, Some(1)),
    FnDef::new("uriComponentToString", uri_component_to_string, 1, Some(1)),
];

/// Longest string (in UTF-16 code units) `padLeft` builds. ARM caps templates at 4 MB, so
/// anything longer cannot be deployed; the cap keeps hostile templates from exhausting memory.
pub const MAX_PAD_LENGTH: i64 = 1 << 20;

/// Longest string (in bytes) `replace` and `join` build, for the same reason.
pub const MAX_RESULT_BYTES: usize = 16 << 20;

/// .NET's `Convert.FromBase64String`: padding required, stray bits after the last symbol
/// tolerated.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// What `Uri.EscapeDataString` leaves alone: the RFC 3986 unreserved characters.
const URI_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn strings<'a>(a: &Args<'a>) -> Result<Vec<&'a str>, FnError> {
    (0..a.len()).map(|i| a.str(i)).collect()
}

fn too_long(name: &str) -> FnError {
    FnError::call(
        name,
        format!("the result would be longer than {MAX_RESULT_BYTES} bytes."),
    )
}

fn base64_fn(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    Ok(Value::String(BASE64.encode(s.as_bytes())))
}

fn decode_base64(name: &str, arg: usize, s: &str) -> Result<Vec<u8>, FnError> {
    // .NET skips blanks anywhere in the input.
    let cleaned: String = s
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n'))
        .collect();
    BASE64.decode(cleaned).map_err(|_| {
        FnError::at(
            arg,
            format!(
                "Unable to evaluate template language function '{name}': The input is not a valid Base-64 string as it contains a non-base 64 character, more than two padding characters, or an illegal character among the padding characters."
            ),
        )
    })
}

fn base64_to_string(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    let bytes = decode_base64(name, 0, s)?;
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn base64_to_json(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    let bytes = decode_base64(name, 0, s)?;
    let text = String::from_utf8_lossy(&bytes);
    // Lenient like Newtonsoft: the docs' own example is single-quoted JSON.
    crate::json::parse_value(&text).map_err(|e| {
        FnError::at(0, format!("Unable to evaluate template language function '{name}': the decoded value is not valid JSON: {e}."))
    })
}

fn data_uri(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    Ok(Value::String(format!(
        "data:text/plain;charset=utf8;base64,{}",
        BASE64.encode(s.as_bytes())
    )))
}

fn data_uri_to_string(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    let invalid = || {
        FnError::at(
            0,
            format!(
                "Unable to evaluate template language function '{name}': the value '{s}' is not a valid data URI."
            ),
        )
    };
    let rest = s
        .get(..5)
        .filter(|p| p.eq_ignore_ascii_case("data:"))
        .and_then(|_| s.get(5..))
        .ok_or_else(invalid)?;
    let (meta, data) = rest.split_once(',').ok_or_else(invalid)?;
    let is_base64 = meta.len() >= 7
        && meta
            .get(meta.len() - 7..)
            .is_some_and(|t| t.eq_ignore_ascii_case(";base64"));
    let bytes = if is_base64 {
        decode_base64(name, 0, data)?
    } else {
        percent_encoding::percent_decode_str(data).collect()
    };
    Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
}

fn starts_with(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    Ok(Value::Bool(netfmt::starts_with_ignore_case(
        a.str(0)?,
        a.str(1)?,
    )))
}

fn ends_with(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    Ok(Value::Bool(netfmt::ends_with_ignore_case(
        a.str(0)?,
        a.str(1)?,
    )))
}

fn format_fn(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let fmt = Args::new(name, args).str(0)?;
    let rest = args.get(1..).unwrap_or_default();
    netfmt::composite_format(fmt, rest)
        .map(Value::String)
        .map_err(|e| FnError::at(0, FnError::call(name, e).message))
}

fn guid(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::String(hash::guid(&strings(&Args::new(name, args))?)))
}

fn unique_string(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::String(hash::unique_string(&strings(&Args::new(
        name, args,
    ))?)))
}

fn join(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let items = a.array(0)?;
    let delimiter = a.str(1)?;
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(delimiter);
        }
        out.push_str(&netfmt::display_scalar(item));
        if out.len() > MAX_RESULT_BYTES {
            return Err(too_long(name));
        }
    }
    Ok(Value::String(out))
}

/// A version-4 GUID derived from the context's seed and a per-evaluator counter, so tests and
/// demos get stable `newGuid()` values.
fn seeded_guid(seed: u64, counter: u64) -> uuid::Uuid {
    let mut sha = Sha1::new();
    sha.update(b"landfall/newGuid");
    sha.update(seed.to_le_bytes());
    sha.update(counter.to_le_bytes());
    let digest = sha.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

fn new_guid(ev: &mut Evaluator<'_>, name: &str, _: &[Value]) -> Result<Value, FnError> {
    super::only_in_parameter_defaults(ev, name)?;
    let id = match ev.context().guid_seed {
        Some(seed) => {
            let counter = ev.scope().next_sequence();
            seeded_guid(seed, counter)
        }
        None => uuid::Uuid::new_v4(),
    };
    Ok(Value::String(id.hyphenated().to_string()))
}

fn pad_left(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let value = match a.any(0)? {
        Value::String(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        _ => return Err(a.type_error(0, "String or Integer")),
    };
    let total = a.int(1)?;
    if total < 0 {
        return Err(FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the total length '{total}' must not be negative."
            ),
        ));
    }
    if total > MAX_PAD_LENGTH {
        return Err(FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the total length '{total}' exceeds the maximum of {MAX_PAD_LENGTH}."
            ),
        ));
    }
    let pad = match a.opt_str(2)? {
        None => ' ',
        Some(p) => {
            let mut chars = p.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.len_utf16() == 1 => c,
                _ => {
                    return Err(FnError::at(
                        2,
                        format!(
                            "The template language function '{name}' expects its third parameter to be a single character. The provided value is '{p}'. Please see https://aka.ms/arm-functions for usage details."
                        ),
                    ));
                }
            }
        }
    };
    let len = netfmt::utf16_len(&value);
    let missing = usize::try_from(total).unwrap_or(0).saturating_sub(len);
    let mut out = String::with_capacity(value.len() + missing);
    out.extend(std::iter::repeat_n(pad, missing));
    out.push_str(&value);
    Ok(Value::String(out))
}

fn replace(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let (original, old, new) = (a.str(0)?, a.str(1)?, a.str(2)?);
    if old.is_empty() {
        return Err(FnError::at(
            1,
            format!(
                "Unable to evaluate template language function '{name}': the string to replace must not be empty."
            ),
        ));
    }
    if new.len() > old.len() {
        let count = original.matches(old).count();
        let grown = count
            .saturating_mul(new.len() - old.len())
            .saturating_add(original.len());
        if grown > MAX_RESULT_BYTES {
            return Err(too_long(name));
        }
    }
    Ok(Value::String(original.replace(old, new)))
}

/// `string.Split(string[] separators, StringSplitOptions.None)`: at each position the first
/// separator in list order that matches wins; empty separators are ignored; an empty list
/// splits on white space.
fn split_dotnet(input: &str, separators: &[&str]) -> Vec<String> {
    if separators.is_empty() {
        return input
            .split(netfmt::is_net_whitespace)
            .map(str::to_owned)
            .collect();
    }
    let seps: Vec<&str> = separators
        .iter()
        .copied()
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    'scan: while i < input.len() {
        if let Some(rest) = input.get(i..) {
            for sep in &seps {
                if rest.starts_with(sep) {
                    out.push(input.get(start..i).unwrap_or_default().to_owned());
                    i += sep.len();
                    start = i;
                    continue 'scan;
                }
            }
        }
        i += input
            .get(i..)
            .and_then(|r| r.chars().next())
            .map_or(1, char::len_utf8);
    }
    out.push(input.get(start..).unwrap_or_default().to_owned());
    out
}

fn split(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let input = a.str(0)?;
    let separators: Vec<&str> = match a.any(1)? {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_str().ok_or_else(|| {
                    FnError::at(
                        1,
                        format!("The template language function '{name}' expects its second parameter to be a string or an array of strings. The array contains a value of type '{}'. Please see https://aka.ms/arm-functions for usage details.", v.type_name()),
                    )
                })
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(a.type_error(1, "String or Array")),
    };
    Ok(Value::Array(
        split_dotnet(input, &separators)
            .into_iter()
            .map(Value::String)
            .collect(),
    ))
}

fn string_fn(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::String(netfmt::display_scalar(
        Args::new(name, args).any(0)?,
    )))
}

fn substring_error(detail: String) -> FnError {
    FnError::new(format!(
        "Unable to evaluate the template language function 'substring'. {detail} Please see https://aka.ms/arm-function-substring for usage details."
    ))
}

fn substring(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let s = a.str(0)?;
    let start = a.int(1)?;
    let length = a.opt_int(2)?;
    let units: Vec<u16> = s.encode_utf16().collect();
    let total = units.len() as i64;
    if start < 0 {
        return Err(substring_error(format!(
            "The index parameter cannot be less than zero. The index parameter: '{start}'."
        )));
    }
    let length = match length {
        Some(l) => l,
        None if start > total => {
            return Err(substring_error(format!(
                "The index parameter cannot be greater than the length of the string. The index parameter: '{start}', the length of the string parameter: '{total}'."
            )));
        }
        None => total - start,
    };
    if length < 0 {
        return Err(substring_error(format!(
            "The length parameter cannot be less than zero. The length parameter: '{length}'."
        )));
    }
    if start.checked_add(length).is_none_or(|end| end > total) {
        return Err(substring_error(format!(
            "The index and length parameters must refer to a location within the string. The index parameter: '{start}', the length parameter: '{length}', the length of the string parameter: '{total}'."
        )));
    }
    // In range by the checks above; a split surrogate pair becomes U+FFFD.
    let slice = units
        .get(start as usize..(start + length) as usize)
        .unwrap_or_default();
    Ok(Value::String(String::from_utf16_lossy(slice)))
}

fn to_lower(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::String(netfmt::to_lower_invariant(
        Args::new(name, args).str(0)?,
    )))
}

fn to_upper(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::String(netfmt::to_upper_invariant(
        Args::new(name, args).str(0)?,
    )))
}

fn trim(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    Ok(Value::String(
        s.trim_matches(netfmt::is_net_whitespace).to_owned(),
    ))
}

fn uri_component(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    Ok(Value::String(
        percent_encoding::utf8_percent_encode(s, URI_COMPONENT).to_string(),
    ))
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// `Uri.UnescapeDataString`: `%XX` sequences that form valid UTF-8 are decoded, anything else
/// is left as written.
fn unescape_data_string(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let mut run = Vec::new();
        let mut j = i;
        while let [b'%', h, l, ..] = bytes.get(j..).unwrap_or_default() {
            match (hex_value(*h), hex_value(*l)) {
                (Some(h), Some(l)) => {
                    run.push(h << 4 | l);
                    j += 3;
                }
                _ => break,
            }
        }
        if run.is_empty() {
            let c = s
                .get(i..)
                .and_then(|r| r.chars().next())
                .unwrap_or('\u{fffd}');
            out.push(c);
            i += c.len_utf8().max(1);
            continue;
        }
        let mut k = 0;
        for chunk in run.utf8_chunks() {
            out.push_str(chunk.valid());
            k += chunk.valid().len();
            for _ in chunk.invalid() {
                out.push_str(s.get(i + 3 * k..i + 3 * k + 3).unwrap_or_default());
                k += 1;
            }
        }
        i = j;
    }
    out
}

fn uri_component_to_string(
    _: &mut Evaluator<'_>,
    name: &str,
    args: &[Value],
) -> Result<Value, FnError> {
    Ok(Value::String(unescape_data_string(
        Args::new(name, args).str(0)?,
    )))
}

/// An RFC 3986 URI reference split into its five components.
#[derive(Debug, Default)]
struct UriRef {
    scheme: Option<String>,
    authority: Option<String>,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

fn valid_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn parse_uri_ref(s: &str) -> UriRef {
    let mut r = UriRef::default();
    let mut rest = s;
    if let Some((fragless, frag)) = rest.split_once('#') {
        r.fragment = Some(frag.to_owned());
        rest = fragless;
    }
    if let Some((before, query)) = rest.split_once('?') {
        r.query = Some(query.to_owned());
        rest = before;
    }
    if let Some(colon) = rest.find(':')
        && rest.find('/').is_none_or(|slash| colon < slash)
        && valid_scheme(&rest[..colon])
    {
        r.scheme = Some(rest[..colon].to_ascii_lowercase());
        rest = &rest[colon + 1..];
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find('/').unwrap_or(after.len());
        r.authority = Some(after[..end].to_owned());
        rest = &after[end..];
    }
    r.path = rest.to_owned();
    r
}

/// RFC 3986 §5.2.4.
fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut out = String::with_capacity(path.len());
    let drop_last = |out: &mut String| {
        let cut = out.rfind('/').unwrap_or(0);
        out.truncate(cut);
    };
    while !input.is_empty() {
        if let Some(r) = input
            .strip_prefix("../")
            .or_else(|| input.strip_prefix("./"))
        {
            input = r;
        } else if input.starts_with("/./") {
            input = &input[2..];
        } else if input == "/." {
            input = "/";
        } else if input.starts_with("/../") {
            input = &input[3..];
            drop_last(&mut out);
        } else if input == "/.." {
            input = "/";
            drop_last(&mut out);
        } else if input == "." || input == ".." {
            input = "";
        } else {
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |e| e + start);
            out.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    out
}

/// Scheme, lower-cased host without the default port, `/` for an empty path, and forward
/// slashes, as `System.Uri` canonicalises URIs of the common schemes.
fn canonical_uri(mut u: UriRef) -> String {
    let scheme = u.scheme.clone().unwrap_or_default();
    let default_port = match scheme.as_str() {
        "http" | "ws" => Some("80"),
        "https" | "wss" => Some("443"),
        "ftp" => Some("21"),
        _ => None,
    };
    if let Some(auth) = &u.authority {
        let (userinfo, hostport) = match auth.rsplit_once('@') {
            Some((ui, hp)) => (Some(ui), hp),
            None => (None, auth.as_str()),
        };
        let (host, port) = match hostport.rfind(':') {
            Some(i) if !hostport[i..].contains(']') => (&hostport[..i], Some(&hostport[i + 1..])),
            _ => (hostport, None),
        };
        let mut a = String::new();
        if let Some(ui) = userinfo {
            a.push_str(ui);
            a.push('@');
        }
        a.push_str(&host.to_ascii_lowercase());
        if let Some(p) = port.filter(|p| !p.is_empty() && Some(*p) != default_port) {
            a.push(':');
            a.push_str(p);
        }
        u.authority = Some(a);
        if u.path.is_empty() {
            u.path = "/".into();
        }
    }
    let mut out = format!("{scheme}:");
    if let Some(a) = &u.authority {
        out.push_str("//");
        out.push_str(a);
    }
    out.push_str(&u.path);
    if let Some(q) = &u.query {
        out.push('?');
        out.push_str(q);
    }
    if let Some(f) = &u.fragment {
        out.push('#');
        out.push_str(f);
    }
    out
}

/// `new Uri(new Uri(baseUri), relativeUri).ToString()`: RFC 3986 reference resolution.
fn combine_uri(base: &str, relative: &str) -> Option<String> {
    let fix = |s: &str, scheme: Option<&str>| {
        let s = s.trim_matches(netfmt::is_net_whitespace);
        if matches!(
            scheme,
            Some("http" | "https" | "ftp" | "file" | "ws" | "wss")
        ) {
            s.replace('\\', "/")
        } else {
            s.to_owned()
        }
    };
    let b = parse_uri_ref(base.trim_matches(netfmt::is_net_whitespace));
    let scheme = b.scheme.clone()?;
    let b = parse_uri_ref(&fix(base, Some(&scheme)));
    let r = parse_uri_ref(&fix(relative, Some(&scheme)));
    let target = if r.scheme.is_some() {
        UriRef {
            path: remove_dot_segments(&r.path),
            ..r
        }
    } else if r.authority.is_some() {
        UriRef {
            scheme: b.scheme,
            path: remove_dot_segments(&r.path),
            ..r
        }
    } else if r.path.is_empty() {
        UriRef {
            scheme: b.scheme,
            authority: b.authority,
            path: b.path,
            query: r.query.or(b.query),
            fragment: r.fragment,
        }
    } else {
        let path = if r.path.starts_with('/') {
            remove_dot_segments(&r.path)
        } else if b.authority.is_some() && b.path.is_empty() {
            remove_dot_segments(&format!("/{}", r.path))
        } else {
            let dir = b.path.rfind('/').map_or("", |i| &b.path[..=i]);
            remove_dot_segments(&format!("{dir}{}", r.path))
        };
        UriRef {
            scheme: b.scheme,
            authority: b.authority,
            path,
            query: r.query,
            fragment: r.fragment,
        }
    };
    Some(canonical_uri(target))
}

fn uri(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let (base, relative) = (a.str(0)?, a.str(1)?);
    combine_uri(base, relative).map(Value::String).ok_or_else(|| {
        FnError::at(
            0,
            format!("Unable to evaluate template language function '{name}': the base URI '{base}' is not an absolute URI."),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should stop loudly.
mod tests {
    use super::*;

    #[test]
    fn split_prefers_first_listed_separator() {
        assert_eq!(split_dotnet("a;b,c", &[",", ";"]), ["a", "b", "c"]);
        assert_eq!(split_dotnet("a--b", &["-", "--"]), ["a", "", "b"]);
        assert_eq!(split_dotnet("a--b", &["--", "-"]), ["a", "b"]);
        assert_eq!(split_dotnet("abc", &[""]), ["abc"]);
        assert_eq!(split_dotnet("a b\tc", &[]), ["a", "b", "c"]);
        assert_eq!(split_dotnet("", &[","]), [""]);
        assert_eq!(split_dotnet(",x,", &[","]), ["", "x", ""]);
        assert_eq!(split_dotnet("é,ü", &[","]), ["é", "ü"]);
    }

    #[test]
    fn unescape_keeps_invalid_sequences() {
        assert_eq!(unescape_data_string("%20%25%20"), " % ");
        assert_eq!(unescape_data_string("%C3%A9%zz%"), "é%zz%");
        assert_eq!(unescape_data_string("%ff%41"), "%ffA");
        assert_eq!(unescape_data_string("a%e2%82"), "a%e2%82");
    }

    #[test]
    fn uri_resolution_follows_rfc3986() {
        let cases = [
            (
                "http://contoso.com/resources/",
                "nested/azuredeploy.json",
                "http://contoso.com/resources/nested/azuredeploy.json",
            ),
            (
                "https://github.com",
                "Azure/bicep",
                "https://github.com/Azure/bicep",
            ),
            (
                "http://contoso.org/firstpath",
                "myscript.sh",
                "http://contoso.org/myscript.sh",
            ),
            (
                "http://contoso.org/firstpath/azuredeploy.json",
                "myscript.sh",
                "http://contoso.org/firstpath/myscript.sh",
            ),
            ("http://contoso.org/a/b/", "../c", "http://contoso.org/a/c"),
            ("http://contoso.org/a/b/", "/c", "http://contoso.org/c"),
            (
                "http://contoso.org/a?x=1",
                "?y=2",
                "http://contoso.org/a?y=2",
            ),
            ("HTTP://Contoso.ORG:80/A", "b", "http://contoso.org/b"),
            ("https://a.com:8443/x/", "y", "https://a.com:8443/x/y"),
            ("http://a.com/x/", "https://b.com/z", "https://b.com/z"),
            ("http://a.com/x/", "//b.com/z", "http://b.com/z"),
            ("http://a.com/x/y", "", "http://a.com/x/y"),
        ];
        for (b, r, want) in cases {
            assert_eq!(combine_uri(b, r).as_deref(), Some(want), "{b} + {r}");
        }
        assert_eq!(combine_uri("relative/path", "x"), None);
        assert_eq!(combine_uri("", ""), None);
    }
}

/// `like(input, pattern)`: wildcard match where `*` is any run of characters and `?` is one
/// character, compared without regard to case like ARM's other string tests.
fn like(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let input: Vec<char> = crate::netfmt::to_lower_invariant(a.str(0)?)
        .chars()
        .collect();
    let pattern: Vec<char> = crate::netfmt::to_lower_invariant(a.str(1)?)
        .chars()
        .collect();
    Ok(Value::Bool(wildcard_match(&input, &pattern)))
}

/// Iterative wildcard matching with backtracking to the last `*`: linear space, no recursion.
fn wildcard_match(input: &[char], pattern: &[char]) -> bool {
    let (mut i, mut p) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < input.len() {
        if p < pattern.len() && (pattern[p] == '?' || pattern[p] == input[i]) {
            i += 1;
            p += 1;
        } else if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, i));
            p += 1;
        } else if let Some((sp, si)) = star {
            p = sp + 1;
            i = si + 1;
            star = Some((sp, si + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod like_tests {
    use super::wildcard_match;

    fn m(i: &str, p: &str) -> bool {
        wildcard_match(
            &i.chars().collect::<Vec<_>>(),
            &p.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn like_matches_wildcards_as_the_bicep_baseline_uses_them() {
        assert!(m("abc", "abc"));
        assert!(m("abcdef", "a*c*"));
        assert!(m("abcabc", "*abc"));
        assert!(m("axaya", "a*a"));
        assert!(m("", "***"));
        assert!(!m("a", "b"));
        assert!(m("abc**def", "*def"));
        assert!(m("axbya", "a*b*a"));
        assert!(m("abc", "a?c"));
        assert!(!m("ab", "a?c"));
    }
}
