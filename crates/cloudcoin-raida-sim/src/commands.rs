//! What each command does to a RAIDA's table, with the sheet's agreement rules (§4, §5).

use cloudcoin_domain::RAIDA_COUNT;

use crate::config::{FixBetweenServers, Reservation, SimConfig};
use crate::log::LoggedCoin;
use crate::raida::{Key, Raida, Reserved, TICKET_LIFETIME, lock};
use crate::wire::{Command, bitfield, fix_an};

const C5: usize = 5;
const C21: usize = 21;
const C37: usize = 37;
/// Fix: PG (16) ‖ 25 tickets (4 each) after the coins.
const FIX_TAIL: usize = 16 + 4 * RAIDA_COUNT;
/// Make change: parent C21 ‖ start SN (4) ‖ 10 PANs.
const MAKE_CHANGE_LEN: usize = C21 + 4 + 10 * 16;
/// Change SNs: session (4) ‖ op (1) ‖ DN (1).
const CHANGE_SNS_LEN: usize = 6;
/// Break and join: session (4) ‖ C21 ‖ 10 × (DN, SN, AN or PAN).
const BREAK_LEN: usize = 4 + C21 + 10 * C21;
/// Free SNs change SNs offers at most.
const FREE_SNS: usize = 64;

/// Whether a payload of `len` bytes has the shape of `command`.
pub(crate) fn shape_ok(command: Command, len: usize) -> bool {
    match command {
        Command::Echo => true,
        Command::Detect | Command::GetTicket => len > 0 && len.is_multiple_of(C21),
        Command::Pown | Command::Find => len > 0 && len.is_multiple_of(C37),
        Command::Fix => len > FIX_TAIL && (len - FIX_TAIL).is_multiple_of(C5),
        Command::MakeChange => len == MAKE_CHANGE_LEN,
        Command::ChangeSns => len == CHANGE_SNS_LEN,
        Command::Break | Command::Join => len == BREAK_LEN,
        Command::ValidateTicket | Command::Other { .. } => false,
    }
}

/// The status for a payload of the wrong shape: 39 for lists of records, 16 (length) for the
/// fixed-size bodies.
pub(crate) fn shape_status(command: Command) -> u8 {
    match command {
        Command::MakeChange | Command::ChangeSns | Command::Break | Command::Join => 16,
        _ => 39,
    }
}

fn an_at(b: &[u8]) -> [u8; 16] {
    b[..16].try_into().expect("callers pass at least 16 bytes")
}

fn u32_at(b: &[u8]) -> u32 {
    u32::from_be_bytes(b[..4].try_into().expect("callers pass at least 4 bytes"))
}

fn key_at(b: &[u8]) -> Key {
    (i8::from_be_bytes([b[0]]), u32_at(&b[1..]))
}

fn logged(key: Key, an: Option<[u8; 16]>, pan: Option<[u8; 16]>) -> LoggedCoin {
    LoggedCoin { denomination: key.0, serial: key.1, an, pan }
}

/// The coins (and PG) of a well-shaped payload, for the log.
pub(crate) fn decode_for_log(command: Command, p: &[u8]) -> (Vec<LoggedCoin>, Option<[u8; 16]>) {
    match command {
        Command::Detect | Command::GetTicket => (
            p.chunks_exact(C21).map(|r| logged(key_at(r), Some(an_at(&r[5..])), None)).collect(),
            None,
        ),
        Command::Pown | Command::Find => (
            p.chunks_exact(C37)
                .map(|r| logged(key_at(r), Some(an_at(&r[5..])), Some(an_at(&r[21..]))))
                .collect(),
            None,
        ),
        Command::Fix => {
            let n = p.len() - FIX_TAIL;
            let coins = p[..n].chunks_exact(C5).map(|r| logged(key_at(r), None, None)).collect();
            (coins, Some(an_at(&p[n..])))
        }
        Command::MakeChange => {
            let parent = key_at(p);
            let start = u32_at(&p[C21..]);
            let mut coins = vec![logged(parent, Some(an_at(&p[5..])), None)];
            for (i, pan) in p[C21 + 4..].chunks_exact(16).enumerate() {
                let sn = start.wrapping_add(i as u32);
                coins.push(logged((parent.0.wrapping_sub(1), sn), None, Some(an_at(pan))));
            }
            (coins, None)
        }
        Command::Break | Command::Join => {
            let (head, kids) = p[4..].split_at(C21);
            let join = command == Command::Join;
            let head_an = Some(an_at(&head[5..]));
            let mut coins = vec![if join {
                logged(key_at(head), None, head_an)
            } else {
                logged(key_at(head), head_an, None)
            }];
            coins.extend(kids.chunks_exact(C21).map(|r| {
                let secret = Some(an_at(&r[5..]));
                if join { logged(key_at(r), secret, None) } else { logged(key_at(r), None, secret) }
            }));
            (coins, None)
        }
        _ => (Vec::new(), None),
    }
}

/// What running a command gave.
pub(crate) struct Outcome {
    pub(crate) status: u8,
    pub(crate) body: Vec<u8>,
    pub(crate) applied: bool,
}

impl Outcome {
    pub(crate) fn status(status: u8) -> Outcome {
        Outcome { status, body: Vec::new(), applied: false }
    }
}

/// The pass / fail / mixed answer of a list of per-coin results, with `extra` after the
/// bitfield of a mixed answer and as the whole body of an all-pass one.
fn graded(passes: &[bool], extra: &[u8], applied: bool) -> Outcome {
    let body_with = |mut body: Vec<u8>| {
        body.extend_from_slice(extra);
        body
    };
    if passes.iter().all(|p| *p) {
        Outcome { status: 241, body: extra.to_vec(), applied }
    } else if passes.iter().all(|p| !*p) {
        Outcome { status: 242, body: Vec::new(), applied }
    } else {
        Outcome { status: 243, body: body_with(bitfield(passes)), applied }
    }
}

/// What a command may read of the whole network: every RAIDA (a fix asks its peers for their
/// tickets) and the simulator's settings. The simulator hands it to [`run`], so the commands
/// know nothing of the dispatcher above them.
pub(crate) struct Network<'a> {
    pub(crate) raidas: &'a [Raida],
    pub(crate) config: &'a SimConfig,
}

impl Network<'_> {
    fn valid(&self, (dn, sn): Key) -> bool {
        (-8..=6).contains(&dn) && sn < self.config.serial_limit
    }
}

/// Runs a well-formed request at `node`.
pub(crate) fn run(sim: &Network<'_>, node: &Raida, command: Command, p: &[u8]) -> Outcome {
    match command {
        Command::Echo => Outcome::status(250),
        Command::Detect => {
            let table = lock(&node.table);
            let passes: Vec<bool> = p
                .chunks_exact(C21)
                .map(|r| table.ans.get(&key_at(r)) == Some(&an_at(&r[5..])))
                .collect();
            graded(&passes, &[], false)
        }
        Command::Pown => {
            let mut table = lock(&node.table);
            let passes: Vec<bool> = p
                .chunks_exact(C37)
                .map(|r| match table.ans.get_mut(&key_at(r)) {
                    // One lookup a record: the AN is replaced where it is found right.
                    Some(an) if *an == an_at(&r[5..]) => {
                        *an = an_at(&r[21..]);
                        true
                    }
                    _ => false,
                })
                .collect();
            let applied = passes.iter().any(|p| *p);
            graded(&passes, &[], applied)
        }
        Command::GetTicket => get_ticket(sim, node, p),
        Command::Find => {
            let keys: Vec<Key> = p.chunks_exact(C37).map(key_at).collect();
            if !keys.iter().all(|k| sim.valid(*k)) {
                return Outcome::status(40);
            }
            let table = lock(&node.table);
            let found: Vec<u8> = p
                .chunks_exact(C37)
                .map(|r| match table.ans.get(&key_at(r)) {
                    Some(an) if *an == an_at(&r[5..]) => 1,
                    Some(an) if *an == an_at(&r[21..]) => 2,
                    _ => 0,
                })
                .collect();
            match found.first() {
                Some(&first) if found.iter().all(|f| *f == first) => Outcome::status(208 + first),
                _ => Outcome { status: 211, body: found, applied: false },
            }
        }
        Command::Fix => fix(sim, node, p),
        Command::MakeChange => make_change(sim, node, p),
        Command::ChangeSns => change_sns(sim, node, p),
        Command::Break | Command::Join => break_or_join(sim, node, command, p),
        Command::ValidateTicket | Command::Other { .. } => Outcome::status(6),
    }
}

fn get_ticket(sim: &Network<'_>, node: &Raida, p: &[u8]) -> Outcome {
    let keys: Vec<Key> = p.chunks_exact(C21).map(key_at).collect();
    if !keys.iter().all(|k| sim.valid(*k)) {
        return Outcome::status(40);
    }
    let table = lock(&node.table);
    let passes: Vec<bool> =
        p.chunks_exact(C21).map(|r| table.ans.get(&key_at(r)) == Some(&an_at(&r[5..]))).collect();
    if !passes.iter().any(|p| *p) {
        return Outcome::status(242);
    }
    let passed = keys.iter().zip(&passes).filter(|(_, p)| **p).map(|(k, _)| *k).collect();
    let now = sim.config.clock.now();
    let Some(ticket) = lock(&node.tickets).issue(node.id, passed, now) else {
        return Outcome::status(42);
    };
    graded(&passes, &ticket.to_be_bytes(), true)
}

fn fix(sim: &Network<'_>, node: &Raida, p: &[u8]) -> Outcome {
    let n = p.len() - FIX_TAIL;
    let keys: Vec<Key> = p[..n].chunks_exact(C5).map(key_at).collect();
    if !keys.iter().all(|k| sim.valid(*k)) {
        return Outcome::status(40);
    }
    if sim.config.fix == FixBetweenServers::Never {
        return Outcome::status(242);
    }
    let pg = an_at(&p[n..]);
    let now = sim.config.clock.now();
    // Its own vote, plus one for each other RAIDA confirming a ticket that covers the coin.
    let mut votes = vec![1usize; keys.len()];
    for (peer, t) in p[n + 16..].chunks_exact(4).map(u32_at).enumerate() {
        if t == 0 || peer == usize::from(node.id) {
            continue;
        }
        let Some(other) = sim.raidas.get(peer) else { continue };
        // Claiming uses the ticket up for this RAIDA, whatever the fix's outcome.
        let Some(covered) = lock(&other.tickets).claim(t, node.id, now) else { continue };
        for (k, v) in keys.iter().zip(votes.iter_mut()) {
            if covered.contains(k) {
                *v += 1;
            }
        }
    }
    let fixed: Vec<bool> = votes.iter().map(|v| *v > 13).collect();
    let mut table = lock(&node.table);
    for (k, _) in keys.iter().zip(&fixed).filter(|(_, f)| **f) {
        table.ans.insert(*k, fix_an(node.id, k.0, k.1, &pg));
    }
    graded(&fixed, &[], fixed.iter().any(|f| *f))
}

fn make_change(sim: &Network<'_>, node: &Raida, p: &[u8]) -> Outcome {
    let parent = key_at(p);
    let start = u32_at(&p[C21..]);
    let kid_dn = parent.0.wrapping_sub(1);
    let kids: Option<Vec<Key>> =
        (0..10u32).map(|i| start.checked_add(i).map(|sn| (kid_dn, sn))).collect();
    let Some(kids) = kids else { return Outcome::status(40) };
    let mut table = lock(&node.table);
    if parent.0 <= -8
        || !sim.valid(parent)
        || !kids.iter().all(|k| sim.valid(*k) && !table.ans.contains_key(k))
    {
        return Outcome::status(40);
    }
    if table.ans.get(&parent) != Some(&an_at(&p[5..])) {
        return Outcome::status(242);
    }
    table.remove_an(&parent);
    for (k, pan) in kids.iter().zip(p[C21 + 4..].chunks_exact(16)) {
        table.ans.insert(*k, an_at(pan));
    }
    Outcome { status: 250, body: Vec::new(), applied: true }
}

fn change_sns(sim: &Network<'_>, node: &Raida, p: &[u8]) -> Outcome {
    let session = u32_at(p);
    let op = p[4];
    let dn = i8::from_be_bytes([p[5]]);
    // Break (1) offers SNs of the next lower denomination, join (2) of the next higher.
    let target = match op {
        1 if (-7..=6).contains(&dn) => dn - 1,
        2 if (-8..=5).contains(&dn) => dn + 1,
        _ => return Outcome::status(40),
    };
    let now = sim.config.clock.now();
    let mut table = lock(&node.table);
    table.expire(now);
    // A session asking again is offered its own numbers among the others: its old reservation
    // is replaced.
    let reserve = sim.config.reservation == Reservation::Reserve;
    if reserve {
        table.release(session);
    }
    let free =
        table.free_serials(target, sim.config.free_sns_from, sim.config.serial_limit, FREE_SNS);
    if reserve {
        table.reserve(session, Reserved { op, dn: target, sns: free.clone(), at: now });
    }
    let mut body = vec![target.to_be_bytes()[0]];
    body.extend(free.iter().flat_map(|sn| sn.to_be_bytes()));
    Outcome { status: 250, body, applied: reserve }
}

fn break_or_join(sim: &Network<'_>, node: &Raida, command: Command, p: &[u8]) -> Outcome {
    if sim.config.reservation == Reservation::Published {
        return Outcome::status(41);
    }
    let session = u32_at(p);
    let head = key_at(&p[4..]);
    let head_secret = an_at(&p[9..]);
    let kids: Vec<(Key, [u8; 16])> =
        p[4 + C21..].chunks_exact(C21).map(|r| (key_at(r), an_at(&r[5..]))).collect();
    let join = command == Command::Join;
    let now = sim.config.clock.now();
    let mut table = lock(&node.table);
    let Some(reserved) = table.reservation(session).cloned() else {
        return Outcome::status(41);
    };
    let kid_dn = head.0.wrapping_sub(1);
    let mut kid_sns: Vec<u32> = kids.iter().map(|(k, _)| k.1).collect();
    kid_sns.sort_unstable();
    kid_sns.dedup();
    // The reserved SNs are the children's (break) or the new coin's (join).
    let reserved_ok = now.saturating_sub(reserved.at) < TICKET_LIFETIME
        && if join {
            reserved.op == 2 && reserved.dn == head.0 && reserved.sns.contains(&head.1)
        } else {
            reserved.op == 1
                && reserved.dn == kid_dn
                && kid_sns.iter().all(|sn| reserved.sns.contains(sn))
        };
    if !reserved_ok || kid_sns.len() != 10 || kids.iter().any(|(k, _)| k.0 != kid_dn) {
        return Outcome::status(41);
    }
    if head.0 <= -8 || !sim.valid(head) || !kids.iter().all(|(k, _)| sim.valid(*k)) {
        return Outcome::status(40);
    }
    if join {
        if !kids.iter().all(|(k, an)| table.ans.get(k) == Some(an)) {
            return Outcome::status(242);
        }
        if table.ans.contains_key(&head) {
            return Outcome::status(40);
        }
        for (k, _) in &kids {
            table.remove_an(k);
        }
        table.ans.insert(head, head_secret);
    } else {
        if table.ans.get(&head) != Some(&head_secret) {
            return Outcome::status(242);
        }
        if kids.iter().any(|(k, _)| table.ans.contains_key(k)) {
            return Outcome::status(40);
        }
        table.remove_an(&head);
        for (k, pan) in &kids {
            table.ans.insert(*k, *pan);
        }
    }
    table.release(session);
    Outcome { status: 250, body: Vec::new(), applied: true }
}
