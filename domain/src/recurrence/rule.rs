//! Reading an RRULE value (RFC 5545 §3.3.10) into a [`Rule`], refusing what we do not support
//! and everything the RFC forbids.
//!
//! The `rrule` crate has a parser of its own, but it is lenient where we must be exact: it takes
//! lower-case names, an `RRULE:` prefix, COUNT together with UNTIL and parts we do not support,
//! and it reads an ordinal BYDAY under WEEKLY instead of refusing it. So we read the text here,
//! check every rule of the RFC, and hand the crate only rules already known to be good.

use chrono::{DateTime, NaiveDateTime, Utc, Weekday};
use std::fmt;

/// How often a rule repeats. Sub-daily frequencies are not supported: a dispatch calendar has
/// no use for them and they would make a single request expand millions of occurrences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

impl Freq {
    fn name(self) -> &'static str {
        match self {
            Freq::Daily => "DAILY",
            Freq::Weekly => "WEEKLY",
            Freq::Monthly => "MONTHLY",
            Freq::Yearly => "YEARLY",
        }
    }
}

/// A BYDAY entry: every such weekday of the period, or the nth (negative: from the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByDay {
    pub nth: Option<i8>,
    pub weekday: Weekday,
}

/// A recurrence rule that passed every check; [`fmt::Display`] writes it back in canonical form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub freq: Freq,
    pub interval: u16,
    pub count: Option<u32>,
    pub until: Option<DateTime<Utc>>,
    pub by_day: Vec<ByDay>,
    pub by_month_day: Vec<i8>,
    pub by_month: Vec<u8>,
    pub by_set_pos: Vec<i16>,
    pub wkst: Weekday,
}

/// Why a rule was refused; the message is for the person who wrote the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, RuleError> {
    Err(RuleError(message.into()))
}

/// Longest rule text read; a real rule is well under 200 characters.
pub const MAX_RULE_LEN: usize = 1_000;

/// Largest INTERVAL. The RFC sets no bound; the expansion engine counts periods in 16 bits, and
/// 65,535 days is already 179 years.
pub const MAX_INTERVAL: u16 = u16::MAX;

impl Rule {
    /// Reads `text`: `NAME=VALUE` parts separated by `;`, upper-case, in any order, each once.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        if text.len() > MAX_RULE_LEN {
            return err(format!("is longer than {MAX_RULE_LEN} characters"));
        }
        if text.is_empty() {
            return err("is empty; give at least FREQ");
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut freq = None;
        let mut interval = 1;
        let mut count = None;
        let mut until = None;
        let mut by_day = Vec::new();
        let mut by_month_day = Vec::new();
        let mut by_month = Vec::new();
        let mut by_set_pos = Vec::new();
        let mut wkst = Weekday::Mon;
        for part in text.split(';') {
            let Some((name, value)) = part.split_once('=') else {
                return err(format!("part `{}` is not NAME=VALUE", shorten(part)));
            };
            if seen.contains(&name) {
                return err(format!("{name} is given more than once"));
            }
            if value.is_empty() {
                return err(format!("{name} has no value"));
            }
            match name {
                "FREQ" => freq = Some(parse_freq(value)?),
                "INTERVAL" => interval = parse_interval(value)?,
                "COUNT" => count = Some(parse_count(value)?),
                "UNTIL" => until = Some(parse_until(value)?),
                "BYDAY" => by_day = list(value, "BYDAY", parse_by_day)?,
                "BYMONTHDAY" => {
                    by_month_day = list(value, "BYMONTHDAY", |v| signed(v, "BYMONTHDAY", 31))?
                }
                "BYMONTH" => by_month = list(value, "BYMONTH", parse_month)?,
                "BYSETPOS" => by_set_pos = list(value, "BYSETPOS", |v| signed(v, "BYSETPOS", 366))?,
                "WKST" => wkst = parse_weekday(value, "WKST")?,
                "BYHOUR" | "BYMINUTE" | "BYSECOND" | "BYYEARDAY" | "BYWEEKNO" => {
                    return err(format!(
                        "{name} is not supported; occurrences keep the start's time of day"
                    ));
                }
                other if is_rule_name(other) => {
                    return err(format!("part `{}` is not supported", shorten(other)));
                }
                other => {
                    return err(format!(
                        "part `{}` is not an upper-case rule part name",
                        shorten(other)
                    ));
                }
            }
            seen.push(name);
        }
        let Some(freq) = freq else {
            return err("FREQ is required");
        };
        if count.is_some() && until.is_some() {
            return err("COUNT and UNTIL must not be given together");
        }
        if by_day.iter().any(|d: &ByDay| d.nth.is_some())
            && matches!(freq, Freq::Daily | Freq::Weekly)
        {
            return err(format!(
                "BYDAY with an ordinal (such as 1MO) needs FREQ=MONTHLY or YEARLY, not {}",
                freq.name()
            ));
        }
        if freq == Freq::Weekly && !by_month_day.is_empty() {
            return err("BYMONTHDAY must not be used with FREQ=WEEKLY");
        }
        if !by_set_pos.is_empty()
            && by_day.is_empty()
            && by_month_day.is_empty()
            && by_month.is_empty()
        {
            return err("BYSETPOS needs another BYxxx part to select from");
        }
        dedup(&mut by_month_day);
        dedup(&mut by_month);
        dedup(&mut by_set_pos);
        let mut seen_days = Vec::with_capacity(by_day.len());
        for d in by_day {
            if !seen_days.contains(&d) {
                seen_days.push(d);
            }
        }
        Ok(Rule {
            freq,
            interval,
            count,
            until,
            by_day: seen_days,
            by_month_day,
            by_month,
            by_set_pos,
            wkst,
        })
    }
}

/// The first 40 characters of `text`, so an error never echoes a huge value.
fn shorten(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

fn is_rule_name(name: &str) -> bool {
    matches!(name, "RSCALE" | "SKIP") || name.starts_with("X-")
}

fn dedup<T: Ord>(values: &mut Vec<T>) {
    values.sort_unstable();
    values.dedup();
}

fn list<T>(
    value: &str,
    name: &str,
    item: impl Fn(&str) -> Result<T, RuleError>,
) -> Result<Vec<T>, RuleError> {
    value
        .split(',')
        .map(|v| {
            if v.is_empty() {
                err(format!("{name} has an empty entry"))
            } else {
                item(v)
            }
        })
        .collect()
}

fn parse_freq(value: &str) -> Result<Freq, RuleError> {
    match value {
        "DAILY" => Ok(Freq::Daily),
        "WEEKLY" => Ok(Freq::Weekly),
        "MONTHLY" => Ok(Freq::Monthly),
        "YEARLY" => Ok(Freq::Yearly),
        "SECONDLY" | "MINUTELY" | "HOURLY" => err(format!(
            "FREQ={value} is not supported; use DAILY, WEEKLY, MONTHLY or YEARLY"
        )),
        other => err(format!(
            "FREQ `{}` is not a frequency; use DAILY, WEEKLY, MONTHLY or YEARLY",
            shorten(other)
        )),
    }
}

/// Digits only, as the RFC's grammar has it: no sign, no spaces.
fn unsigned(value: &str, name: &str) -> Result<u64, RuleError> {
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return err(format!(
            "{name} must be a whole number, not `{}`",
            shorten(value)
        ));
    }
    // Leading zeros are allowed; a value too long for u64 is certainly too big.
    let digits = value.trim_start_matches('0');
    if digits.len() > 19 {
        return Ok(u64::MAX);
    }
    Ok(digits.parse::<u64>().unwrap_or(0))
}

fn parse_interval(value: &str) -> Result<u16, RuleError> {
    match unsigned(value, "INTERVAL")? {
        0 => err("INTERVAL must be at least 1"),
        n => u16::try_from(n)
            .map_err(|_| RuleError(format!("INTERVAL must be at most {MAX_INTERVAL}"))),
    }
}

fn parse_count(value: &str) -> Result<u32, RuleError> {
    match unsigned(value, "COUNT")? {
        0 => err("COUNT must be at least 1"),
        // More than there are days between year 0 and 9999 can never bind; see `Series`.
        n => Ok(u32::try_from(n).unwrap_or(u32::MAX)),
    }
}

/// `YYYYMMDDTHHMMSSZ`, nothing else.
fn parse_until(value: &str) -> Result<DateTime<Utc>, RuleError> {
    let form = value.len() == 16
        && value.ends_with('Z')
        && value.as_bytes().get(8) == Some(&b'T')
        && value
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit());
    if !form {
        return err(format!(
            "UNTIL must be a UTC date-time such as 20261231T235959Z, not `{}`",
            shorten(value)
        ));
    }
    NaiveDateTime::parse_from_str(&value[..15], "%Y%m%dT%H%M%S")
        .map(|naive| naive.and_utc())
        .map_err(|_| RuleError(format!("UNTIL `{value}` is not a real date-time")))
}

fn parse_weekday(value: &str, name: &str) -> Result<Weekday, RuleError> {
    Ok(match value {
        "MO" => Weekday::Mon,
        "TU" => Weekday::Tue,
        "WE" => Weekday::Wed,
        "TH" => Weekday::Thu,
        "FR" => Weekday::Fri,
        "SA" => Weekday::Sat,
        "SU" => Weekday::Sun,
        other => {
            return err(format!(
                "{name}: `{}` is not a weekday (MO, TU, WE, TH, FR, SA, SU)",
                shorten(other)
            ));
        }
    })
}

/// `[+|-]n` with 1 <= n <= `max`.
fn signed<T: TryFrom<i64>>(value: &str, name: &str, max: i64) -> Result<T, RuleError> {
    let (sign, digits) = match value.as_bytes().first() {
        Some(b'-') => (-1, &value[1..]),
        Some(b'+') => (1, &value[1..]),
        _ => (1, value),
    };
    let out_of_range = || {
        RuleError(format!(
            "{name}: `{}` must be 1 to {max} or -{max} to -1",
            shorten(value)
        ))
    };
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(out_of_range());
    }
    let n: i64 = digits.parse().map_err(|_| out_of_range())?;
    if n == 0 || n > max {
        return Err(out_of_range());
    }
    T::try_from(sign * n).map_err(|_| out_of_range())
}

fn parse_by_day(value: &str) -> Result<ByDay, RuleError> {
    let split = value.len().saturating_sub(2);
    let (nth, day) = (value.get(..split), value.get(split..));
    let (Some(nth), Some(day)) = (nth, day) else {
        return err(format!("BYDAY: `{}` is not a weekday", shorten(value)));
    };
    let weekday = parse_weekday(day, "BYDAY")?;
    let nth = if nth.is_empty() {
        None
    } else {
        Some(signed::<i8>(nth, "BYDAY's ordinal", 53)?)
    };
    Ok(ByDay { nth, weekday })
}

fn parse_month(value: &str) -> Result<u8, RuleError> {
    match unsigned(value, "BYMONTH")? {
        n @ 1..=12 => Ok(n as u8),
        _ => err(format!("BYMONTH: `{}` must be 1 to 12", shorten(value))),
    }
}

fn weekday_code(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn join<T>(values: &[T], each: impl Fn(&T) -> String) -> String {
    values.iter().map(each).collect::<Vec<_>>().join(",")
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FREQ={}", self.freq.name())?;
        if self.interval != 1 {
            write!(f, ";INTERVAL={}", self.interval)?;
        }
        if let Some(count) = self.count {
            write!(f, ";COUNT={count}")?;
        }
        if let Some(until) = self.until {
            write!(f, ";UNTIL={}", until.format("%Y%m%dT%H%M%SZ"))?;
        }
        if !self.by_month.is_empty() {
            write!(f, ";BYMONTH={}", join(&self.by_month, u8::to_string))?;
        }
        if !self.by_month_day.is_empty() {
            write!(f, ";BYMONTHDAY={}", join(&self.by_month_day, i8::to_string))?;
        }
        if !self.by_day.is_empty() {
            let days = join(&self.by_day, |d| match d.nth {
                Some(n) => format!("{n}{}", weekday_code(d.weekday)),
                None => weekday_code(d.weekday).to_owned(),
            });
            write!(f, ";BYDAY={days}")?;
        }
        if !self.by_set_pos.is_empty() {
            write!(f, ";BYSETPOS={}", join(&self.by_set_pos, i16::to_string))?;
        }
        if self.wkst != Weekday::Mon {
            write!(f, ";WKST={}", weekday_code(self.wkst))?;
        }
        Ok(())
    }
}
