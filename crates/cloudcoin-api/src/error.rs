//! The one place where failures become HTTP: status, CloudCoin numeric code, and a message a
//! person can act on. 5xx answers stay generic; their details go to the log.

use cloudcoin_domain::{AmountError, NameError, SelectError};
use cloudcoin_tasks::{FailureKind, ServiceError, TaskFailure};
use http::StatusCode;

use crate::wire::{ErrorDetails, ErrorPayload};

pub(crate) use crate::codes as code;

/// A failure answer: HTTP status, numeric code, message and optional details.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) code: u16,
    pub(crate) message: String,
    pub(crate) details: Option<Box<ErrorDetails>>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), details: None }
    }

    /// Attaches `details`.
    pub(crate) fn with_details(mut self, details: ErrorDetails) -> ApiError {
        self.details = Some(Box::new(details));
        self
    }

    /// The envelope's payload.
    pub(crate) fn payload(&self) -> ErrorPayload {
        let p = ErrorPayload::new(self.code, self.message.clone());
        match &self.details {
            Some(d) => p.with_details(ErrorDetails::clone(d)),
            None => p,
        }
    }

    /// A field that fails validation (4121); the message names the field.
    pub(crate) fn field(field: &str, problem: impl std::fmt::Display) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code::INVALID_FIELD, format!("{field}: {problem}"))
            .with_details(details(|d| d.field = Some(field.to_owned())))
    }

    /// A required field that is absent (4121).
    pub(crate) fn missing(field: &str) -> ApiError {
        ApiError::field(field, "this field is required")
    }

    /// A body that is not JSON or not of the expected shape (4110).
    pub(crate) fn bad_json(problem: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code::BAD_JSON,
            format!("the request body is not a valid JSON object: {problem}"),
        )
    }

    pub(crate) fn not_found_endpoint(path: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code::NO_SUCH_ENDPOINT,
            format!("there is no endpoint {path}; the API lives under /api/v1"),
        )
    }

    pub(crate) fn method_not_allowed(method: &http::Method, allow: &str) -> ApiError {
        ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            code::METHOD_NOT_ALLOWED,
            format!("method {method} is not allowed here; use {allow}"),
        )
    }

    pub(crate) fn body_too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code::BODY_TOO_LARGE,
            format!("the request body is larger than the limit of {limit} bytes"),
        )
        .with_details(details(|d| d.limit = Some(limit as u64)))
    }

    pub(crate) fn task_not_found(id: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            code::TASK_NOT_FOUND,
            format!("task {id} was not found; finished tasks are forgotten after a while"),
        )
    }

    /// A server fault: logged in full here, answered with a generic message.
    pub(crate) fn internal(detail: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "internal error answering a request");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            code::INTERNAL,
            "internal server error; the details are in the server log",
        )
    }
}

/// Error details with the fields `set` fills in.
fn details(set: impl FnOnce(&mut ErrorDetails)) -> ErrorDetails {
    let mut d = ErrorDetails::default();
    set(&mut d);
    d
}

/// Maps an amount parse failure to 4121 naming `field`.
pub(crate) fn amount_error(field: &str, e: &AmountError) -> ApiError {
    ApiError::field(field, e)
}

/// Maps a wallet-name or tag failure to 4121 naming `field`.
pub(crate) fn name_error(field: &str, e: &NameError) -> ApiError {
    ApiError::field(field, e)
}

/// Maps a selection failure (SPEC §3) to its code: 4135, 4134 or 4300.
pub(crate) fn select_error(e: &SelectError) -> ApiError {
    let status = StatusCode::UNPROCESSABLE_ENTITY;
    match *e {
        SelectError::NotEnoughCoins { balance, requested } => {
            ApiError::new(status, code::NOT_ENOUGH_COINS, e.to_string()).with_details(details(
                |d| (d.balance, d.requested) = (Some(balance), Some(requested)),
            ))
        }
        SelectError::NoExactChange { requested, balance, below, above } => {
            ApiError::new(status, code::NO_EXACT_CHANGE, e.to_string()).with_details(details(|d| {
                (d.balance, d.requested) = (Some(balance), Some(requested));
                (d.below, d.above) = (below, above);
            }))
        }
        SelectError::TooManyCoins { needed, max } => {
            ApiError::new(status, code::TOO_MANY_COINS, e.to_string()).with_details(details(|d| {
                (d.needed, d.max) = (Some(needed as u64), Some(max as u64));
            }))
        }
        #[allow(unreachable_patterns)]
        _ => ApiError::new(status, code::INVALID_FIELD, e.to_string()),
    }
}

/// THE mapping from a service failure to HTTP status, numeric code and message.
pub(crate) fn service_error(e: &ServiceError) -> ApiError {
    use StatusCode as S;
    let wallet =
        |name: &cloudcoin_domain::WalletName| details(|d| d.name = Some(name.as_str().to_owned()));
    match e {
        ServiceError::WalletNotFound { name } => {
            ApiError::new(S::NOT_FOUND, code::WALLET_NOT_FOUND, e.to_string())
                .with_details(wallet(name))
        }
        ServiceError::WalletExists { name } => {
            ApiError::new(S::CONFLICT, code::WALLET_EXISTS, e.to_string())
                .with_details(wallet(name))
        }
        ServiceError::WalletNotEmpty { name, .. } => {
            ApiError::new(S::CONFLICT, code::WALLET_NOT_EMPTY, e.to_string())
                .with_details(wallet(name))
        }
        ServiceError::Select(s) => select_error(s),
        ServiceError::Folder { path, .. } => {
            ApiError::new(S::UNPROCESSABLE_ENTITY, code::BAD_FOLDER, e.to_string())
                .with_details(details(|d| d.folder = Some(path.to_string_lossy().into_owned())))
        }
        ServiceError::IdempotencyConflict { .. } => {
            ApiError::new(S::UNPROCESSABLE_ENTITY, code::IDEMPOTENCY_CONFLICT, e.to_string())
        }
        ServiceError::TooManyItems { .. } => {
            ApiError::new(S::BAD_REQUEST, code::INVALID_FIELD, e.to_string())
                .with_details(details(|d| d.field = Some("items".to_owned())))
        }
        ServiceError::NoNetwork => ApiError::new(S::CONFLICT, code::NO_NETWORK, e.to_string()),
        ServiceError::ExportNotFound { .. } => {
            ApiError::new(S::NOT_FOUND, code::TASK_NOT_FOUND, e.to_string())
        }
        ServiceError::NotAnExport { .. } => {
            ApiError::new(S::CONFLICT, code::NOT_AN_EXPORT, e.to_string())
        }
        ServiceError::Internal(_) => ApiError::internal(e),
        #[allow(unreachable_patterns)]
        _ => ApiError::internal(e),
    }
}

/// The error payload of a failed task (its `data`): the failure kind's code and the message.
pub(crate) fn task_failure(f: &TaskFailure) -> ApiError {
    let code = match f.kind {
        FailureKind::Io => code::TASK_IO,
        FailureKind::Verification => code::TASK_VERIFICATION,
        FailureKind::Interrupted => code::TASK_INTERRUPTED,
        FailureKind::Internal => code::INTERNAL,
        #[allow(unreachable_patterns)]
        _ => code::INTERNAL,
    };
    ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, code, f.message.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudcoin_domain::Amount;
    use std::path::PathBuf;

    fn wallet() -> cloudcoin_domain::WalletName {
        cloudcoin_domain::WalletName::parse("Default").expect("valid name")
    }

    #[test]
    fn every_service_error_has_its_status_and_code() {
        let a = |units| Amount::from_units(units);
        let cases: Vec<(ServiceError, StatusCode, u16)> = vec![
            (ServiceError::WalletNotFound { name: wallet() }, StatusCode::NOT_FOUND, 4115),
            (ServiceError::WalletExists { name: wallet() }, StatusCode::CONFLICT, 4114),
            (ServiceError::WalletNotEmpty { name: wallet(), coins: 3 }, StatusCode::CONFLICT, 4116),
            (
                ServiceError::Select(SelectError::NotEnoughCoins {
                    balance: a(1),
                    requested: a(2),
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
                4135,
            ),
            (
                ServiceError::Select(SelectError::NoExactChange {
                    requested: a(5),
                    balance: a(20),
                    below: Some(a(4)),
                    above: None,
                }),
                StatusCode::UNPROCESSABLE_ENTITY,
                4134,
            ),
            (
                ServiceError::Select(SelectError::TooManyCoins { needed: 70_000, max: 65_535 }),
                StatusCode::UNPROCESSABLE_ENTITY,
                4300,
            ),
            (
                ServiceError::Folder { path: PathBuf::from("x"), problem: "not absolute".into() },
                StatusCode::UNPROCESSABLE_ENTITY,
                4193,
            ),
            (
                ServiceError::IdempotencyConflict { key: "k".into() },
                StatusCode::UNPROCESSABLE_ENTITY,
                4301,
            ),
            (ServiceError::TooManyItems { count: 9, max: 8 }, StatusCode::BAD_REQUEST, 4121),
            (
                ServiceError::Internal("disk on fire at /secret".into()),
                StatusCode::INTERNAL_SERVER_ERROR,
                4305,
            ),
        ];
        for (e, status, code) in cases {
            let api = service_error(&e);
            assert_eq!((api.status, api.code), (status, code), "{e:?}");
            assert!(!api.message.is_empty());
        }
    }

    #[test]
    fn internal_errors_keep_their_details_out_of_the_answer() {
        let api = service_error(&ServiceError::Internal("disk on fire at /secret".into()));
        assert!(!api.message.contains("secret"), "{}", api.message);
        assert!(api.details.is_none());
    }

    #[test]
    fn selection_details_carry_exact_amounts() {
        let e = SelectError::NoExactChange {
            requested: Amount::from_units(1_050_000_000),
            balance: Amount::from_units(2_000_000_000),
            below: Some(Amount::from_units(1_000_000_000)),
            above: Some(Amount::from_units(1_100_000_000)),
        };
        let api = select_error(&e);
        let details = serde_json::to_string(&api.details.expect("details")).expect("json");
        assert_eq!(details, r#"{"balance":20,"requested":10.5,"below":10,"above":11}"#);
    }

    #[test]
    fn failed_tasks_map_by_kind() {
        let f = |kind| TaskFailure::new(kind, "m");
        assert_eq!(task_failure(&f(FailureKind::Io)).code, 4302);
        assert_eq!(task_failure(&f(FailureKind::Verification)).code, 4303);
        assert_eq!(task_failure(&f(FailureKind::Interrupted)).code, 4304);
        assert_eq!(task_failure(&f(FailureKind::Internal)).code, 4305);
    }
}
