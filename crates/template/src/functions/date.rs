//! Date functions: `utcNow`, `dateTimeAdd`, `dateTimeFromEpoch`, `dateTimeToEpoch`.
//!
//! Times are .NET `DateTime`s in UTC: formatting follows [`crate::netfmt::format_datetime`],
//! and parsing accepts the ISO 8601 shapes templates use (`2020-04-07 14:53:14Z`,
//! `2020-04-07T14:53:14.123+01:00`, `20190305T175318Z`, `2020-04-07`) plus the invariant
//! culture's `4/7/2020 2:53:14 PM`. Without a format, `dateTimeAdd` answers in the shape of its
//! base value, as ARM does (`2020-04-07 14:53:14Z` + `P3Y` = `2023-04-07 14:53:14Z`).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::{Args, FnDef, FnError};
use crate::eval::Evaluator;
use crate::netfmt;
use crate::value::Value;

/// The date functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("utcNow", utc_now, 0, Some(1)),
    FnDef::new("dateTimeAdd", date_time_add, 2, Some(3)),
    FnDef::new("dateTimeFromEpoch", date_time_from_epoch, 1, Some(1)),
    FnDef::new("dateTimeToEpoch", date_time_to_epoch, 1, Some(1)),
];

/// `utcNow()`'s default format.
const UTC_NOW_FORMAT: &str = "yyyyMMddTHHmmssZ";

/// The ISO 8601 shape `dateTimeFromEpoch` returns.
const EPOCH_FORMAT: &str = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'";

fn format_error(name: &str, arg: usize, e: netfmt::FormatError) -> FnError {
    FnError::at(arg, FnError::call(name, e).message)
}

/// .NET's `DateTime` range: years 1 to 9999.
fn in_dotnet_range(dt: OffsetDateTime) -> bool {
    (1..=9999).contains(&dt.year())
        && dt
            .checked_to_offset(UtcOffset::UTC)
            .is_some_and(|u| (1..=9999).contains(&u.year()))
}

fn utc_now(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    super::only_in_parameter_defaults(ev, name)?;
    let format = Args::new(name, args).opt_str(0)?.unwrap_or(UTC_NOW_FORMAT);
    let now = ev
        .context()
        .now
        .checked_to_offset(UtcOffset::UTC)
        .filter(|d| in_dotnet_range(*d))
        .ok_or_else(|| FnError::call(name, "the deployment time is outside the range of dates."))?;
    netfmt::format_datetime(now, format)
        .map(Value::String)
        .map_err(|e| format_error(name, 0, e))
}

/// A date read from a template string, with a .NET custom format that prints a date back in
/// the same shape.
#[derive(Clone, Debug)]
pub struct ParsedDate {
    /// The instant, in the offset it was written with (UTC when none was given).
    pub value: OffsetDateTime,
    /// A custom format string reproducing the input's layout.
    pub shape: String,
}

struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
    shape: String,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// Between `min` and `max` digits; the value and how many were read.
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let mut v: u32 = 0;
        let mut n = 0;
        while n < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (n >= min).then_some((v, n))
    }

    /// Appends a literal to the shape (escaped, so it is never read as a specifier).
    fn literal(&mut self, c: char) {
        self.shape.push('\\');
        self.shape.push(c);
    }

    fn field(&mut self, spec: &str, width: usize) {
        for _ in 0..width {
            self.shape.push_str(spec);
        }
    }

    fn done(&self) -> bool {
        self.i >= self.b.len()
    }
}

struct Fields {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    offset: UtcOffset,
}

impl Fields {
    fn midnight(year: u32, month: u32, day: u32) -> Fields {
        Fields {
            year,
            month,
            day,
            hour: 0,
            minute: 0,
            second: 0,
            nanos: 0,
            offset: UtcOffset::UTC,
        }
    }

    fn build(&self) -> Option<OffsetDateTime> {
        let month = Month::try_from(u8::try_from(self.month).ok()?).ok()?;
        let date = Date::from_calendar_date(
            i32::try_from(self.year).ok()?,
            month,
            u8::try_from(self.day).ok()?,
        )
        .ok()?;
        let time = Time::from_hms_nano(
            u8::try_from(self.hour).ok()?,
            u8::try_from(self.minute).ok()?,
            u8::try_from(self.second).ok()?,
            self.nanos,
        )
        .ok()?;
        let dt = PrimitiveDateTime::new(date, time).assume_offset(self.offset);
        in_dotnet_range(dt).then_some(dt)
    }
}

/// Fraction digits after `.`/`,`: nanoseconds, kept to .NET's 100 ns ticks.
fn fraction(c: &mut Cursor<'_>) -> Option<u32> {
    let (mut v, n) = c.digits(1, 9)?;
    // .NET reads any number of digits; beyond 100 ns they cannot change a tick.
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.i += 1;
    }
    c.field("f", n.min(7));
    for _ in n..9 {
        v *= 10;
    }
    Some(v / 100 * 100)
}

/// `Z`, `±hh`, `±hh:mm` or `±hhmm`; the shape keeps the text as written.
fn zone(c: &mut Cursor<'_>) -> Option<UtcOffset> {
    match c.peek()? {
        z @ (b'Z' | b'z') => {
            c.i += 1;
            c.literal(char::from(z));
            Some(UtcOffset::UTC)
        }
        sign @ (b'+' | b'-') => {
            let start = c.i;
            c.i += 1;
            let (h, _) = c.digits(2, 2)?;
            let m = if c.eat(b':') {
                c.digits(2, 2)?.0
            } else {
                c.digits(2, 2).map_or(0, |(m, _)| m)
            };
            if h > 14 || m > 59 || (h == 14 && m > 0) {
                return None;
            }
            let text = std::str::from_utf8(c.b.get(start..c.i)?).ok()?;
            for ch in text.chars() {
                c.literal(ch);
            }
            let secs = i32::try_from(h * 3600 + m * 60).ok()?;
            UtcOffset::from_whole_seconds(if sign == b'-' { -secs } else { secs }).ok()
        }
        _ => None,
    }
}

fn parse_iso(s: &str) -> Option<ParsedDate> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
        shape: String::new(),
    };
    let (year, _) = c.digits(4, 4)?;
    c.field("y", 4);
    let extended = c.eat(b'-');
    if extended {
        c.literal('-');
    }
    let (month, _) = c.digits(2, 2)?;
    c.field("M", 2);
    if extended {
        if !c.eat(b'-') {
            return None;
        }
        c.literal('-');
    }
    let (day, _) = c.digits(2, 2)?;
    c.field("d", 2);
    let mut f = Fields::midnight(year, month, day);
    if !c.done() {
        match c.peek()? {
            sep @ (b'T' | b't' | b' ') => {
                c.i += 1;
                c.literal(char::from(sep));
                f.hour = c.digits(2, 2)?.0;
                c.field("H", 2);
                let colon = c.eat(b':');
                if colon {
                    c.literal(':');
                }
                f.minute = c.digits(2, 2)?.0;
                c.field("m", 2);
                let has_seconds = if colon {
                    c.eat(b':')
                } else {
                    c.peek().is_some_and(|b| b.is_ascii_digit())
                };
                if has_seconds {
                    if colon {
                        c.literal(':');
                    }
                    f.second = c.digits(2, 2)?.0;
                    c.field("s", 2);
                    if let Some(sep @ (b'.' | b',')) = c.peek() {
                        c.i += 1;
                        c.literal(char::from(sep));
                        f.nanos = fraction(&mut c)?;
                    }
                }
                if !c.done() {
                    f.offset = zone(&mut c)?;
                }
            }
            _ => f.offset = zone(&mut c)?,
        }
    }
    if !c.done() {
        return None;
    }
    Some(ParsedDate {
        value: f.build()?,
        shape: c.shape,
    })
}

/// The invariant culture's general form: `M/d/yyyy[ h:mm[:ss][ AM|PM]]`.
fn parse_invariant(s: &str) -> Option<ParsedDate> {
    let mut c = Cursor {
        b: s.as_bytes(),
        i: 0,
        shape: String::new(),
    };
    let (month, mw) = c.digits(1, 2)?;
    c.field("M", mw);
    if !c.eat(b'/') {
        return None;
    }
    c.shape.push('/');
    let (day, dw) = c.digits(1, 2)?;
    c.field("d", dw);
    if !c.eat(b'/') {
        return None;
    }
    c.shape.push('/');
    let (year, _) = c.digits(4, 4)?;
    c.field("y", 4);
    let mut f = Fields::midnight(year, month, day);
    if c.eat(b' ') {
        c.literal(' ');
        let time_start = c.shape.len();
        let (hour, hw) = c.digits(1, 2)?;
        if !c.eat(b':') {
            return None;
        }
        let (minute, _) = c.digits(2, 2)?;
        let mut tail = String::from("\\:mm");
        f.minute = minute;
        if c.eat(b':') {
            f.second = c.digits(2, 2)?.0;
            tail.push_str("\\:ss");
        }
        f.hour = hour;
        let mut hour_spec = "H";
        if c.eat(b' ') {
            let designator = c.b.get(c.i..c.i + 2)?.to_ascii_uppercase();
            c.i += 2;
            f.hour = match (designator.as_slice(), hour) {
                (_, 13..) => return None,
                (b"AM", 12) => 0,
                (b"AM", h) => h,
                (b"PM", 12) => 12,
                (b"PM", h) => h + 12,
                _ => return None,
            };
            hour_spec = "h";
            tail.push_str("\\ tt");
        }
        c.shape.truncate(time_start);
        c.field(hour_spec, hw);
        c.shape.push_str(&tail);
    }
    if !c.done() {
        return None;
    }
    Some(ParsedDate {
        value: f.build()?,
        shape: c.shape,
    })
}

/// Reads a date as ARM's `DateTime.Parse` does for the shapes templates use.
pub fn parse_date(s: &str) -> Option<ParsedDate> {
    let t = s.trim_matches(netfmt::is_net_whitespace);
    if !t.is_ascii() {
        return None;
    }
    parse_iso(t).or_else(|| parse_invariant(t))
}

/// An ISO 8601 duration: calendar months (years included) and an exact time span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsoDuration {
    /// Years × 12 + months, signed.
    pub months: i64,
    /// Weeks, days, hours, minutes and seconds, in nanoseconds, signed.
    pub nanos: i128,
}

const NANOS_PER_SECOND: i128 = 1_000_000_000;

/// Parses `[-]PnYnMnWnDTnHnMnS`; seconds (and days, hours, minutes) may carry a fraction.
pub fn parse_duration(s: &str) -> Option<IsoDuration> {
    let t = s.trim_matches(netfmt::is_net_whitespace);
    let (negative, rest) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let rest = rest.strip_prefix(['P', 'p'])?;
    let (date_part, time_part) = match rest.find(['T', 't']) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut months: i64 = 0;
    let mut nanos: i128 = 0;
    let mut any = false;
    for (part, designators) in [(Some(date_part), "YMWD"), (time_part, "HMS")] {
        let Some(mut part) = part else { continue };
        if designators == "HMS" && part.is_empty() {
            return None;
        }
        let mut order = 0;
        while !part.is_empty() {
            let end = part.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))?;
            let (number, unit) = (&part[..end], part[end..].chars().next()?);
            part = &part[end + unit.len_utf8()..];
            let pos = designators.find(unit.to_ascii_uppercase())?;
            if pos < order {
                return None;
            }
            order = pos + 1;
            any = true;
            let (whole, frac) = match number.split_once(['.', ',']) {
                Some((w, f)) => (w, f),
                None => (number, ""),
            };
            if whole.is_empty()
                || whole.len() > 18
                || frac.len() > 9
                || !frac.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let whole: i128 = whole.parse().ok()?;
            let frac_nanos: i128 = format!("{frac:0<9}").parse().ok()?;
            let unit_nanos: i128 = match (designators, unit.to_ascii_uppercase()) {
                ("YMWD", 'Y' | 'M') => {
                    if !frac.is_empty() {
                        return None;
                    }
                    let m = if unit.eq_ignore_ascii_case(&'Y') {
                        whole.checked_mul(12)?
                    } else {
                        whole
                    };
                    months = months.checked_add(i64::try_from(m).ok()?)?;
                    continue;
                }
                ("YMWD", 'W') => 7 * 86_400 * NANOS_PER_SECOND,
                ("YMWD", _) => 86_400 * NANOS_PER_SECOND,
                (_, 'H') => 3_600 * NANOS_PER_SECOND,
                (_, 'M') => 60 * NANOS_PER_SECOND,
                _ => NANOS_PER_SECOND,
            };
            let add = whole.checked_mul(unit_nanos)? + frac_nanos * unit_nanos / NANOS_PER_SECOND;
            nanos = nanos.checked_add(add)?;
        }
    }
    if !any {
        return None;
    }
    Some(if negative {
        IsoDuration {
            months: -months,
            nanos: -nanos,
        }
    } else {
        IsoDuration { months, nanos }
    })
}

/// `DateTime.AddMonths`: the day is clamped to the target month's length.
fn add_months(dt: OffsetDateTime, months: i64) -> Option<OffsetDateTime> {
    let index = i64::from(dt.year()).checked_mul(12)? + i64::from(u8::from(dt.month())) - 1;
    let index = index.checked_add(months)?;
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    if !(1..=9999).contains(&year) {
        return None;
    }
    let month = Month::try_from(u8::try_from(index.rem_euclid(12) + 1).ok()?).ok()?;
    let day = dt.day().min(month.length(year));
    Some(dt.replace_date(Date::from_calendar_date(year, month, day).ok()?))
}

/// Adds a duration: calendar months first, then the exact time span.
pub fn add_duration(dt: OffsetDateTime, d: IsoDuration) -> Option<OffsetDateTime> {
    let dt = if d.months == 0 {
        dt
    } else {
        add_months(dt, d.months)?
    };
    let secs = i64::try_from(d.nanos / NANOS_PER_SECOND).ok()?;
    let sub = i32::try_from(d.nanos % NANOS_PER_SECOND).ok()?;
    let out = dt.checked_add(time::Duration::new(secs, sub))?;
    in_dotnet_range(out).then_some(out)
}

fn not_a_date(name: &str, s: &str) -> FnError {
    FnError::at(
        0,
        format!(
            "Unable to evaluate template language function '{name}': String '{s}' was not recognized as a valid DateTime."
        ),
    )
}

fn date_time_add(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let base = a.str(0)?;
    let duration = a.str(1)?;
    let format = a.opt_str(2)?;
    let parsed = parse_date(base).ok_or_else(|| not_a_date(name, base))?;
    let d = parse_duration(duration).ok_or_else(|| {
        FnError::at(
            1,
            format!("Unable to evaluate template language function '{name}': the duration '{duration}' is not a valid ISO 8601 duration."),
        )
    })?;
    let result = add_duration(parsed.value, d).ok_or_else(|| {
        FnError::call(
            name,
            "The added or subtracted value results in an un-representable DateTime.",
        )
    })?;
    let text = match format {
        Some(f) => netfmt::format_datetime(
            result.checked_to_offset(UtcOffset::UTC).unwrap_or(result),
            f,
        ),
        None => netfmt::format_datetime(result, &parsed.shape),
    };
    text.map(Value::String)
        .map_err(|e| format_error(name, 2, e))
}

fn date_time_from_epoch(
    _: &mut Evaluator<'_>,
    name: &str,
    args: &[Value],
) -> Result<Value, FnError> {
    let epoch = Args::new(name, args).int(0)?;
    let dt = OffsetDateTime::from_unix_timestamp(epoch)
        .ok()
        .filter(|d| in_dotnet_range(*d))
        .ok_or_else(|| {
            FnError::at(
                0,
                format!("Unable to evaluate template language function '{name}': the epoch value '{epoch}' is outside the range of dates (0001-01-01 to 9999-12-31)."),
            )
        })?;
    netfmt::format_datetime(dt, EPOCH_FORMAT)
        .map(Value::String)
        .map_err(|e| format_error(name, 0, e))
}

fn date_time_to_epoch(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let s = Args::new(name, args).str(0)?;
    let parsed = parse_date(s).ok_or_else(|| not_a_date(name, s))?;
    Ok(Value::Int(parsed.value.unix_timestamp()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // A failing test should stop loudly.
mod tests {
    use super::*;

    fn shape_roundtrip(s: &str) -> String {
        let p = parse_date(s).unwrap_or_else(|| panic!("{s} should parse"));
        netfmt::format_datetime(p.value, &p.shape).unwrap()
    }

    #[test]
    fn parsed_dates_print_back_unchanged() {
        for s in [
            "2020-04-07 14:53:14Z",
            "2020-04-07T14:53:14Z",
            "2020-04-07T14:53:14.123Z",
            "2020-04-07T14:53:14.1234567z",
            "20190305T175318Z",
            "2020-04-07",
            "2020-04-07T14:53",
            "2020-04-07T14:53:14+01:00",
            "2020-04-07T14:53:14-0530",
            "2020-04-07T14:53:14",
            "4/7/2020 2:53:14 PM",
            "04/07/2020 14:53:14",
            "4/7/2020",
        ] {
            assert_eq!(shape_roundtrip(s), s);
        }
    }

    #[test]
    fn offsets_and_fractions_are_honoured() {
        let p = parse_date("2020-04-07T14:53:14.5+01:00").unwrap();
        assert_eq!(p.value.unix_timestamp(), 1_586_267_594);
        assert_eq!(p.value.nanosecond(), 500_000_000);
        let p = parse_date("4/7/2020 12:05:00 AM").unwrap();
        assert_eq!(p.value.hour(), 0);
    }

    #[test]
    fn invalid_dates_are_rejected() {
        for s in [
            "",
            "2020",
            "2020-13-01",
            "2020-02-30",
            "2020-04-07T25:00:00Z",
            "2020-04-07X",
            "0000-01-01",
            "2020-04-07T14:53:14+15:00",
            "13/1/2020",
            "2/30/2020 1:00 PM",
            "1/1/2020 13:00 PM",
            "ä",
            "2020-04-07T14:53:14.Z",
        ] {
            assert!(parse_date(s).is_none(), "{s}");
        }
    }

    #[test]
    fn durations_parse_iso8601() {
        let d = parse_duration("P1Y2M3W4DT5H6M7.5S").unwrap();
        assert_eq!(d.months, 14);
        assert_eq!(
            d.nanos,
            ((25 * 86_400 + 5 * 3_600 + 6 * 60 + 7) as i128) * NANOS_PER_SECOND + 500_000_000
        );
        assert_eq!(
            parse_duration("-P9D").unwrap().nanos,
            -9 * 86_400 * NANOS_PER_SECOND
        );
        assert_eq!(
            parse_duration("PT1H").unwrap().nanos,
            3_600 * NANOS_PER_SECOND
        );
        for bad in [
            "",
            "P",
            "PT",
            "1D",
            "P1H",
            "PT1D",
            "P1D2Y",
            "P1.5Y",
            "P-1D",
            "P99999999999999999999D",
            "PTS",
        ] {
            assert!(parse_duration(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn adding_months_clamps_to_month_end() {
        let p = parse_date("2020-01-31T00:00:00Z").unwrap();
        let r = add_duration(p.value, parse_duration("P1M").unwrap()).unwrap();
        assert_eq!(
            netfmt::format_datetime(r, &p.shape).unwrap(),
            "2020-02-29T00:00:00Z"
        );
        let p = parse_date("2020-02-29").unwrap();
        let r = add_duration(p.value, parse_duration("P1Y").unwrap()).unwrap();
        assert_eq!(netfmt::format_datetime(r, &p.shape).unwrap(), "2021-02-28");
        assert!(add_duration(p.value, parse_duration("P8000Y").unwrap()).is_none());
        assert!(add_duration(p.value, parse_duration("-P2020Y").unwrap()).is_none());
    }
}
