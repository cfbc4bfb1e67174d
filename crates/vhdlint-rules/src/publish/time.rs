//! UTC date-times as Azure SAS tokens write them, business days, and the proleptic Gregorian
//! calendar behind them (also the waivers' `YYYY-MM-DD` dates).

/// Seconds since the Unix epoch (UTC).
pub type Timestamp = i64;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number: (year, month, day).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a full UTC date-time, `YYYY-MM-DDTHH:MM:SSZ` with optional fractional seconds, the
/// form the Marketplace requires ("shortened versions are invalid"). `Err` says what is wrong.
pub fn parse_full(s: &str) -> Result<Timestamp, String> {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0i64, |a, &c| a * 10 + i64::from(c - b'0')))
    };
    let shape = || format!("\"{s}\" is not a full UTC date-time (YYYY-MM-DDTHH:MM:SSZ)");
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
        || b[b.len() - 1] != b'Z'
    {
        return Err(shape());
    }
    let frac = &b[19..b.len() - 1];
    if !frac.is_empty()
        && (frac[0] != b'.' || frac.len() < 2 || !frac[1..].iter().all(u8::is_ascii_digit))
    {
        return Err(shape());
    }
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) = (
        digits(0..4),
        digits(5..7),
        digits(8..10),
        digits(11..13),
        digits(14..16),
        digits(17..19),
    ) else {
        return Err(shape());
    };
    let (mo, d) = (mo as u32, d as u32);
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59
    {
        return Err(format!("\"{s}\" is not a valid date-time"));
    }
    Ok(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format(t: Timestamp) -> String {
    let (y, m, d) = civil_from_days(t.div_euclid(86_400));
    let s = t.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// Monday = 0 … Sunday = 6.
pub fn weekday(t: Timestamp) -> i64 {
    // 1970-01-01 was a Thursday.
    (t.div_euclid(86_400) + 3).rem_euclid(7)
}

/// The instant `n` business days (Monday to Friday) after `t`, at the same time of day.
pub fn add_business_days(t: Timestamp, n: u32) -> Timestamp {
    let mut t = t;
    let mut left = n;
    while left > 0 {
        t += 86_400;
        if weekday(t) < 5 {
            left -= 1;
        }
    }
    t
}

/// Now, from the system clock.
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_date_times_only() {
        assert_eq!(parse_full("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(
            parse_full("2026-11-23T10:30:00Z").map(format),
            Ok("2026-11-23T10:30:00Z".into())
        );
        assert_eq!(
            parse_full("2026-11-23T10:30:00.1234567Z").map(format),
            Ok("2026-11-23T10:30:00Z".into())
        );
        for bad in [
            "2026-11-23",
            "2026-11-23T10:30Z",
            "2026-11-23T10:30:00",
            "2026-11-23T10:30:00+01:00",
            "2026-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-11-23T24:00:00Z",
            "2026-11-23T10:30:00.Z",
            "２026-11-23T10:30:00Z",
        ] {
            assert!(parse_full(bad).is_err(), "{bad}");
        }
        assert!(parse_full("2024-02-29T00:00:00Z").is_ok());
    }

    #[test]
    fn business_days_skip_weekends() {
        // 2026-11-20 is a Friday.
        let fri = parse_full("2026-11-20T09:00:00Z").unwrap();
        assert_eq!(weekday(fri), 4);
        assert_eq!(format(add_business_days(fri, 1)), "2026-11-23T09:00:00Z");
        assert_eq!(format(add_business_days(fri, 7)), "2026-12-01T09:00:00Z");
        for d in -1000..1000 {
            let t = d * 86_400;
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
            assert_eq!(parse_full(&format(t)), Ok(t));
        }
    }
}
