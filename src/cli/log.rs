//! zkpod's own log lines, beside ZooKeeper's in `kubectl logs`: one line per event on stderr,
//! `2026-01-31T12:34:56.789Z zkpod INFO  message`, written with one write(2) so that lines of
//! zkpod and of its child never interleave.

use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use super::values::LogLevel;

/// The most verbose level printed; INFO until `set_level`.
static MAX: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Print events at `level` and above (more severe).
pub fn set_level(level: LogLevel) {
    MAX.store(level as u8, Ordering::Relaxed);
}

/// Write one line, if `level` is printed. Use the macros: `info!`, `warn!`, `debug!`.
pub fn write(level: LogLevel, message: std::fmt::Arguments) {
    if (level as u8) < MAX.load(Ordering::Relaxed) {
        return;
    }
    let line = format!("{} zkpod {:<5} {message}\n", utc_now(), level.log4j());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::cli::log::write($crate::cli::values::LogLevel::Debug, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::cli::log::write($crate::cli::values::LogLevel::Info, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::cli::log::write($crate::cli::values::LogLevel::Warn, format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::cli::log::write($crate::cli::values::LogLevel::Error, format_args!($($arg)*)) };
}

/// The time now in UTC, to the millisecond.
fn utc_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    utc(now.as_secs(), now.subsec_millis())
}

fn utc(secs: u64, millis: u32) -> String {
    // Days since 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's
    // civil_from_days).
    let z = (secs / 86_400) as i64 + 719_468;
    let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let rest = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn formats_utc_times() {
        assert_eq!(utc(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(utc(1_795_303_501, 250), "2026-11-21T23:25:01.250Z");
    }
}
