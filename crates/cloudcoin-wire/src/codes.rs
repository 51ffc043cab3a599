//! The numeric error codes of the error envelope's `payload.code`.
//!
//! The CloudCoin desktop backend's codes where one exists, and ours from 4300. Each constant's
//! doc gives the HTTP status it comes with; codes marked "in a task" appear only in the `data` of
//! a task that ended in error, and the codes from 4320 only as the `code` of an import's
//! refusals (`data.rejected`), one per [`crate::RefusalKind`].
//!
//! ```
//! use cloudcoin_wire::codes;
//! assert_eq!(codes::WALLET_NOT_FOUND, 4115);
//! assert_eq!(codes::describe(4308), Some("missing or wrong bearer token"));
//! ```

/// 404: task not found.
pub const TASK_NOT_FOUND: u16 = 4105;
/// 400: the body is not JSON, not a JSON object, or repeats a key.
pub const BAD_JSON: u16 = 4110;
/// 409: the wallet already exists.
pub const WALLET_EXISTS: u16 = 4114;
/// 404: wallet not found.
pub const WALLET_NOT_FOUND: u16 = 4115;
/// 409: the wallet is not empty (delete refused).
pub const WALLET_NOT_EMPTY: u16 = 4116;
/// 400: a field fails validation; the message starts with the field's name.
pub const INVALID_FIELD: u16 = 4121;
/// 422: no exact set of coins for the amount; the details give the nearest amounts.
pub const NO_EXACT_CHANGE: u16 = 4134;
/// 422: not enough coins; the details give the balance.
pub const NOT_ENOUGH_COINS: u16 = 4135;
/// 404: no such endpoint.
pub const NO_SUCH_ENDPOINT: u16 = 4154;
/// 400: unknown export type.
pub const UNKNOWN_TYPE: u16 = 4162;
/// 422: folder refused (not absolute, missing, not a writable directory, outside the roots,
/// or inside the data directory).
pub const BAD_FOLDER: u16 = 4193;
/// 422: the amount needs more coins than one file holds (65,535).
pub const TOO_MANY_COINS: u16 = 4300;
/// 422: `Idempotency-Key` reused with a different request.
pub const IDEMPOTENCY_CONFLICT: u16 = 4301;
/// In a task: it failed reading or writing files.
pub const TASK_IO: u16 = 4302;
/// In a task: its output did not verify.
pub const TASK_VERIFICATION: u16 = 4303;
/// In a task: the server stopped while it ran, and recovery finished it.
pub const TASK_INTERRUPTED: u16 = 4304;
/// 500: internal error (details only in the server log); also a task that failed for an
/// internal reason.
pub const INTERNAL: u16 = 4305;
/// 405: method not allowed on this path (see the `Allow` header).
pub const METHOD_NOT_ALLOWED: u16 = 4306;
/// 413: request body larger than the limit.
pub const BODY_TOO_LARGE: u16 = 4307;
/// 401: missing or wrong bearer token.
pub const UNAUTHORIZED: u16 = 4308;
/// 403: the `Host` header is not the server's own address.
pub const HOST_NOT_ALLOWED: u16 = 4309;
/// 403: `Origin` not allowed.
pub const ORIGIN_NOT_ALLOWED: u16 = 4310;
/// 408: the request body did not arrive in time.
pub const BODY_TIMEOUT: u16 = 4311;
/// 400: a header that must appear once (`Host`) appears more than once.
pub const DUPLICATE_HEADER: u16 = 4312;
/// 409: the task has no file to download (not a completed export or backup).
pub const TASK_HAS_NO_FILE: u16 = 4313;
/// 410: the task's file was moved, removed or changed since the task wrote it.
pub const FILE_CHANGED: u16 = 4314;
/// 409: the request needs the RAIDA network, and the server has none configured.
pub const NO_NETWORK: u16 = 4315;
/// 409: the task is not an export that completed (reclaim and its check take an export's id).
pub const NOT_AN_EXPORT: u16 = 4316;

// The codes of import refusals: `code` of each entry in an import task's `data.rejected`, one
// per [`crate::RefusalKind`]. They never come as an HTTP answer.

/// In an import's refusals: the item could not be read (no such file, not a regular file, too
/// large, not absolute, inside the data directory, or inline data that is not base64).
pub const REFUSED_UNREADABLE: u16 = 4320;
/// In an import's refusals: the item is not coins in any format this server reads.
pub const REFUSED_NOT_COINS: u16 = 4321;
/// In an import's refusals: a coin whose denomination is not money.
pub const REFUSED_NOT_MONEY: u16 = 4322;
/// In an import's refusals: a picture with no readable code, or a printed page with codes
/// missing.
pub const REFUSED_PAPER_UNREAD: u16 = 4323;
/// In an import's refusals: another wallet of this server holds the coin, or is importing it.
pub const REFUSED_HELD_BY_OTHER_WALLET: u16 = 4324;
/// In an import's refusals: an export of this wallet holds the coin; import the file again once
/// it has ended.
pub const REFUSED_BEING_EXPORTED: u16 = 4325;
/// In an import's refusals: the wallet holds the coin with other keys; keep the file.
pub const REFUSED_OTHER_KEYS: u16 = 4326;
/// In an import's refusals: a file of the coin lies in another wallet's held folder.
pub const REFUSED_IN_OTHER_WALLET_FOLDER: u16 = 4327;
/// In an import's refusals: this server sent the coin away in an export; the same import with
/// `allow_sent` stores it.
pub const REFUSED_SENT_AWAY: u16 = 4328;
/// In an import's refusals: recorded by a server version that kept no kind.
pub const REFUSED_UNCLASSIFIED: u16 = 4329;

/// Every code with its meaning, in numeric order.
pub const ALL: &[(u16, &str)] = &[
    (TASK_NOT_FOUND, "task not found"),
    (BAD_JSON, "body is not a JSON object (or repeats a key)"),
    (WALLET_EXISTS, "wallet already exists"),
    (WALLET_NOT_FOUND, "wallet not found"),
    (WALLET_NOT_EMPTY, "wallet not empty"),
    (INVALID_FIELD, "a field fails validation; the message starts with the field's name"),
    (NO_EXACT_CHANGE, "no exact set of coins; details give the nearest amounts below and above"),
    (NOT_ENOUGH_COINS, "not enough coins; details give the balance"),
    (NO_SUCH_ENDPOINT, "no such endpoint"),
    (UNKNOWN_TYPE, "unknown export type"),
    (BAD_FOLDER, "folder refused"),
    (TOO_MANY_COINS, "the amount needs more coins than one file holds (65,535)"),
    (IDEMPOTENCY_CONFLICT, "Idempotency-Key reused with a different request"),
    (TASK_IO, "a task failed reading or writing files"),
    (TASK_VERIFICATION, "a task's output did not verify"),
    (TASK_INTERRUPTED, "a task was interrupted by a stop and finished by recovery"),
    (INTERNAL, "internal error (details only in the server log)"),
    (METHOD_NOT_ALLOWED, "method not allowed on this path"),
    (BODY_TOO_LARGE, "request body larger than the limit"),
    (UNAUTHORIZED, "missing or wrong bearer token"),
    (HOST_NOT_ALLOWED, "Host header is not the server's own address"),
    (ORIGIN_NOT_ALLOWED, "Origin not allowed"),
    (BODY_TIMEOUT, "request body did not arrive in time"),
    (DUPLICATE_HEADER, "a header that must appear once (Host) appears more than once"),
    (TASK_HAS_NO_FILE, "the task has no file to download"),
    (FILE_CHANGED, "the task's file was moved, removed or changed since it was written"),
    (NO_NETWORK, "no RAIDA network configured (--raida-list)"),
    (NOT_AN_EXPORT, "the task is not a completed export (reclaim)"),
    (REFUSED_UNREADABLE, "import refusal: the item could not be read"),
    (REFUSED_NOT_COINS, "import refusal: the item is not coins in a format this server reads"),
    (REFUSED_NOT_MONEY, "import refusal: a coin whose denomination is not money"),
    (
        REFUSED_PAPER_UNREAD,
        "import refusal: a picture with no readable code, or a page with codes missing",
    ),
    (
        REFUSED_HELD_BY_OTHER_WALLET,
        "import refusal: another wallet of this server holds or is importing the coin",
    ),
    (
        REFUSED_BEING_EXPORTED,
        "import refusal: an export of this wallet holds the coin; import again once it ended",
    ),
    (
        REFUSED_OTHER_KEYS,
        "import refusal: the wallet holds the coin with other keys; keep the file",
    ),
    (
        REFUSED_IN_OTHER_WALLET_FOLDER,
        "import refusal: a file of the coin is in another wallet's held folder",
    ),
    (REFUSED_SENT_AWAY, "import refusal: this server sent the coin away; allow_sent stores it"),
    (REFUSED_UNCLASSIFIED, "import refusal recorded by a server version that kept no kind"),
];

/// The meaning of `code`, or `None` for a code this API never sends.
pub fn describe(code: u16) -> Option<&'static str> {
    ALL.iter().find(|(c, _)| *c == code).map(|(_, meaning)| *meaning)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed_once_in_order() {
        assert!(ALL.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(describe(WALLET_NOT_FOUND), Some("wallet not found"));
        assert_eq!(describe(1), None);
    }
}
