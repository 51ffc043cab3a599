//! The state of one logical RAIDA: its AN table, its tickets, its page reservations, its log.
//!
//! Lock order: a RAIDA's `table` before its own `tickets`; a fix takes other RAIDA's `tickets`
//! while holding no `table`. Nothing holds a `tickets` lock while taking a `table` lock, so the
//! 25 RAIDA cannot deadlock each other.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use cloudcoin_domain::RAIDA_COUNT;

use crate::log::LoggedRequest;

/// Tickets and reservations live this long.
pub(crate) const TICKET_LIFETIME: Duration = Duration::from_secs(300);
/// A RAIDA keeps at most this many live tickets.
pub(crate) const TICKET_SLOTS: usize = 512;

/// (denomination code, serial number).
pub(crate) type Key = (i8, u32);

/// A hasher for (DN, SN) keys that keeps a denomination's consecutive serial numbers in
/// consecutive buckets: a batch of coins is usually a run of serial numbers, and looking them up
/// in order then walks the table's memory in order instead of missing the cache on every coin
/// (the standard SipHash, whose flooding resistance a loopback test double does not need, was
/// most of a large detect's time; a well-mixed hash still left a cache miss per record).
///
/// The bucket index (the low bits) is the serial number plus an offset per denomination; the top
/// seven bits, which the table compares before the keys, are a mix of the whole key.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl KeyHasher {
    const TAG: u64 = 0x7f << 57;
}

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        let (dn, sn) = (self.0 >> 32, self.0 & 0xffff_ffff);
        let offset = dn.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 24;
        let tag = self.0.wrapping_mul(0x51_7c_c1_b7_27_22_0a_95) & Self::TAG;
        (sn.wrapping_add(offset) & !Self::TAG) | tag
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_i8(&mut self, n: i8) {
        self.0 = self.0 << 8 | u64::from(n as u8);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = self.0 << 32 | u64::from(n);
    }
}

/// The AN table: (DN, SN) → AN.
pub(crate) type AnTable = HashMap<Key, [u8; 16], BuildHasherDefault<KeyHasher>>;

/// A RAIDA's coins and page reservations.
///
/// Change SNs offers the lowest free serial numbers of a denomination: neither held in `ans` nor
/// reserved for another session. So that this stays cheap with thousands of open reservations,
/// the reserved numbers are kept in one set, and `free_from` remembers, per denomination, a
/// number below which none is free. Whatever frees a number lowers it: an AN removed
/// ([`Table::remove_an`]) or a reservation released or expired ([`Table::release`],
/// [`Table::expire`]). Adding an AN or a reservation only takes numbers, which keeps it true.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) ans: AnTable,
    reservations: HashMap<u32, Reserved>,
    reserved: HashSet<Key, BuildHasherDefault<KeyHasher>>,
    free_from: HashMap<i8, u32>,
}

impl Table {
    /// Removes a coin's AN; its serial number becomes free.
    pub(crate) fn remove_an(&mut self, key: &Key) -> Option<[u8; 16]> {
        let an = self.ans.remove(key)?;
        self.freed(key.0, key.1);
        Some(an)
    }

    /// A session's reservation, if it has one.
    pub(crate) fn reservation(&self, session: u32) -> Option<&Reserved> {
        self.reservations.get(&session)
    }

    /// Reserves `r.sns` for `session`, in place of anything it had reserved before.
    pub(crate) fn reserve(&mut self, session: u32, r: Reserved) {
        self.release(session);
        self.reserved.extend(r.sns.iter().map(|sn| (r.dn, *sn)));
        self.reservations.insert(session, r);
    }

    /// Ends a session's reservation; its numbers not taken since become free.
    pub(crate) fn release(&mut self, session: u32) {
        if let Some(r) = self.reservations.remove(&session) {
            self.unreserve(&r);
        }
    }

    /// Ends every reservation older than [`TICKET_LIFETIME`] at `now`.
    pub(crate) fn expire(&mut self, now: Duration) {
        let old: Vec<u32> = self
            .reservations
            .iter()
            .filter(|(_, r)| now.saturating_sub(r.at) >= TICKET_LIFETIME)
            .map(|(s, _)| *s)
            .collect();
        for session in old {
            self.release(session);
        }
    }

    /// Up to `count` free serial numbers of `dn` in `from..limit`, lowest first: held by no
    /// coin and reserved for no session. A session's own reservation is released first by
    /// the caller when it is to be replaced.
    pub(crate) fn free_serials(&mut self, dn: i8, from: u32, limit: u32, count: usize) -> Vec<u32> {
        let start = from.max(self.free_from.get(&dn).copied().unwrap_or(0));
        let mut free = Vec::with_capacity(count);
        let mut lowest = None;
        for sn in start..limit {
            let key = (dn, sn);
            if self.ans.contains_key(&key) || self.reserved.contains(&key) {
                continue;
            }
            lowest.get_or_insert(sn);
            free.push(sn);
            if free.len() == count {
                break;
            }
        }
        // Every number from `start` up to the lowest free one is taken; none free means none
        // below `limit`.
        self.free_from.insert(dn, lowest.unwrap_or(limit).max(start));
        free
    }

    fn unreserve(&mut self, r: &Reserved) {
        for sn in &r.sns {
            self.reserved.remove(&(r.dn, *sn));
            self.freed(r.dn, *sn);
        }
    }

    fn freed(&mut self, dn: i8, sn: u32) {
        if let Some(from) = self.free_from.get_mut(&dn) {
            *from = (*from).min(sn);
        }
    }
}

/// SNs change SNs (9/91) reserved for a session.
#[derive(Debug, Clone)]
pub(crate) struct Reserved {
    pub(crate) op: u8,
    /// The denomination of the reserved SNs.
    pub(crate) dn: i8,
    pub(crate) sns: Vec<u32>,
    pub(crate) at: Duration,
}

#[derive(Debug)]
pub(crate) struct Ticket {
    pub(crate) id: u32,
    pub(crate) coins: Vec<Key>,
    pub(crate) issued: Duration,
    pub(crate) claimed_by: [bool; RAIDA_COUNT],
}

#[derive(Debug, Default)]
pub(crate) struct TicketBook {
    pub(crate) tickets: Vec<Ticket>,
    pub(crate) issued: u32,
}

impl TicketBook {
    fn forget_expired(&mut self, now: Duration) {
        self.tickets.retain(|t| now.saturating_sub(t.issued) < TICKET_LIFETIME);
    }

    /// Issues a ticket for `coins`, or `None` when all slots hold live tickets.
    pub(crate) fn issue(&mut self, raida: u8, coins: Vec<Key>, now: Duration) -> Option<u32> {
        self.forget_expired(now);
        if self.tickets.len() >= TICKET_SLOTS {
            return None;
        }
        self.issued = self.issued.wrapping_add(1);
        // Never 0 (0 means "no ticket" in a fix), unique per RAIDA within 2^24 issues.
        let id = (u32::from(raida) + 1) << 24 | (self.issued & 0x00ff_ffff);
        self.tickets.push(Ticket { id, coins, issued: now, claimed_by: [false; RAIDA_COUNT] });
        Some(id)
    }

    /// Confirms ticket `id` for the fixing RAIDA `by`: the coins it covers, or `None` when it is
    /// unknown, expired or already claimed by `by` (a claimed ticket is used up for `by`).
    pub(crate) fn claim(&mut self, id: u32, by: u8, now: Duration) -> Option<Vec<Key>> {
        self.forget_expired(now);
        let ticket = self.tickets.iter_mut().find(|t| t.id == id)?;
        let slot = ticket.claimed_by.get_mut(usize::from(by))?;
        if *slot {
            return None;
        }
        *slot = true;
        Some(ticket.coins.clone())
    }

    pub(crate) fn live(&mut self, now: Duration) -> usize {
        self.forget_expired(now);
        self.tickets.len()
    }
}

/// One logical RAIDA.
#[derive(Debug)]
pub(crate) struct Raida {
    pub(crate) id: u8,
    pub(crate) table: Mutex<Table>,
    pub(crate) tickets: Mutex<TicketBook>,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
}

/// Locks `m`, taking the data even if a panicking thread poisoned it (the simulator's state is
/// plain data, always consistent between statements).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl Raida {
    pub(crate) fn new(id: u8) -> Raida {
        Raida {
            id,
            table: Mutex::new(Table::default()),
            tickets: Mutex::new(TicketBook::default()),
            log: Mutex::new(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_expire_and_are_claimed_once_per_raida() {
        let mut book = TicketBook::default();
        let t = book.issue(3, vec![(1, 5)], Duration::ZERO).expect("slot");
        assert_ne!(t, 0);
        assert_eq!(book.claim(t, 7, Duration::from_secs(10)), Some(vec![(1, 5)]));
        assert_eq!(book.claim(t, 7, Duration::from_secs(11)), None, "claimed twice by 7");
        assert_eq!(book.claim(t, 8, Duration::from_secs(12)), Some(vec![(1, 5)]), "8 may claim");
        assert_eq!(book.claim(t, 9, Duration::from_secs(300)), None, "expired at 300 s");
    }

    #[test]
    fn a_full_book_refuses_until_tickets_expire() {
        let mut book = TicketBook::default();
        for _ in 0..TICKET_SLOTS {
            assert!(book.issue(0, vec![], Duration::ZERO).is_some());
        }
        assert_eq!(book.issue(0, vec![], Duration::from_secs(299)), None);
        assert!(book.issue(0, vec![], Duration::from_secs(300)).is_some());
        assert_eq!(book.live(Duration::from_secs(300)), 1);
    }

    /// The offer is always the lowest free numbers, whatever freed them: a released or expired
    /// reservation, an AN removed; never a number held or reserved for another session.
    #[test]
    fn free_serials_are_the_lowest_free_whatever_freed_them() {
        let mut t = Table::default();
        let at = Duration::ZERO;
        let reserve = |t: &mut Table, session: u32, at: Duration| {
            let sns = t.free_serials(0, 100, 1_000, 4);
            t.reserve(session, Reserved { op: 1, dn: 0, sns: sns.clone(), at });
            sns
        };
        t.ans.insert((0, 101), [0; 16]);
        assert_eq!(reserve(&mut t, 1, at), [100, 102, 103, 104]);
        assert_eq!(reserve(&mut t, 2, Duration::from_secs(10)), [105, 106, 107, 108]);
        // Another denomination is counted on its own.
        assert_eq!(t.free_serials(1, 100, 1_000, 2), [100, 101]);
        t.release(1);
        assert_eq!(t.free_serials(0, 100, 1_000, 5), [100, 102, 103, 104, 109]);
        assert_eq!(t.remove_an(&(0, 101)), Some([0; 16]));
        assert_eq!(t.free_serials(0, 100, 1_000, 2), [100, 101]);
        // Asked again, a session's own numbers are offered in place of its old reservation.
        assert_eq!(reserve(&mut t, 3, at), [100, 101, 102, 103]);
        t.release(3);
        t.reserve(2, Reserved { op: 1, dn: 0, sns: vec![105], at: Duration::from_secs(10) });
        assert_eq!(t.free_serials(0, 100, 1_000, 8), [100, 101, 102, 103, 104, 106, 107, 108]);
        // Expired reservations free their numbers.
        t.expire(Duration::from_secs(10) + TICKET_LIFETIME);
        assert_eq!(t.reservation(2).map(|r| r.sns.len()), None);
        assert_eq!(t.free_serials(0, 100, 1_000, 7), [100, 101, 102, 103, 104, 105, 106]);
        // Nothing free below the limit.
        assert_eq!(t.free_serials(0, 100, 103, 8), [100, 101, 102]);
        t.ans.extend((100..103).map(|sn| ((0, sn), [1; 16])));
        assert_eq!(t.free_serials(0, 100, 103, 8), Vec::<u32>::new());
        t.remove_an(&(0, 100));
        assert_eq!(t.free_serials(0, 100, 103, 8), [100]);
    }
}
