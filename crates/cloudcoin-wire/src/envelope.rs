//! The envelope every answer comes in, and the error payload.

use std::fmt;

use cloudcoin_domain::Amount;
use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::fields::opt_amount;

/// An answer of the API: a success with its payload, or an error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)] // the payload is read once and taken apart at once
pub enum Envelope<T> {
    /// `{"status":"success","payload":T}`.
    Success(T),
    /// `{"status":"error","payload":{…}}`.
    Error(ErrorPayload),
}

impl<T> Envelope<T> {
    /// The payload of a success, or the error.
    pub fn into_result(self) -> Result<T, ErrorPayload> {
        match self {
            Envelope::Success(t) => Ok(t),
            Envelope::Error(e) => Err(e),
        }
    }
}

impl<T: Serialize> Serialize for Envelope<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        match self {
            Envelope::Success(t) => {
                m.serialize_entry("status", "success")?;
                m.serialize_entry("payload", t)?;
            }
            Envelope::Error(e) => {
                m.serialize_entry("status", "error")?;
                m.serialize_entry("payload", e)?;
            }
        }
        m.end()
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Envelope<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            status: String,
            payload: Box<RawValue>,
        }
        let raw = Raw::deserialize(d)?;
        match raw.status.as_str() {
            "success" => serde_json::from_str(raw.payload.get())
                .map(Envelope::Success)
                .map_err(de::Error::custom),
            "error" => serde_json::from_str(raw.payload.get())
                .map(Envelope::Error)
                .map_err(de::Error::custom),
            other => Err(de::Error::unknown_variant(other, &["success", "error"])),
        }
    }
}

/// The `payload` of an error envelope, also the `data` of a task that failed.
///
/// On the wire it carries `"status":"error"` too, so a client that only looks at
/// `payload.status` (as it does when polling a task) stops on an error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorPayload {
    #[serde(default)]
    status: ErrorTag,
    /// The numeric code (see [`codes`](crate::codes)).
    pub code: u16,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// Facts about the failure a program can use (which field, the balance, …).
    pub details: Option<Box<ErrorDetails>>,
}

impl ErrorPayload {
    /// An error payload with no details.
    pub fn new(code: u16, message: impl Into<String>) -> ErrorPayload {
        ErrorPayload { status: ErrorTag, code, message: message.into(), details: None }
    }

    /// The same payload with `details`.
    pub fn with_details(mut self, details: ErrorDetails) -> ErrorPayload {
        self.details = Some(Box::new(details));
        self
    }
}

impl fmt::Display for ErrorPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (code {})", self.message, self.code)
    }
}

impl std::error::Error for ErrorPayload {}

/// Always `"error"` on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct ErrorTag;

impl Serialize for ErrorTag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("error")
    }
}

impl<'de> Deserialize<'de> for ErrorTag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == "error" {
            Ok(ErrorTag)
        } else {
            Err(de::Error::invalid_value(de::Unexpected::Str(&text), &"\"error\""))
        }
    }
}

/// The `details` of an error: each field is present only for the failures it belongs to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// The request field that failed validation (4121), as the client named it
    /// (`items[1].data`, `Idempotency-Key header`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The body limit in bytes that was exceeded (4307).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The wallet concerned (4114, 4115, 4116).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The folder refused (4193).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<String>,
    /// The wallet's balance (4134, 4135).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub balance: Option<Amount>,
    /// The amount asked for (4134, 4135).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub requested: Option<Amount>,
    /// The nearest amount below the request that the wallet can make exactly (4134).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub below: Option<Amount>,
    /// The nearest amount above the request that the wallet can make exactly (4134).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_amount")]
    pub above: Option<Amount>,
    /// How many coins the amount needs (4300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<u64>,
    /// The most coins one file holds (4300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}
