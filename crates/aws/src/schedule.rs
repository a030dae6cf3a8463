//! EventBridge schedule expressions: `rate(5 minutes)`, `cron(0 9 ? * MON-FRI *)` (six fields:
//! minutes, hours, day-of-month, month, day-of-week, year; `*`, `?`, lists, ranges, steps, names,
//! `L` for the last day of the month, `N#K` for the Kth weekday N) and `at(2030-01-01T00:00:00)`.
//! Times are UTC, or the wall clock of an IANA time zone (EventBridge Scheduler's
//! `ScheduleExpressionTimezone`): a cron time that does not exist on the day the clocks go forward
//! is skipped, and one that occurs twice when they go back fires once, as the Scheduler does;
//! rates are durations and are not affected.

use std::time::Duration;

use jiff::tz::{AmbiguousOffset, TimeZone};

/// A parsed schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Schedule {
    Rate(Duration),
    Cron(Box<Cron>),
    /// Once, at this many seconds after the epoch.
    At(i64),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    /// Day of month 1-31 (index 0 unused); `None` is `?`.
    days: Option<Vec<bool>>,
    last_day: bool,
    months: Vec<bool>,
    /// Day of week 1-7, SUN=1; `None` is `?`.
    weekdays: Option<Vec<bool>>,
    /// `(weekday, nth)` for `N#K`.
    nth_weekday: Option<(u32, u32)>,
    years: Option<(i64, i64, i64)>,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn value(text: &str, names: &[&str], offset: u32) -> Option<u32> {
    if let Ok(number) = text.parse::<u32>() {
        return Some(number);
    }
    names
        .iter()
        .position(|n| n.eq_ignore_ascii_case(text))
        .map(|i| i as u32 + offset)
}

/// Parses one field into the set of values in `min..=max` it allows.
fn field(text: &str, min: u32, max: u32, names: &[&str], offset: u32) -> Result<Vec<bool>, String> {
    let mut allowed = vec![false; max as usize + 1];
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((range, step)) => (range, step.parse::<u32>().map_err(|_| format!("bad step in {part}"))?),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("bad step in {part}"));
        }
        let (start, end) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                value(a, names, offset).ok_or_else(|| format!("bad value {a}"))?,
                value(b, names, offset).ok_or_else(|| format!("bad value {b}"))?,
            )
        } else {
            let single = value(range, names, offset).ok_or_else(|| format!("bad value {range}"))?;
            (single, if part.contains('/') { max } else { single })
        };
        if start < min || end > max || start > end {
            return Err(format!("{part} is out of range {min}-{max}"));
        }
        let mut current = start;
        while current <= end {
            allowed[current as usize] = true;
            current += step;
        }
    }
    Ok(allowed)
}

impl Schedule {
    pub fn parse(expression: &str) -> Result<Schedule, String> {
        let expression = expression.trim();
        if let Some(inner) = expression.strip_prefix("rate(").and_then(|e| e.strip_suffix(')')) {
            let mut parts = inner.split_whitespace();
            let amount: u64 = parts
                .next()
                .and_then(|a| a.parse().ok())
                .filter(|a| *a > 0)
                .ok_or_else(|| format!("{expression}: the rate needs a positive whole number"))?;
            let unit = parts.next().unwrap_or("");
            let seconds = match unit {
                "minute" | "minutes" => 60,
                "hour" | "hours" => 3600,
                "day" | "days" => 86_400,
                _ => return Err(format!("{expression}: the unit must be minute(s), hour(s) or day(s)")),
            };
            if (amount == 1) != unit.ends_with(|c| c != 's') {
                return Err(format!(
                    "{expression}: use the singular unit for 1 and the plural otherwise"
                ));
            }
            return Ok(Schedule::Rate(Duration::from_secs(amount * seconds)));
        }
        if let Some(inner) = expression.strip_prefix("at(").and_then(|e| e.strip_suffix(')')) {
            return parse_at(inner)
                .map(Schedule::At)
                .ok_or_else(|| format!("{expression}: expected at(yyyy-mm-ddThh:mm:ss)"));
        }
        if let Some(inner) = expression.strip_prefix("cron(").and_then(|e| e.strip_suffix(')')) {
            let fields: Vec<&str> = inner.split_whitespace().collect();
            let [minutes, hours, days, months, weekdays, years] = fields.as_slice() else {
                return Err(format!("{expression}: a cron expression has six fields"));
            };
            if (*days == "?") == (*weekdays == "?") {
                return Err(format!(
                    "{expression}: one of day-of-month and day-of-week must be ?, the other not"
                ));
            }
            let mut nth_weekday = None;
            let weekdays = if *weekdays == "?" {
                None
            } else if let Some((day, nth)) = weekdays.split_once('#') {
                let day = value(day, &WEEKDAYS, 1)
                    .filter(|d| (1..=7).contains(d))
                    .ok_or_else(|| format!("{expression}: bad weekday"))?;
                let nth: u32 = nth
                    .parse()
                    .ok()
                    .filter(|n| (1..=5).contains(n))
                    .ok_or_else(|| format!("{expression}: bad #"))?;
                nth_weekday = Some((day, nth));
                Some(vec![false; 8])
            } else {
                Some(field(weekdays, 1, 7, &WEEKDAYS, 1).map_err(|e| format!("{expression}: day-of-week: {e}"))?)
            };
            let (days, last_day) = match *days {
                "?" => (None, false),
                "L" => (Some(vec![false; 32]), true),
                text => (
                    Some(field(text, 1, 31, &[], 0).map_err(|e| format!("{expression}: day-of-month: {e}"))?),
                    false,
                ),
            };
            let years = if *years == "*" {
                None
            } else if let Some((a, b)) = years.split_once('-') {
                let a: i64 = a.parse().map_err(|_| format!("{expression}: bad year"))?;
                let b: i64 = b.parse().map_err(|_| format!("{expression}: bad year"))?;
                Some((a, b, 1))
            } else {
                let year: i64 = years.parse().map_err(|_| format!("{expression}: bad year"))?;
                Some((year, year, 1))
            };
            return Ok(Schedule::Cron(Box::new(Cron {
                minutes: field(minutes, 0, 59, &[], 0).map_err(|e| format!("{expression}: minutes: {e}"))?,
                hours: field(hours, 0, 23, &[], 0).map_err(|e| format!("{expression}: hours: {e}"))?,
                days,
                last_day,
                months: field(months, 1, 12, &MONTHS, 1).map_err(|e| format!("{expression}: month: {e}"))?,
                weekdays,
                nth_weekday,
                years,
            })));
        }
        Err(format!("{expression}: a schedule is rate(...), cron(...) or at(...)"))
    }

    /// The first fire time strictly after `after` (epoch seconds), if any within ten years.
    pub fn next_after(&self, after: i64) -> Option<i64> {
        match self {
            Schedule::Rate(every) => {
                let every = every.as_secs().max(60) as i64;
                Some(after - after.rem_euclid(every) + every)
            }
            Schedule::At(at) => (*at > after).then_some(*at),
            Schedule::Cron(cron) => cron.next_after(after),
        }
    }

    /// [`Schedule::next_after`] with cron and `at` times read on `zone`'s wall clock.
    pub fn next_after_in(&self, after: i64, zone: Option<&TimeZone>) -> Option<i64> {
        let Some(zone) = zone else {
            return self.next_after(after);
        };
        match self {
            Schedule::Rate(_) => self.next_after(after),
            // A one-time schedule in a gap fires at the first instant after it, in a fold at the
            // earlier of the two (`compatible` disambiguation).
            Schedule::At(local) => {
                let at = zone
                    .to_ambiguous_timestamp(civil(*local)?)
                    .compatible()
                    .ok()?
                    .as_second();
                (at > after).then_some(at)
            }
            Schedule::Cron(cron) => {
                // Walk wall-clock minutes (read as if they were UTC) and map each back to an
                // instant: none in a gap (skipped), the earlier one in a fold (so a time the clocks
                // repeat fires once).
                let mut local = after.checked_add(offset_seconds(zone, after))?;
                for _ in 0..100_000 {
                    let candidate = cron.next_after(local)?;
                    if let Some(at) = earliest_instant(zone, candidate)
                        && at > after
                    {
                        return Some(at);
                    }
                    local = candidate;
                }
                None
            }
        }
    }
}

/// The UTC offset of `zone` at the instant `epoch` (seconds east of UTC).
fn offset_seconds(zone: &TimeZone, epoch: i64) -> i64 {
    jiff::Timestamp::from_second(epoch).map_or(0, |t| i64::from(zone.to_offset(t).seconds()))
}

/// A wall-clock time given as seconds since the epoch read as UTC, as a civil datetime.
fn civil(local: i64) -> Option<jiff::civil::DateTime> {
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let in_day = local.rem_euclid(86_400);
    jiff::civil::DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(in_day / 3600).ok()?,
        i8::try_from(in_day % 3600 / 60).ok()?,
        i8::try_from(in_day % 60).ok()?,
        0,
    )
    .ok()
}

/// The earliest instant at which `zone`'s clock reads `local`; `None` when it never does (the
/// hour skipped when the clocks go forward).
fn earliest_instant(zone: &TimeZone, local: i64) -> Option<i64> {
    let datetime = civil(local)?;
    match zone.to_ambiguous_timestamp(datetime).offset() {
        AmbiguousOffset::Unambiguous { offset } => Some(local - i64::from(offset.seconds())),
        AmbiguousOffset::Gap { .. } => None,
        AmbiguousOffset::Fold { before, after } => Some(local - i64::from(before.seconds().max(after.seconds()))),
    }
}

/// The IANA time zone of a `ScheduleExpressionTimezone` (`America/New_York`, `UTC`); a name the
/// time zone database does not know is an error (the schedule is not run).
pub fn time_zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name)
        .map_err(|_| format!("unknown ScheduleExpressionTimezone '{name}' (not in the IANA time zone database)"))
}

impl Cron {
    fn next_after(&self, after: i64) -> Option<i64> {
        // Minute by minute would be slow for sparse schedules: walk days, then minutes.
        let start_minute = after.div_euclid(60) + 1;
        let first_day = start_minute.div_euclid(1440);
        for day in first_day..first_day + 3660 {
            let (year, month, date) = civil_from_days(day);
            if !self.day_matches(year, month, date, day) {
                continue;
            }
            let from = if day == first_day {
                start_minute.rem_euclid(1440)
            } else {
                0
            };
            for minute_of_day in from..1440 {
                let (hour, minute) = ((minute_of_day / 60) as usize, (minute_of_day % 60) as usize);
                if self.hours[hour] && self.minutes[minute] {
                    return Some((day * 1440 + minute_of_day) * 60);
                }
            }
        }
        None
    }

    fn day_matches(&self, year: i64, month: u32, date: u32, day: i64) -> bool {
        if let Some((from, to, _)) = self.years
            && (year < from || year > to)
        {
            return false;
        }
        if !self.months[month as usize] {
            return false;
        }
        // 1970-01-01 was a Thursday (weekday 5 with SUN=1).
        let weekday = ((day + 4).rem_euclid(7) + 1) as u32;
        if let Some((wanted, nth)) = self.nth_weekday {
            return weekday == wanted && (date - 1) / 7 + 1 == nth;
        }
        if let Some(weekdays) = &self.weekdays {
            return weekdays[weekday as usize];
        }
        if self.last_day {
            return date == days_in_month(year, month);
        }
        self.days.as_ref().is_some_and(|days| days[date as usize])
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    stratus_lambda::ids::civil_from_days(days)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2030-01-01T00:00:00` → epoch seconds.
fn parse_at(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (d.next()??, d.next()?? as u32, d.next()?? as u32);
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hour, minute, second) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// An ISO 8601 UTC time without fractions (the scheduled event's `time`).
pub fn iso_seconds(epoch_seconds: i64) -> String {
    let (year, month, day) = civil_from_days(epoch_seconds.div_euclid(86_400));
    let in_day = epoch_seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        parse_at(text).unwrap_or(-1)
    }

    #[test]
    fn rates_fire_on_their_period() {
        let schedule = Schedule::parse("rate(5 minutes)").unwrap_or(Schedule::At(0));
        assert_eq!(schedule, Schedule::Rate(Duration::from_secs(300)));
        assert_eq!(
            schedule.next_after(at("2026-12-03T08:01:10")),
            Some(at("2026-12-03T08:05:00"))
        );
        assert!(Schedule::parse("rate(1 minutes)").is_err());
        assert!(Schedule::parse("rate(2 minute)").is_err());
        assert!(Schedule::parse("rate(0 hours)").is_err());
        assert!(Schedule::parse("rate(1 hour)").is_ok());
    }

    #[test]
    fn cron_follows_eventbridge_fields() {
        let cases = [
            // 10:15 UTC every day.
            ("cron(15 10 * * ? *)", "2026-12-03T10:15:00", "2026-12-04T10:15:00"),
            // 9:00 on weekdays: Thursday 3 December 2026 is a weekday, Saturday is not.
            ("cron(0 9 ? * MON-FRI *)", "2026-12-03T09:00:00", "2026-12-04T09:00:00"),
            ("cron(0 9 ? * MON-FRI *)", "2026-12-04T09:00:00", "2026-12-07T09:00:00"),
            // The last day of the month.
            ("cron(0 0 L * ? *)", "2026-12-03T00:00:00", "2026-12-31T00:00:00"),
            // Every 10 minutes.
            ("cron(0/10 * * * ? *)", "2026-12-03T08:01:00", "2026-12-03T08:10:00"),
            // The first Monday of the month.
            ("cron(0 12 ? * 2#1 *)", "2026-12-03T00:00:00", "2026-12-07T12:00:00"),
            // 3:00 on the 1st and 15th of March only.
            ("cron(0 3 1,15 MAR ? *)", "2026-12-03T00:00:00", "2027-03-01T03:00:00"),
        ];
        for (expression, after, expected) in cases {
            let schedule = Schedule::parse(expression).unwrap_or(Schedule::At(0));
            assert_eq!(
                schedule.next_after(at(after)),
                Some(at(expected)),
                "{expression} after {after}"
            );
        }
        for bad in [
            "cron(0 9 * * * *)",
            "cron(0 9 ? * ? *)",
            "cron(61 9 * * ? *)",
            "cron(0 9 * *)",
            "every day",
        ] {
            assert!(Schedule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cron_in_a_time_zone_skips_the_missing_hour_and_fires_once_in_the_repeated_one() {
        let Ok(new_york) = time_zone("America/New_York") else {
            panic!("no America/New_York in the time zone database");
        };
        let zone = Some(&new_york);
        // 09:00 New York is 14:00 UTC in winter (EST) and 13:00 UTC in summer (EDT).
        let daily = Schedule::parse("cron(0 9 * * ? *)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            daily.next_after_in(at("2026-01-15T00:00:00"), zone),
            Some(at("2026-01-15T14:00:00"))
        );
        assert_eq!(
            daily.next_after_in(at("2026-07-15T00:00:00"), zone),
            Some(at("2026-07-15T13:00:00"))
        );
        // 2026-03-08: 02:00-02:59 does not exist; 02:30 is skipped that day.
        let half_past_two = Schedule::parse("cron(30 2 * * ? *)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            half_past_two.next_after_in(at("2026-03-08T05:00:00"), zone),
            Some(at("2026-03-09T06:30:00"))
        );
        // 2026-11-01: 01:00-01:59 happens twice (EDT, then EST); 01:30 fires only the first time.
        let half_past_one = Schedule::parse("cron(30 1 * * ? *)").unwrap_or_else(|e| panic!("{e}"));
        let first = half_past_one.next_after_in(at("2026-11-01T04:00:00"), zone);
        assert_eq!(first, Some(at("2026-11-01T05:30:00")));
        assert_eq!(
            half_past_one.next_after_in(at("2026-11-01T05:30:00"), zone),
            Some(at("2026-11-02T06:30:00"))
        );
        // Every 30 minutes through the repeated hour: 01:00 and 01:30 once each, then 02:00 EST.
        let every_half_hour = Schedule::parse("cron(0/30 * * * ? *)").unwrap_or_else(|e| panic!("{e}"));
        let mut fired = Vec::new();
        let mut after = at("2026-11-01T04:45:00");
        for _ in 0..3 {
            let Some(next) = every_half_hour.next_after_in(after, zone) else {
                panic!("no next fire after {after}");
            };
            fired.push(iso_seconds(next));
            after = next;
        }
        assert_eq!(
            fired,
            ["2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z"]
        );
        // Rates are durations: the zone changes nothing.
        let rate = Schedule::parse("rate(1 hour)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rate.next_after_in(at("2026-03-08T06:10:00"), zone),
            rate.next_after(at("2026-03-08T06:10:00"))
        );
        // at() is a wall-clock time in the zone.
        let once = Schedule::parse("at(2026-07-04T12:00:00)").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            once.next_after_in(at("2026-07-01T00:00:00"), zone),
            Some(at("2026-07-04T16:00:00"))
        );
        assert_eq!(
            time_zone("Mars/Olympus_Mons").map(|_| ()),
            Err(
                "unknown ScheduleExpressionTimezone 'Mars/Olympus_Mons' (not in the IANA time zone database)"
                    .to_string()
            )
        );
    }

    #[test]
    fn at_fires_once() {
        let schedule = Schedule::parse("at(2030-01-01T00:00:00)").unwrap_or(Schedule::At(0));
        assert_eq!(
            schedule.next_after(at("2029-12-31T23:59:00")),
            Some(at("2030-01-01T00:00:00"))
        );
        assert_eq!(schedule.next_after(at("2030-01-01T00:00:00")), None);
        assert_eq!(iso_seconds(at("2030-01-01T00:00:00")), "2030-01-01T00:00:00Z");
    }
}
