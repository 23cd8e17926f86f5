//! Text forms of Avro's logical types, parsed exactly with integer arithmetic:
//! RFC 3339 date-times, dates, times of day, canonical uuids and decimals.

use crate::schema::Unit;

/// Days from 1970-01-01 to the given proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn number(b: &[u8]) -> Option<i64> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0')))
}

fn field(s: &[u8], at: usize, len: usize) -> Option<i64> {
    number(s.get(at..at + len)?)
}

/// `YYYY-MM-DD` → days since the epoch.
pub fn parse_date(s: &str) -> Result<i64, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-');
    let (Some(y), Some(m), Some(d), true) = (field(b, 0, 4), field(b, 5, 2), field(b, 8, 2), shape)
    else {
        return Err("not a YYYY-MM-DD date".into());
    };
    if y < 1 || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err("not a calendar date".into());
    }
    Ok(days_from_civil(y, m, d))
}

/// `HH:MM:SS[.fraction]` → (seconds of the day, fraction digits).
fn parse_clock(s: &str) -> Result<(i64, &str), String> {
    let b = s.as_bytes();
    let shape = b.len() >= 8 && b.get(2) == Some(&b':') && b.get(5) == Some(&b':');
    let (Some(h), Some(m), Some(sec), true) =
        (field(b, 0, 2), field(b, 3, 2), field(b, 6, 2), shape)
    else {
        return Err("not an HH:MM:SS time".into());
    };
    let frac = match s.get(8..) {
        Some("") | None => "",
        Some(rest) => match rest.strip_prefix('.') {
            Some(f) if !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit()) => f,
            _ => return Err("not an HH:MM:SS[.fraction] time".into()),
        },
    };
    if sec == 60 {
        return Err("a leap second (:60) cannot be represented".into());
    }
    if h > 23 || m > 59 || sec > 59 {
        return Err("not a valid time of day".into());
    }
    Ok((h * 3600 + m * 60 + sec, frac))
}

fn unit_per_second(unit: Unit) -> i64 {
    match unit {
        Unit::Millis => 1_000,
        Unit::Micros => 1_000_000,
    }
}

/// Fraction digits in `unit`; digits below the unit must be zeros.
fn fraction(frac: &str, unit: Unit) -> Result<i64, String> {
    let keep = match unit {
        Unit::Millis => 3,
        Unit::Micros => 6,
    };
    let (head, tail) = frac.split_at(frac.len().min(keep));
    if tail.bytes().any(|c| c != b'0') {
        return Err(format!(
            "digits below {} would be lost",
            match unit {
                Unit::Millis => "milliseconds",
                Unit::Micros => "microseconds",
            }
        ));
    }
    let digits = number(head.as_bytes()).unwrap_or(0);
    Ok(digits * 10i64.pow((keep - head.len()) as u32))
}

/// A time of day in `unit` since midnight.
pub fn parse_time(s: &str, unit: Unit) -> Result<i64, String> {
    let (secs, frac) = parse_clock(s)?;
    Ok(secs * unit_per_second(unit) + fraction(frac, unit)?)
}

/// An RFC 3339 date-time in `unit` since the epoch. With `local`, the text
/// must have no offset (a local timestamp); without, the offset is required.
pub fn parse_timestamp(s: &str, unit: Unit, local: bool) -> Result<i64, String> {
    let (date, rest) = match (s.get(..10), s.get(10..11), s.get(11..)) {
        (Some(d), Some("T" | "t"), Some(rest)) => (d, rest),
        (Some(_), None, _) if !s.is_empty() => return Err("a date without a time".into()),
        _ => return Err("not an RFC 3339 date-time".into()),
    };
    let days = parse_date(date)?;
    let clock_len = rest
        .bytes()
        .position(|c| matches!(c, b'Z' | b'z' | b'+' | b'-'))
        .unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(clock_len);
    let offset = match zone {
        "" => None,
        "Z" | "z" => Some(0),
        z => {
            let b = z.as_bytes();
            let (Some(h), Some(m), true) = (
                field(b, 1, 2),
                field(b, 4, 2),
                b.len() == 6 && b.get(3) == Some(&b':'),
            ) else {
                return Err("the offset is not Z or ±HH:MM".into());
            };
            if h > 23 || m > 59 {
                return Err("the offset is not Z or ±HH:MM".into());
            }
            let sign = if b.first() == Some(&b'-') { -1 } else { 1 };
            Some(sign * (h * 3600 + m * 60))
        }
    };
    let (secs, frac) = parse_clock(clock)?;
    let offset = match (offset, local) {
        (Some(_), true) => return Err("a local timestamp takes no offset".into()),
        (None, false) => return Err("no offset: add Z or ±HH:MM".into()),
        (o, _) => o.unwrap_or(0),
    };
    let total = (days * 86_400 + secs - offset) * unit_per_second(unit) + fraction(frac, unit)?;
    Ok(total)
}

/// Whether `s` is a canonical 8-4-4-4-12 hex uuid (either case).
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// A decimal number read exactly: `[+-]digits[.digits][(e|E)[+-]digits]`.
#[derive(Debug, PartialEq, Eq)]
struct Digits {
    negative: bool,
    /// Significant digits, no leading zeros ("" for zero).
    digits: String,
    /// The value is `digits × 10^exponent`.
    exponent: i64,
}

fn parse_digits(s: &str) -> Option<Digits> {
    let (negative, s) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => {
            let e = &s[i + 1..];
            let body = e.strip_prefix(['+', '-']).unwrap_or(e);
            if body.is_empty() || body.len() > 9 || !body.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            (&s[..i], e.parse::<i64>().ok()?)
        }
        None => (s, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty()
        || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let all: String = int.chars().chain(frac.chars()).collect();
    let digits = all.trim_start_matches('0').to_string();
    Some(Digits {
        negative,
        digits,
        exponent: exp - frac.len() as i64,
    })
}

/// The unscaled value of decimal text at `scale`, as two's-complement
/// big-endian bytes: minimal for `bytes` (as fastavro writes them:
/// `(bit_length + 8) // 8` bytes), sign-extended to `fixed` bytes otherwise.
pub fn encode_decimal(
    text: &str,
    precision: u32,
    scale: u32,
    fixed: Option<usize>,
) -> Result<Vec<u8>, String> {
    let Some(d) = parse_digits(text) else {
        return Err("not a decimal number".into());
    };
    let mut digits = d.digits;
    let shift = d.exponent + i64::from(scale);
    if shift < 0 {
        let drop = usize::try_from(-shift).unwrap_or(usize::MAX);
        let cut = digits.len().saturating_sub(drop);
        if digits.bytes().skip(cut).any(|c| c != b'0') {
            return Err(format!("more than {scale} fraction digits would be lost"));
        }
        digits.truncate(cut);
    } else if !digits.is_empty() {
        if shift > i64::from(precision) {
            return Err(format!("more than {precision} digits"));
        }
        digits.extend(std::iter::repeat_n('0', shift as usize));
    }
    if digits.len() > precision as usize {
        return Err(format!("more than {precision} digits"));
    }
    // Magnitude as big-endian bytes: repeated ×10 + digit.
    let mut mag: Vec<u8> = Vec::new();
    for c in digits.bytes() {
        let mut carry = u32::from(c - b'0');
        for byte in mag.iter_mut().rev() {
            let v = u32::from(*byte) * 10 + carry;
            *byte = (v & 0xff) as u8;
            carry = v >> 8;
        }
        while carry > 0 {
            mag.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let bits = mag.first().map_or(0, |b| {
        (mag.len() - 1) * 8 + (8 - b.leading_zeros() as usize)
    });
    let len = match fixed {
        None => (bits + 8) / 8,
        Some(size) => {
            if bits + 1 > size.saturating_mul(8) {
                return Err(format!("does not fit in {size} bytes"));
            }
            size
        }
    };
    let mut out = vec![0u8; len.saturating_sub(mag.len())];
    out.extend_from_slice(&mag);
    if d.negative && bits > 0 {
        // Two's complement: invert, add one.
        let mut carry = true;
        for byte in out.iter_mut().rev() {
            let (v, c) = (!*byte).overflowing_add(u8::from(carry));
            *byte = v;
            carry = c;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1, 1, 1), -719_162);
        assert_eq!(parse_date("2024-02-29"), Ok(19_782));
    }

    #[test]
    fn impossible_dates_are_rejected() {
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "0000-01-01",
            "2026-13-01",
            "2026-1-01",
            "x",
        ] {
            assert!(parse_date(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_convert_offsets_to_utc() {
        let ms = |s| parse_timestamp(s, Unit::Millis, false);
        assert_eq!(ms("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(ms("1970-01-01t01:00:00+01:00"), Ok(0));
        assert_eq!(ms("1969-12-31T23:59:59.999z"), Ok(-1));
        assert_eq!(ms("2026-01-21T10:00:00.123000Z"), Ok(1_768_989_600_123));
        assert_eq!(
            parse_timestamp("2026-01-21T10:00:00.123456-00:30", Unit::Micros, false),
            Ok(1_768_991_400_123_456)
        );
    }

    #[test]
    fn timestamps_reject_lost_digits_leap_seconds_and_wrong_offsets() {
        let ms = |s| parse_timestamp(s, Unit::Millis, false);
        assert!(ms("2026-01-21T10:00:00.1234Z").is_err());
        assert!(ms("2016-12-31T23:59:60Z").is_err());
        assert!(ms("2026-01-21T10:00:00").is_err());
        assert!(ms("2026-01-21 10:00:00Z").is_err());
        assert!(ms("2026-01-21T10:00:00+1:00").is_err());
        assert!(ms("2026-01-21").is_err());
        assert!(parse_timestamp("2026-01-21T10:00:00Z", Unit::Millis, true).is_err());
        assert_eq!(
            parse_timestamp("1970-01-01T00:00:01", Unit::Millis, true),
            Ok(1000)
        );
    }

    #[test]
    fn times_of_day() {
        assert_eq!(parse_time("00:00:01.5", Unit::Millis), Ok(1500));
        assert_eq!(
            parse_time("23:59:59.999999", Unit::Micros),
            Ok(86_399_999_999)
        );
        assert!(parse_time("24:00:00", Unit::Millis).is_err());
        assert!(parse_time("12:00:00.0001", Unit::Millis).is_err());
        assert!(parse_time("12:00:00.", Unit::Millis).is_err());
    }

    #[test]
    fn uuids_must_be_canonical() {
        assert!(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
        assert!(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
        assert!(!is_uuid("123e4567e89b12d3a456426614174000"));
        assert!(!is_uuid("not-a-uuid"));
    }

    #[test]
    fn decimals_match_fastavro_bytes() {
        let b = |t, p, s| encode_decimal(t, p, s, None);
        assert_eq!(b("199.99", 10, 2), Ok(vec![0x4e, 0x1f]));
        assert_eq!(b("-1", 5, 0), Ok(vec![0xff]));
        assert_eq!(b("-128", 5, 0), Ok(vec![0xff, 0x80]));
        assert_eq!(b("127", 5, 0), Ok(vec![0x7f]));
        assert_eq!(b("128", 5, 0), Ok(vec![0x00, 0x80]));
        assert_eq!(b("0", 5, 2), Ok(vec![0x00]));
        assert_eq!(b("-0.00", 5, 2), Ok(vec![0x00]));
        assert_eq!(b("1.50", 5, 1), Ok(vec![0x0f]));
        assert_eq!(b("1E+2", 5, 0), Ok(vec![0x64]));
        assert!(b("199.999", 10, 2).is_err());
        assert!(b("1000", 3, 0).is_err());
        assert!(b("1e999999999", 3, 0).is_err());
        assert!(b("NaN", 3, 0).is_err());
        assert!(b("1.2.3", 3, 0).is_err());
        assert_eq!(
            encode_decimal("-1", 4, 0, Some(3)),
            Ok(vec![0xff, 0xff, 0xff])
        );
        assert_eq!(encode_decimal("1", 4, 0, Some(3)), Ok(vec![0, 0, 1]));
    }
}
