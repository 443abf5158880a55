//! [`Ttl`]: when a stored item expires.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// memcached reads an expiry time of more than 30 days as an absolute unix time.
const RELATIVE_LIMIT: u64 = 60 * 60 * 24 * 30;

/// When an item expires: never, after a duration, or at a point in time.
///
/// Converts from [`Duration`] (relative) and [`SystemTime`] (absolute). The
/// wire format's rules (relative seconds up to 30 days, a unix time beyond,
/// negative for "already expired") are handled here, not by the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ttl {
    /// The item does not expire (it may still be evicted).
    #[default]
    Never,
    /// The item expires this long after it is stored. Sub-second parts round up
    /// to the next second; `Duration::ZERO` means already expired.
    After(Duration),
    /// The item expires at this time; a time in the past means already expired.
    At(SystemTime),
}

impl From<Duration> for Ttl {
    fn from(duration: Duration) -> Self {
        Ttl::After(duration)
    }
}

impl From<SystemTime> for Ttl {
    fn from(time: SystemTime) -> Self {
        Ttl::At(time)
    }
}

impl Ttl {
    /// The `exptime` to send, relative to `now`.
    pub fn to_exptime(self, now: SystemTime) -> i64 {
        match self {
            Ttl::Never => 0,
            Ttl::After(duration) if duration.is_zero() => -1,
            Ttl::After(duration) => {
                let seconds = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
                if seconds <= RELATIVE_LIMIT {
                    seconds as i64
                } else {
                    unix_seconds(now).saturating_add(seconds.min(i64::MAX as u64) as i64)
                }
            }
            Ttl::At(time) => match time.duration_since(now) {
                Ok(ahead) if !ahead.is_zero() => Ttl::After(ahead).to_exptime(now),
                _ => -1,
            },
        }
    }
}

fn unix_seconds(time: SystemTime) -> i64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| since.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_ttls_up_to_thirty_days_are_sent_as_seconds() {
        let now = SystemTime::now();
        assert_eq!(Ttl::Never.to_exptime(now), 0);
        assert_eq!(Ttl::from(Duration::from_secs(10)).to_exptime(now), 10);
        assert_eq!(Ttl::from(Duration::from_millis(1500)).to_exptime(now), 2);
        assert_eq!(Ttl::from(Duration::from_millis(1)).to_exptime(now), 1);
        assert_eq!(Ttl::from(Duration::ZERO).to_exptime(now), -1);
        let thirty_days = Duration::from_secs(RELATIVE_LIMIT);
        assert_eq!(
            Ttl::from(thirty_days).to_exptime(now),
            RELATIVE_LIMIT as i64
        );
    }

    #[test]
    fn longer_ttls_become_absolute_unix_times() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let long = Duration::from_secs(RELATIVE_LIMIT + 1);
        assert_eq!(
            Ttl::from(long).to_exptime(now),
            1_700_000_000 + RELATIVE_LIMIT as i64 + 1
        );
        let huge = Duration::from_secs(u64::MAX);
        assert_eq!(Ttl::from(huge).to_exptime(now), i64::MAX);
    }

    #[test]
    fn points_in_time_are_converted_and_past_ones_expire_at_once() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(Ttl::from(now + Duration::from_secs(60)).to_exptime(now), 60);
        let far = now + Duration::from_secs(90 * 24 * 3600);
        assert_eq!(
            Ttl::from(far).to_exptime(now),
            1_700_000_000 + 90 * 24 * 3600
        );
        assert_eq!(Ttl::from(now).to_exptime(now), -1);
        assert_eq!(Ttl::from(now - Duration::from_secs(5)).to_exptime(now), -1);
    }
}
