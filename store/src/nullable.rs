//! Patches that can clear a field: a field sent as `null` must be told from one not sent.

use serde::{Deserialize, Deserializer};

/// Deserializes a field sent as `null` to `Some(None)` (clear it); with `#[serde(default)]` a
/// field not sent stays `None` (keep it).
pub(crate) fn nullable<'de, T, D>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
