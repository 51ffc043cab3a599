//! JSON plumbing: the envelope as bytes, and a request object that keeps each field's raw text
//! so every field is checked (and named) by the endpoint that reads it.

use std::collections::HashSet;
use std::fmt;

use bytes::Bytes;
use cloudcoin_domain::Amount;
use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::error::ApiError;
use crate::wire::Envelope;

/// `{"status":"success","payload":…}` as bytes.
pub(crate) fn success_body<T: Serialize>(payload: T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(&Envelope::Success(payload))
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(&e))
}

/// `{"status":"error","payload":{"status":"error","code","message","details"}}` as bytes.
pub(crate) fn error_body(e: &ApiError) -> Bytes {
    match serde_json::to_vec(&Envelope::<()>::Error(e.payload())) {
        Ok(v) => Bytes::from(v),
        Err(err) => {
            tracing::error!(error = %err, "cannot serialize an error envelope");
            Bytes::from_static(
                br#"{"status":"error","payload":{"status":"error","code":4305,"message":"internal server error","details":null}}"#,
            )
        }
    }
}

/// The most keys one request object may have (every endpoint reads at most five).
pub(crate) const MAX_KEYS: usize = 64;

/// A JSON object whose values are kept as raw text; a repeated key is refused, and so is an
/// object of more than [`MAX_KEYS`] keys. The check is one pass (a hash set of the keys seen).
#[derive(Debug)]
pub(crate) struct Fields {
    entries: Vec<(String, Box<RawValue>)>,
    /// Where this object sits in the request (`""` at the top, `items[2].` inside an array).
    prefix: String,
}

impl<'de> Deserialize<'de> for Fields {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = Fields;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
                let mut entries: Vec<(String, Box<RawValue>)> = Vec::new();
                let mut seen = HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    // Bounded before anything is kept, so a hostile object costs one pass.
                    if entries.len() == MAX_KEYS {
                        return Err(de::Error::custom(format!(
                            "an object has more than {MAX_KEYS} keys; no request needs that many"
                        )));
                    }
                    if !seen.insert(key.clone()) {
                        return Err(de::Error::custom(format!("the key {key:?} appears twice")));
                    }
                    let value = map.next_value::<Box<RawValue>>()?;
                    entries.push((key, value));
                }
                Ok(Fields { entries, prefix: String::new() })
            }
        }
        d.deserialize_map(ObjectVisitor)
    }
}

impl Fields {
    /// Parses a request body that must be one JSON object (4110 otherwise).
    pub(crate) fn parse_body(body: &[u8]) -> Result<Fields, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::bad_json("the body is empty; send a JSON object"));
        }
        serde_json::from_slice::<Fields>(body).map_err(ApiError::bad_json)
    }

    /// Parses one raw value as a nested object, for the field named `name`.
    pub(crate) fn parse_nested(raw: &RawValue, name: &str) -> Result<Fields, ApiError> {
        let mut f = serde_json::from_str::<Fields>(raw.get())
            .map_err(|_| ApiError::field(name, "must be a JSON object"))?;
        f.prefix = format!("{name}.");
        Ok(f)
    }

    /// The full name of `key` as the client sees it (`items[1].data`).
    pub(crate) fn name(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// The raw value of `key`, treating JSON `null` as absent.
    pub(crate) fn get(&self, key: &str) -> Option<&RawValue> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_ref())
            .filter(|v| v.get().trim() != "null")
    }

    /// A required value.
    pub(crate) fn required(&self, key: &str) -> Result<&RawValue, ApiError> {
        self.get(key).ok_or_else(|| ApiError::missing(&self.name(key)))
    }

    /// A required string.
    pub(crate) fn string(&self, key: &str) -> Result<String, ApiError> {
        let raw = self.required(key)?;
        as_string(raw).ok_or_else(|| ApiError::field(&self.name(key), "must be a string"))
    }

    /// An optional string (absent or `null` give `None`).
    pub(crate) fn opt_string(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => as_string(raw)
                .map(Some)
                .ok_or_else(|| ApiError::field(&self.name(key), "must be a string")),
        }
    }

    /// An optional boolean (absent or `null` give `false`).
    pub(crate) fn flag(&self, key: &str) -> Result<bool, ApiError> {
        match self.get(key).map(|raw| raw.get().trim()) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(ApiError::field(&self.name(key), "must be true or false")),
        }
    }

    /// A required amount: a JSON number (its exact text) or a JSON string holding a decimal.
    pub(crate) fn amount(&self, key: &str) -> Result<Amount, ApiError> {
        let raw = self.required(key)?;
        let name = self.name(key);
        let text = raw.get().trim();
        let decimal = if text.starts_with('"') {
            as_string(raw).ok_or_else(|| ApiError::field(&name, "must be a number or a string"))?
        } else if text.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
            text.to_owned()
        } else {
            return Err(ApiError::field(
                &name,
                "must be a number such as 10.5 or a string such as \"10.5\"",
            ));
        };
        Amount::parse_request(&decimal).map_err(|e| crate::error::amount_error(&name, &e))
    }

    /// An optional boolean (absent or `null` give `None`).
    pub(crate) fn opt_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key).map(|raw| raw.get().trim()) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(ApiError::field(&self.name(key), "must be true or false")),
        }
    }

    /// A required array of raw values.
    pub(crate) fn array(&self, key: &str) -> Result<Vec<Box<RawValue>>, ApiError> {
        let raw = self.required(key)?;
        serde_json::from_str::<Vec<Box<RawValue>>>(raw.get())
            .map_err(|_| ApiError::field(&self.name(key), "must be an array"))
    }
}

fn as_string(raw: &RawValue) -> Option<String> {
    serde_json::from_str::<String>(raw.get()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amount_fields_from_numbers_and_strings() {
        let f = Fields::parse_body(br#"{"a": 10.5, "b": "0.00000001", "c": 1e1}"#).expect("object");
        assert_eq!(f.amount("a").expect("number").units(), 1_050_000_000);
        assert_eq!(f.amount("b").expect("string").units(), 1);
        assert_eq!(f.amount("c").expect("exponent").units(), 1_000_000_000);
    }

    #[test]
    fn bad_amounts_name_the_field() {
        let body = br#"{"z":0,"n":-1,"d":0.000000001,"s":"abc","h":1e400,"b":true,"x":"NaN"}"#;
        let f = Fields::parse_body(body).expect("object");
        for key in ["z", "n", "d", "s", "h", "b", "x"] {
            let e = f.amount(key).expect_err(key);
            assert_eq!(e.code, crate::error::code::INVALID_FIELD, "{key}");
            assert!(e.message.starts_with(&format!("{key}: ")), "{key}: {}", e.message);
        }
        assert!(f.amount("missing").expect_err("absent").message.contains("required"));
    }

    #[test]
    fn bodies_that_are_not_objects_are_4110() {
        for body in [&b"not json"[..], b"[1,2]", b"\"x\"", b"", b"{\"a\":1,\"a\":2}", b"{\"a\":1"] {
            let e = Fields::parse_body(body).expect_err("refused");
            assert_eq!(e.code, crate::error::code::BAD_JSON, "{body:?}");
        }
    }

    #[test]
    fn objects_with_too_many_keys_are_refused_at_the_limit() {
        let object = |n: usize| {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{}}}", keys.join(","))
        };
        assert!(Fields::parse_body(object(MAX_KEYS).as_bytes()).is_ok());
        let e = Fields::parse_body(object(MAX_KEYS + 1).as_bytes()).expect_err("too many");
        assert_eq!(e.code, crate::error::code::BAD_JSON);
        assert!(e.message.contains("more than 64 keys"), "{}", e.message);
        // The audit's body: 80,000 distinct keys. Refused on reaching the limit.
        let e = Fields::parse_body(object(80_000).as_bytes()).expect_err("too many");
        assert!(e.message.contains("more than 64 keys"), "{}", e.message);
        // A repeat is still found when it is the last of many keys.
        let mut repeated = object(MAX_KEYS - 1);
        repeated.insert_str(repeated.len() - 1, ",\"k0\":1");
        let e = Fields::parse_body(repeated.as_bytes()).expect_err("repeat");
        assert!(e.message.contains("appears twice"), "{}", e.message);
    }

    #[test]
    fn strings_nulls_and_nested_objects() {
        let f =
            Fields::parse_body(br#"{"s":"x","n":null,"i":3,"o":{"t":"file"}}"#).expect("object");
        assert_eq!(f.string("s").expect("string"), "x");
        assert_eq!(f.opt_string("n").expect("null is absent"), None);
        assert!(f.string("n").expect_err("required").message.starts_with("n: "));
        assert!(f.string("i").expect_err("not a string").message.contains("must be a string"));
        let o = Fields::parse_nested(f.required("o").expect("present"), "items[0]").expect("obj");
        assert_eq!(o.name("t"), "items[0].t");
        assert_eq!(o.string("t").expect("string"), "file");
    }
}
