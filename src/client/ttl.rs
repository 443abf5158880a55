//! [`Ttl`]: when a stored item expires.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// memcached reads an expiry time of more than 30 days as an absolute unix time.
const RELATIVE_LIMIT: u64 = 60 * 60 * 24 * 30;

/// When an item expires: never, after a duration, or at a point in time.
///
/// Converts from [`Duration`] (relative) and [`SystemTime`] (absolute). The
/// wire format's rules (relative seconds up to 30 days, a unix time beyond,
/// negative for "already expired") are handled here, not by the caller.
///
/// # Zero is not "never"
///
/// A `Duration` is a time to live, so **`Duration::ZERO` stores an item that
/// is already expired** (memclient sends `exptime -1`), as a time in the past
/// does. In memcached's own `exptime` and in pymemcache's `expire=0`, zero
/// means *never expires*; with memclient that is [`Ttl::Never`], the default
/// of every write. A ttl read from a configuration where 0 means "no
/// expiry" goes through [`Ttl::from_expire`], which keeps that meaning:
///
/// ```
/// use std::time::Duration;
/// use memclient::{Client, Ttl};
/// # futures_lite::future::block_on(async {
/// let client = Client::new(memclient_mock::MockMemcache::new());
///
/// client.set("gone", "x").ttl(Duration::ZERO).await?;       // expired at once
/// assert_eq!(client.get("gone").await?, None);
///
/// client.set("kept", "x").ttl(Ttl::from_expire(0)).await?;  // pymemcache's expire=0
/// client.set("also", "x").ttl(Ttl::Never).await?;           // the same
/// client.set("hour", "x").ttl(Ttl::from_expire(3600)).await?;
/// assert!(client.get("kept").await?.is_some());
/// # Ok::<_, memclient::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Ttl {
    /// The item does not expire (it may still be evicted). The default.
    #[default]
    Never,
    /// The item expires this long after it is stored. Sub-second parts round up
    /// to the next second; **`Duration::ZERO` means already expired**, not
    /// never (see [`Ttl::from_expire`] for pymemcache's meaning of 0).
    After(Duration),
    /// The item expires at this time; a time in the past means already expired.
    At(SystemTime),
}

impl Ttl {
    /// A ttl that has already run out: the item is stored expired, so the
    /// next read misses. The same as `Duration::ZERO`.
    pub const EXPIRED: Ttl = Ttl::After(Duration::ZERO);

    /// pymemcache's and memcached's `expire` in seconds, with their meaning
    /// of zero: `0` is [`Ttl::Never`], any other number is that many seconds
    /// from now (beyond 30 days too: memclient sends the absolute time
    /// memcached needs for those).
    ///
    /// ```
    /// use std::time::Duration;
    /// use memclient::Ttl;
    ///
    /// assert_eq!(Ttl::from_expire(0), Ttl::Never);
    /// assert_eq!(Ttl::from_expire(60), Ttl::After(Duration::from_secs(60)));
    /// // A Duration means what it says: zero seconds left to live.
    /// assert_eq!(Ttl::from(Duration::ZERO), Ttl::EXPIRED);
    /// ```
    #[doc(alias = "expire")]
    pub fn from_expire(seconds: u64) -> Ttl {
        match seconds {
            0 => Ttl::Never,
            seconds => Ttl::After(Duration::from_secs(seconds)),
        }
    }
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

    #[test]
    fn zero_is_expired_as_a_duration_and_never_as_an_expire() {
        let now = SystemTime::now();
        assert_eq!(Ttl::from(Duration::ZERO).to_exptime(now), -1);
        assert_eq!(Ttl::EXPIRED.to_exptime(now), -1);
        assert_eq!(Ttl::from_expire(0).to_exptime(now), 0);
        assert_eq!(Ttl::from_expire(90).to_exptime(now), 90);
        assert_eq!(Ttl::default(), Ttl::Never);
    }
}
