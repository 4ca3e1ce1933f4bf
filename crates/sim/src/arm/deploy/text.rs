//! The small formats ARM's deployment responses use: timestamps with seven fractional digits,
//! .NET `XmlConvert` durations (`PT1M2.5S`), operation and status IDs, Newtonsoft's
//! camel-casing of output names.

use time::{Duration, OffsetDateTime, UtcOffset};

use landfall_template::hash::murmur64;

/// `2020-07-17T05:45:56.6373322Z`, as ARM writes timestamps (100 ns ticks).
pub fn fmt_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.nanosecond() / 100
    )
}

/// An ISO 8601 duration as .NET's `XmlConvert.ToString(TimeSpan)` writes it: `PT0S`,
/// `PT49.9940278S`, `PT2M30.2631028S`, `P1DT2H`.
pub fn fmt_duration(d: Duration) -> String {
    let ticks = (d.whole_nanoseconds().max(0) / 100) as u128;
    let per_sec: u128 = 10_000_000;
    let days = ticks / (86_400 * per_sec);
    let hours = ticks / (3_600 * per_sec) % 24;
    let minutes = ticks / (60 * per_sec) % 60;
    let seconds = ticks / per_sec % 60;
    let fraction = ticks % per_sec;
    let mut s = String::from("P");
    if days > 0 {
        s.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || seconds > 0 || fraction > 0 {
        s.push('T');
        if hours > 0 {
            s.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            s.push_str(&format!("{minutes}M"));
        }
        if seconds > 0 || fraction > 0 {
            s.push_str(&seconds.to_string());
            if fraction > 0 {
                let digits = format!("{fraction:07}");
                s.push('.');
                s.push_str(digits.trim_end_matches('0'));
            }
            s.push('S');
        }
    }
    if s == "P" {
        s.push_str("T0S");
    }
    s
}

/// A deployment operation ID: 16 upper-case hex digits, stable for the same inputs.
pub fn operation_id(parts: &[&str]) -> String {
    format!("{:016X}", murmur64(parts.join("|").as_bytes()))
}

/// The ID of a deployment's `operationStatuses` resource: 20 decimal digits as ARM's
/// (`08586066421322243053`).
pub fn status_id(parts: &[&str]) -> String {
    format!(
        "0858{:016}",
        murmur64(parts.join("|").as_bytes()) % 10_000_000_000_000_000
    )
}

/// A name as Newtonsoft.Json's camel-casing writes it, which ARM applies to output names
/// (`STORAGE_ACCOUNT_ID` becomes `storagE_ACCOUNT_ID`, recordings/azd).
pub fn camel_case(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    if chars.first().is_none_or(|c| !c.is_uppercase()) {
        return s.to_owned();
    }
    for i in 0..chars.len() {
        if i == 1 && !chars[i].is_uppercase() {
            break;
        }
        let next = chars.get(i + 1).copied();
        if i > 0 && next.is_some_and(|n| !n.is_uppercase()) {
            if next.is_some_and(char::is_whitespace) {
                chars[i] = chars[i].to_lowercase().next().unwrap_or(chars[i]);
            }
            break;
        }
        chars[i] = chars[i].to_lowercase().next().unwrap_or(chars[i]);
    }
    chars.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_have_seven_fractional_digits() {
        let t = datetime!(2020-07-17 05:45:56.6373322 UTC);
        assert_eq!(fmt_time(t), "2020-07-17T05:45:56.6373322Z");
        assert_eq!(
            fmt_time(datetime!(2026-01-01 0:00 UTC)),
            "2026-01-01T00:00:00.0000000Z"
        );
    }

    #[test]
    fn durations_follow_xml_convert() {
        assert_eq!(fmt_duration(Duration::ZERO), "PT0S");
        assert_eq!(
            fmt_duration(Duration::nanoseconds(49_994_027_800)),
            "PT49.9940278S"
        );
        assert_eq!(
            fmt_duration(Duration::seconds(150) + Duration::milliseconds(263)),
            "PT2M30.263S"
        );
        assert_eq!(fmt_duration(Duration::hours(26)), "P1DT2H");
        assert_eq!(fmt_duration(Duration::seconds(-3)), "PT0S");
    }

    #[test]
    fn ids_are_stable_and_shaped_like_arm_ids() {
        let a = operation_id(&["x", "y"]);
        assert_eq!(a, operation_id(&["x", "y"]));
        assert_eq!(a.len(), 16);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase())
        );
        let s = status_id(&["x"]);
        assert_eq!(s.len(), 20);
        assert!(s.starts_with("0858") && s.chars().all(|c| c.is_ascii_digit()));
    }

    #[test]
    fn output_names_are_camel_cased_as_newtonsoft_does() {
        assert_eq!(camel_case("STORAGE_ACCOUNT_ID"), "storagE_ACCOUNT_ID");
        assert_eq!(camel_case("controlPlaneFQDN"), "controlPlaneFQDN");
        assert_eq!(camel_case("Output1"), "output1");
        assert_eq!(camel_case("URL"), "url");
        assert_eq!(camel_case("FOO bar"), "foo bar");
        assert_eq!(camel_case(""), "");
    }
}
