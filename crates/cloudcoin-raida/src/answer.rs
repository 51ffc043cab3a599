//! What came back: one answer per RAIDA (per coin, for batch commands), and the grading of
//! RAIDA.md §5.

use std::time::Duration;

use cloudcoin_domain::{CoinId, RAIDA_COUNT};

use crate::wire::{Check, Ticket};
use crate::{RaidaId, RaidaSet, Status};

/// Why a request that was sent got no usable answer. The RAIDA may have applied it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Silence {
    /// Nothing (or not all of the answer) came back in time.
    Timeout,
    /// The connection was closed or reset before the whole answer came.
    Closed,
    /// Bytes came back that are not an answer to this request (a wrong size, terminator,
    /// echo, or a body that does not fit the status).
    Garbled,
}

/// Why a request was not sent to a RAIDA. It cannot have been applied there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotSent {
    /// The coin was not meant for this RAIDA (it is not in the coin's target set).
    NotAsked,
    /// No connection could be made (refused, unreachable, or not in time).
    Unreachable,
    /// Encryption type 1 with the automatic response counter, and this RAIDA's mode could not
    /// be learnt (no answer, or the key coin is not usable there).
    CounterUnknown,
}

/// One RAIDA's answer about one coin (or, for a command without coins, about the request).
///
/// Only [`Answer::Said`] is an answer about the coin. [`Answer::NoAnswer`] is **never** a
/// "no": the RAIDA may have applied the request, and a state-changing one is not resent.
///
/// ```
/// use cloudcoin_raida::{Answer, Check, Silence, Status};
///
/// let pass: Answer<Check> = Answer::Said(Check::Pass);
/// assert!(pass.is_pass() && !pass.is_fail());
/// let silent: Answer<Check> = Answer::NoAnswer(Silence::Timeout);
/// assert!(!silent.is_fail() && silent.maybe_applied());
/// assert!(Answer::<Check>::Status(Status::RateLimited).is_transient());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Answer<T> {
    /// The RAIDA answered about this coin.
    Said(T),
    /// The RAIDA answered with a status that says nothing about the coin: an error of the
    /// request, a refusal (41, 42–44), or a transient status (160, 252–254).
    Status(Status),
    /// The request was sent and no usable answer came: maybe applied.
    NoAnswer(Silence),
    /// The request was not sent: certainly not applied.
    NotSent(NotSent),
}

impl<T> Answer<T> {
    /// The answer about the coin, if there is one.
    pub fn said(&self) -> Option<&T> {
        match self {
            Answer::Said(t) => Some(t),
            _ => None,
        }
    }

    /// Whether the request may have been applied without the client knowing the outcome.
    pub fn maybe_applied(&self) -> bool {
        matches!(self, Answer::NoAnswer(_))
    }

    /// Whether the RAIDA answered a transient status (160, 252–254): the caller may resend.
    pub fn is_transient(&self) -> bool {
        matches!(self, Answer::Status(s) if s.is_transient())
    }
}

impl Answer<Check> {
    /// Whether the RAIDA said the coin passes.
    pub fn is_pass(&self) -> bool {
        matches!(self, Answer::Said(Check::Pass))
    }

    /// Whether the RAIDA said the coin fails.
    pub fn is_fail(&self) -> bool {
        matches!(self, Answer::Said(Check::Fail))
    }
}

/// The answer to echo: the RAIDA is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Echo {
    /// The time from connecting to the last byte of the answer, as this client saw it.
    pub round_trip: Duration,
    /// The execution time the RAIDA reported.
    pub exec_micros: u32,
}

/// What one RAIDA said about one coin of a get ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketCheck {
    /// The coin passed; the ticket of its request, to present in a fix.
    Pass(Ticket),
    /// The coin failed there: no ticket for it.
    Fail,
}

/// Counts of one coin's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct Tally {
    /// RAIDA that said pass.
    pub pass: usize,
    /// RAIDA that said fail.
    pub fail: usize,
    /// RAIDA that said nothing about the coin (no answer, a status, not sent).
    pub other: usize,
}

impl Tally {
    /// The counts of 25 answers.
    ///
    /// ```
    /// use cloudcoin_raida::{Answer, Check, Silence, Tally};
    ///
    /// let mut answers = [const { Answer::Said(Check::Pass) }; 25];
    /// answers[0] = Answer::Said(Check::Fail);
    /// answers[1] = Answer::NoAnswer(Silence::Closed);
    /// let t = Tally::of(&answers);
    /// assert_eq!((t.pass, t.fail, t.other), (23, 1, 1));
    /// ```
    pub fn of(answers: &[Answer<Check>; RAIDA_COUNT]) -> Tally {
        let mut t = Tally::default();
        for a in answers {
            match a {
                Answer::Said(Check::Pass) => t.pass += 1,
                Answer::Said(Check::Fail) => t.fail += 1,
                _ => t.other += 1,
            }
        }
        t
    }

    /// The grade of RAIDA.md §5 for these counts.
    pub fn grade(self) -> Grade {
        if self.pass >= AGREEMENT {
            if self.fail == 0 { Grade::Bank } else { Grade::Fracked }
        } else if self.fail >= AGREEMENT {
            Grade::Counterfeit
        } else {
            Grade::Limbo
        }
    }
}

/// How many RAIDA must agree: 13 of 25.
pub const AGREEMENT: usize = 13;

/// A coin's grade (RAIDA.md §5).
///
/// ```
/// use cloudcoin_raida::{grade, Answer, Check, Grade, Silence};
///
/// let mut answers = [const { Answer::Said(Check::Pass) }; 25];
/// assert_eq!(grade(&answers), Grade::Bank);
/// answers[4] = Answer::Said(Check::Fail);
/// assert_eq!(grade(&answers), Grade::Fracked);
/// for a in &mut answers[..13] {
///     *a = Answer::NoAnswer(Silence::Timeout);
/// }
/// assert_eq!(grade(&answers), Grade::Limbo);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Grade {
    /// At least 13 passes and no fail (RAIDA that did not answer are not fails).
    Bank,
    /// At least 13 passes and some fails: fixable where it failed.
    Fracked,
    /// At least 13 fails.
    Counterfeit,
    /// Neither: too many RAIDA did not answer about it. Settle it later (find, detect).
    Limbo,
}

/// The grade of one coin's 25 answers: ≥ 13 passes authentic (Bank without a fail, else
/// Fracked), ≥ 13 fails counterfeit, else Limbo. See [`Grade`] for an example.
pub fn grade(answers: &[Answer<Check>; RAIDA_COUNT]) -> Grade {
    Tally::of(answers).grade()
}

/// The answers of the 25 RAIDA to a command that is not about a batch of coins (echo, change
/// SNs, break, join, make change).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaidaAnswers<T>(pub(crate) Vec<Answer<T>>);

impl<T> RaidaAnswers<T> {
    /// RAIDA `r`'s answer.
    pub fn get(&self, r: RaidaId) -> &Answer<T> {
        &self.0[r.index()]
    }

    /// The answers in id order.
    pub fn iter(&self) -> impl Iterator<Item = (RaidaId, &Answer<T>)> {
        RaidaId::all().zip(&self.0)
    }

    /// How many RAIDA answered about the request with `Said`.
    pub fn said_count(&self) -> usize {
        self.0.iter().filter(|a| a.said().is_some()).count()
    }
}

impl RaidaAnswers<Check> {
    /// The counts; see [`Tally`].
    pub fn tally(&self) -> Tally {
        Tally::of(self.as_array())
    }

    /// The grade of the 25 answers, as for a coin.
    pub fn grade(&self) -> Grade {
        self.tally().grade()
    }

    fn as_array(&self) -> &[Answer<Check>; RAIDA_COUNT] {
        self.0.as_slice().try_into().expect("one answer per RAIDA")
    }
}

/// The answers to a batch command (detect, pown, get ticket, find, fix): for each coin of the
/// request, in its order, one answer per RAIDA.
///
/// ```
/// # async fn demo(client: &cloudcoin_raida::Client, coins: &[cloudcoin_domain::Coin]) {
/// use cloudcoin_raida::Grade;
///
/// let answers = client.detect(coins).await.expect("a detect fits");
/// for (coin, grade) in answers.grades() {
///     if grade == Grade::Fracked {
///         // get tickets where it passes and fix it where it fails
///     }
///     let _ = coin;
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoinAnswers<T> {
    pub(crate) coins: Vec<CoinId>,
    pub(crate) answers: Vec<[Answer<T>; RAIDA_COUNT]>,
}

impl<T> CoinAnswers<T> {
    /// How many coins.
    pub fn len(&self) -> usize {
        self.coins.len()
    }

    /// Whether there are no coins.
    pub fn is_empty(&self) -> bool {
        self.coins.is_empty()
    }

    /// Coin `i` and its 25 answers.
    pub fn coin(&self, i: usize) -> (CoinId, &[Answer<T>; RAIDA_COUNT]) {
        (self.coins[i], &self.answers[i])
    }

    /// Each coin with its 25 answers, in request order.
    pub fn iter(&self) -> impl Iterator<Item = (CoinId, &[Answer<T>; RAIDA_COUNT])> {
        self.coins.iter().copied().zip(&self.answers)
    }
}

impl CoinAnswers<Check> {
    /// Each coin with its grade.
    pub fn grades(&self) -> impl Iterator<Item = (CoinId, Grade)> + '_ {
        self.iter().map(|(id, a)| (id, grade(a)))
    }

    /// The RAIDA where coin `i` passed.
    pub fn passed_at(&self, i: usize) -> RaidaSet {
        where_(&self.answers[i], Answer::is_pass)
    }

    /// The RAIDA where coin `i` failed.
    pub fn failed_at(&self, i: usize) -> RaidaSet {
        where_(&self.answers[i], Answer::is_fail)
    }

    /// The RAIDA where the request with coin `i` may have been applied unseen.
    pub fn silent_at(&self, i: usize) -> RaidaSet {
        where_(&self.answers[i], Answer::maybe_applied)
    }
}

impl CoinAnswers<TicketCheck> {
    /// The 25 tickets of coin `i`, where it passed, ready for a fix.
    pub fn tickets(&self, i: usize) -> [Option<Ticket>; RAIDA_COUNT] {
        core::array::from_fn(|r| match self.answers[i][r] {
            Answer::Said(TicketCheck::Pass(t)) => Some(t),
            _ => None,
        })
    }
}

fn where_<T>(answers: &[Answer<T>; RAIDA_COUNT], f: impl Fn(&Answer<T>) -> bool) -> RaidaSet {
    RaidaId::all().filter(|r| f(&answers[r.index()])).collect()
}
