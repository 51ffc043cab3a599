//! How the wire writes and reads the domain's values: serde `with` modules, private to the crate.

use std::fmt;

use cloudcoin_domain::{Amount, Denomination, FileKind, Tag, WalletName};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

pub(crate) fn display<T: fmt::Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

pub(crate) fn from_str<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: std::str::FromStr,
    T::Err: fmt::Display,
    D: Deserializer<'de>,
{
    let text = String::deserialize(d)?;
    text.parse().map_err(de::Error::custom)
}

pub(crate) fn lossy_path<S: Serializer>(path: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path.to_string_lossy())
}

/// An [`Amount`] as a JSON number written from its exact decimal text.
pub(crate) mod amount {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(a: &Amount, s: S) -> Result<S::Ok, S::Error> {
        // The decimal text of an Amount ("10.5", "0.00000001") is always a valid JSON number.
        let text = RawValue::from_string(a.to_string()).map_err(serde::ser::Error::custom)?;
        text.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        parse(raw.get()).map_err(de::Error::custom)
    }

    /// A JSON number's text, or a JSON string holding a decimal.
    pub(crate) fn parse(text: &str) -> Result<Amount, String> {
        let text = text.trim();
        let decimal = if text.starts_with('"') {
            serde_json::from_str::<String>(text).map_err(|e| e.to_string())?
        } else {
            text.to_owned()
        };
        decimal.parse::<Amount>().map_err(|e| e.to_string())
    }
}

pub(crate) mod opt_amount {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(a: &Option<Amount>, s: S) -> Result<S::Ok, S::Error> {
        match a {
            Some(a) => amount::serialize(a, s),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Amount>, D::Error> {
        let raw = Option::<Box<RawValue>>::deserialize(d)?;
        match raw {
            None => Ok(None),
            Some(raw) if raw.get().trim() == "null" => Ok(None),
            Some(raw) => amount::parse(raw.get()).map(Some).map_err(de::Error::custom),
        }
    }
}

pub(crate) mod wallet_name {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(n: &WalletName, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(n.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<WalletName, D::Error> {
        let text = String::deserialize(d)?;
        WalletName::parse(&text).map_err(de::Error::custom)
    }
}

pub(crate) mod opt_wallet_name {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        n: &Option<WalletName>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match n {
            Some(n) => s.serialize_str(n.as_str()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<WalletName>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => WalletName::parse(&text).map(Some).map_err(de::Error::custom),
        }
    }
}

/// A [`Tag`] whose absence on the wire is the empty tag.
pub(crate) mod tag {
    use super::*;

    pub(crate) fn is_empty(t: &Tag) -> bool {
        t.as_str().is_empty()
    }

    pub(crate) fn serialize<S: Serializer>(t: &Tag, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Tag, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(Tag::empty()),
            Some(text) => Tag::parse(&text).map_err(de::Error::custom),
        }
    }
}

pub(crate) mod opt_tag {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<Tag>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(t.as_str()),
            None => s.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Tag>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => Tag::parse(&text).map(Some).map_err(de::Error::custom),
        }
    }
}

pub(crate) mod file_kind {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(k: &FileKind, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(k)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<FileKind, D::Error> {
        let text = String::deserialize(d)?;
        FileKind::from_name(&text).ok_or_else(|| {
            de::Error::unknown_variant(&text, &["stack", "png", "zip", "bin", "pdf"])
        })
    }
}

/// Counts per money denomination, as a JSON object keyed by the denomination's value
/// (`{"0.1":3,"100":1}`).
pub(crate) mod per_denomination {
    use std::collections::BTreeMap;

    use serde::ser::SerializeMap;

    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        m: &BTreeMap<Denomination, u64>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(m.len()))?;
        for (d, n) in m {
            map.serialize_entry(&d.to_string(), n)?;
        }
        map.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<Denomination, u64>, D::Error> {
        let text = BTreeMap::<String, u64>::deserialize(d)?;
        text.into_iter()
            .map(|(key, n)| {
                let value: Amount = key.parse().map_err(de::Error::custom)?;
                let denomination =
                    Denomination::all_money_desc().find(|d| d.value() == Some(value)).ok_or_else(
                        || de::Error::custom(format!("{key:?} is not the value of a denomination")),
                    )?;
                Ok((denomination, n))
            })
            .collect()
    }
}

/// A moment in Unix seconds that may not have come yet: `0` on the wire when it has not.
pub(crate) mod unix_or_zero {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(t: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(t.unwrap_or(0))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        let t = u64::deserialize(d)?;
        Ok((t != 0).then_some(t))
    }
}
