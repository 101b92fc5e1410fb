//! anvil's counters: per remote client, the links from anvil's own clients, and the peaks.
//!
//! Postfix counterpart: the ANVIL_REMOTE, ANVIL_LOCAL and ANVIL_MAX parts of
//! `anvil/anvil.c`. Rates count events since the start of the current window and start
//! over when the window (`anvil_rate_time_unit`) has passed. A remote client whose
//! connection count drops to zero is forgotten one window later. Each anvil client (one
//! smtpd process) has at most one registered connection at a time.

use std::collections::HashMap;

/// Seconds since the epoch, the clock anvil's windows use.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// One remote client (`service:address`).
#[derive(Debug, Default, Clone, Copy)]
pub struct Remote {
    /// Simultaneous connections.
    pub count: i32,
    /// Connections in this window.
    pub rate: i32,
    /// Messages in this window.
    pub mail: i32,
    /// Recipients in this window.
    pub rcpt: i32,
    /// New TLS sessions in this window.
    pub ntls: i32,
    /// AUTH requests in this window.
    pub auth: i32,
    /// When this window started; 0 after a lookup found it over.
    start: i64,
    /// When to forget it, once the count is zero.
    expires: Option<i64>,
}

/// Which rate an event counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Connections.
    Conn,
    /// Messages.
    Mail,
    /// Recipients.
    Rcpt,
    /// New TLS sessions.
    Ntls,
    /// AUTH requests.
    Auth,
}

impl Remote {
    fn reset_rates(&mut self, start: i64) {
        *self = Remote {
            count: self.count,
            start,
            expires: self.expires,
            ..Remote::default()
        };
    }

    fn field(&mut self, kind: Kind) -> &mut i32 {
        match kind {
            Kind::Conn => &mut self.rate,
            Kind::Mail => &mut self.mail,
            Kind::Rcpt => &mut self.rcpt,
            Kind::Ntls => &mut self.ntls,
            Kind::Auth => &mut self.auth,
        }
    }

    fn increment(&mut self, kind: Kind, unit: i64, now: i64) {
        if self.start + unit < now {
            self.reset_rates(now);
        }
        let value = self.field(kind);
        *value = value.saturating_add(1);
    }
}

/// A peak value and when and for whom it was seen.
#[derive(Debug, Default, Clone)]
struct Peak {
    value: i32,
    ident: String,
    when: i64,
}

impl Peak {
    fn update(&mut self, value: i32, ident: &str, now: i64) {
        if value > self.value {
            *self = Peak {
                value,
                ident: ident.to_string(),
                when: now,
            };
        }
    }
}

/// Every counter anvil keeps.
pub struct Registry {
    remotes: HashMap<String, Remote>,
    /// anvil client → the remote it registered.
    links: HashMap<u64, String>,
    unit: i64,
    status_interval: i64,
    next_status: i64,
    peaks: [Peak; 6],
    max_cache: (usize, i64),
}

const PEAK_NAMES: [(&str, bool); 6] = [
    ("connection", true),
    ("connection", false),
    ("message", true),
    ("recipient", true),
    ("newtls", true),
    ("auth", true),
];

impl Registry {
    /// Counters with these window and reporting times (seconds).
    pub fn new(unit: i64, status_interval: i64) -> Registry {
        Registry {
            remotes: HashMap::new(),
            links: HashMap::new(),
            unit,
            status_interval,
            next_status: now() + status_interval,
            peaks: Default::default(),
            max_cache: (0, 0),
        }
    }

    /// Counts a connection and links it to anvil client `local`; gives (count, rate).
    pub fn connect(&mut self, local: u64, ident: &str, now: i64) -> (i32, i32) {
        let unit = self.unit;
        let remote = match self.remotes.get_mut(ident) {
            Some(remote) => {
                remote.increment(Kind::Conn, unit, now);
                remote.count += 1;
                remote.expires = None;
                *remote
            }
            None => {
                let remote = Remote {
                    count: 1,
                    rate: 1,
                    start: now,
                    ..Remote::default()
                };
                self.remotes.insert(ident.to_string(), remote);
                if self.remotes.len() > self.max_cache.0 {
                    self.max_cache = (self.remotes.len(), now);
                }
                remote
            }
        };
        // One registered connection per anvil client: a new one replaces the old.
        if let Some(old) = self.links.insert(local, ident.to_string()) {
            self.drop_one(&old, now);
        }
        self.peaks[0].update(remote.rate, ident, now);
        self.peaks[1].update(remote.count, ident, now);
        let remote = self.remotes[ident];
        (remote.count, remote.rate)
    }

    fn drop_one(&mut self, ident: &str, now: i64) {
        if let Some(remote) = self.remotes.get_mut(ident)
            && remote.count > 0
        {
            remote.count -= 1;
            if remote.count == 0 {
                remote.expires = Some(now + self.unit);
            }
        }
    }

    /// Drops the connection anvil client `local` registered for `ident`, if it did.
    pub fn disconnect(&mut self, local: u64, ident: &str, now: i64) {
        if self.links.get(&local).is_some_and(|i| i == ident) {
            self.links.remove(&local);
            self.drop_one(ident, now);
        }
    }

    /// An anvil client went away: drop what it registered.
    pub fn drop_local(&mut self, local: u64, now: i64) {
        if let Some(ident) = self.links.remove(&local) {
            self.drop_one(&ident, now);
        }
    }

    /// Counts a message, recipient, TLS session or AUTH; gives the rate.
    pub fn count_event(&mut self, local: u64, ident: &str, kind: Kind, now: i64) -> i32 {
        if !self.remotes.contains_key(ident) {
            self.connect(local, ident, now);
        }
        let unit = self.unit;
        let remote = self.remotes.get_mut(ident).map(|r| {
            r.increment(kind, unit, now);
            *r
        });
        let rate = remote.map_or(0, |mut r| *r.field(kind));
        let slot = match kind {
            Kind::Mail => 2,
            Kind::Rcpt => 3,
            Kind::Ntls => 4,
            Kind::Auth => 5,
            Kind::Conn => 0,
        };
        self.peaks[slot].update(rate, ident, now);
        rate
    }

    /// A rate without counting anything.
    pub fn rate(&mut self, ident: &str, kind: Kind, now: i64) -> i32 {
        self.lookup(ident, now).field_value(kind)
    }

    /// Everything known about `ident` (all zero when nothing is).
    pub fn lookup(&mut self, ident: &str, now: i64) -> Remote {
        match self.remotes.get_mut(ident) {
            Some(remote) => {
                if remote.start != 0 && remote.start + self.unit < now {
                    remote.reset_rates(0);
                }
                *remote
            }
            None => Remote::default(),
        }
    }

    /// Forgets idle remotes whose time is up, and logs the peaks when it is time.
    pub fn expire(&mut self, now: i64) {
        self.remotes
            .retain(|_, r| !(r.count == 0 && r.expires.is_some_and(|t| t <= now)));
        if now >= self.next_status {
            self.next_status = now + self.status_interval;
            for line in self.take_statistics() {
                log::msg_info!("{line}");
            }
        }
    }

    /// The statistics lines for the peaks seen since the last report, which are then reset.
    pub fn take_statistics(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for (peak, (name, is_rate)) in self.peaks.iter_mut().zip(PEAK_NAMES) {
            if peak.value > 0 {
                lines.push(if is_rate {
                    format!(
                        "statistics: max {name} rate {}/{}s for ({}) at {}",
                        peak.value,
                        self.unit,
                        peak.ident,
                        stamp(peak.when)
                    )
                } else {
                    format!(
                        "statistics: max {name} count {} for ({}) at {}",
                        peak.value,
                        peak.ident,
                        stamp(peak.when)
                    )
                });
                peak.value = 0;
            }
        }
        if self.max_cache.0 > 0 {
            lines.push(format!(
                "statistics: max cache size {} at {}",
                self.max_cache.0,
                stamp(self.max_cache.1)
            ));
            self.max_cache.0 = 0;
        }
        lines
    }
}

impl Remote {
    fn field_value(mut self, kind: Kind) -> i32 {
        *self.field(kind)
    }
}

/// `Mmm dd hh:mm:ss`, the part of ctime(3) Postfix prints.
fn stamp(when: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let t = sys::localtime(when);
    format!(
        "{} {:2} {:02}:{:02}:{:02}",
        MONTHS[t.month as usize % 12],
        t.day,
        t.hour,
        t.minute,
        t.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        let mut r = Registry::new(60, 600);
        assert_eq!(r.connect(1, "smtp:1.2.3.4", 1000), (1, 1));
        assert_eq!(r.connect(2, "smtp:1.2.3.4", 1001), (2, 2));
        r.disconnect(1, "smtp:1.2.3.4", 1002);
        assert_eq!(r.lookup("smtp:1.2.3.4", 1002).count, 1);
        // A new window starts the rate over, but not the count.
        assert_eq!(r.connect(3, "smtp:1.2.3.4", 1100), (2, 1));
        assert_eq!(r.count_event(3, "smtp:1.2.3.4", Kind::Mail, 1100), 1);
        assert_eq!(r.count_event(3, "smtp:1.2.3.4", Kind::Mail, 1101), 2);
    }

    #[test]
    fn clients_going_away_drop_their_connection_and_remotes_expire() {
        let mut r = Registry::new(60, 600);
        r.connect(7, "smtp:5.6.7.8", 1000);
        r.drop_local(7, 1000);
        assert_eq!(r.lookup("smtp:5.6.7.8", 1000).count, 0);
        r.expire(1030);
        assert_eq!(r.remotes.len(), 1);
        r.expire(1061);
        assert!(r.remotes.is_empty());
    }

    #[test]
    fn statistics_lines() {
        let mut r = Registry::new(60, 600);
        r.connect(1, "smtp:1.2.3.4", 1000);
        let lines = r.take_statistics();
        assert!(
            lines[0].starts_with("statistics: max connection rate 1/60s for (smtp:1.2.3.4) at ")
        );
        assert!(lines[1].starts_with("statistics: max connection count 1 for (smtp:1.2.3.4) at "));
        assert!(lines[2].starts_with("statistics: max cache size 1 at "));
        assert!(r.take_statistics().is_empty());
    }
}
