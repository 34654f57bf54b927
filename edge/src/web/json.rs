//! JSON answers, every instant in them to the millisecond.
//!
//! Postgres keeps microseconds and the SLA clock computes in nanoseconds, while clients read
//! milliseconds (JavaScript's `Date`, and most JSON libraries). An instant with six or nine
//! digits either loses them silently on the client, so that a value sent back no longer equals
//! the stored one, or does not parse at all. So every answer cuts instants to milliseconds
//! here, once, instead of at every place an instant is produced (SQL `now()`, workflow time,
//! calendar arithmetic) or on every response type's fields.
//!
//! chrono writes a `DateTime` through [`Serializer::collect_str`] (its RFC 3339 `Display`),
//! while text (a ticket's title, a stored JSON document) goes through
//! [`Serializer::serialize_str`]. [`Millis`] rewrites only what comes through `collect_str`
//! and reads as an RFC 3339 instant, so an instant is cut and text a caller wrote never is; a
//! unit test below fails should chrono stop writing instants that way.

use crate::web::error::ApiError;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::ser::{self, Serialize, Serializer};
use std::borrow::Cow;
use std::fmt::Display;

/// A JSON answer (`application/json`), instants to the millisecond.
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match to_vec(&self.0) {
            Ok(body) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => ApiError::internal(e).into_response(),
        }
    }
}

/// `value` as JSON, instants to the millisecond.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    value.serialize(Millis(&mut serde_json::Serializer::new(&mut out)))?;
    Ok(out)
}

/// `text` with the fraction of a second cut to three digits when it is an RFC 3339 instant
/// with more; anything else as it is.
fn millis(text: &str) -> Cow<'_, str> {
    // In an RFC 3339 instant the only `.` starts the fraction of a second.
    let Some(dot) = text.find('.') else {
        return Cow::Borrowed(text);
    };
    let digits = text[dot + 1..]
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits <= 3 || chrono::DateTime::parse_from_rfc3339(text).is_err() {
        return Cow::Borrowed(text);
    }
    let mut cut = String::with_capacity(text.len());
    cut.push_str(&text[..dot + 4]);
    cut.push_str(&text[dot + 1 + digits..]);
    Cow::Owned(cut)
}

/// A serializer that passes everything to `S` and cuts instants (see the module doc).
struct Millis<S>(S);

/// A value serialized through [`Millis`], for the values inside options, sequences, maps and
/// structs.
struct Inner<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for Inner<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(Millis(serializer))
    }
}

macro_rules! pass {
    ($($method:ident($ty:ty)),* $(,)?) => {
        $(fn $method(self, v: $ty) -> Result<S::Ok, S::Error> {
            self.0.$method(v)
        })*
    };
}

impl<S: Serializer> Serializer for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Millis<S::SerializeSeq>;
    type SerializeTuple = Millis<S::SerializeTuple>;
    type SerializeTupleStruct = Millis<S::SerializeTupleStruct>;
    type SerializeTupleVariant = Millis<S::SerializeTupleVariant>;
    type SerializeMap = Millis<S::SerializeMap>;
    type SerializeStruct = Millis<S::SerializeStruct>;
    type SerializeStructVariant = Millis<S::SerializeStructVariant>;

    pass!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_i128(i128),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_unit_struct(&'static str),
    );

    fn serialize_none(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_none()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        self.0.serialize_some(&Inner(value))
    }

    fn serialize_unit(self) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit()
    }

    fn serialize_unit_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_unit_variant(name, index, variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, &Inner(value))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, &Inner(value))
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        self.0.serialize_seq(len).map(Millis)
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        self.0.serialize_tuple(len).map(Millis)
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        self.0.serialize_tuple_struct(name, len).map(Millis)
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        self.0
            .serialize_tuple_variant(name, index, variant, len)
            .map(Millis)
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        self.0.serialize_map(len).map(Millis)
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        self.0.serialize_struct(name, len).map(Millis)
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        self.0
            .serialize_struct_variant(name, index, variant, len)
            .map(Millis)
    }

    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let text = value.to_string();
        self.0.serialize_str(&millis(&text))
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

impl<S: ser::SerializeSeq> ser::SerializeSeq for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_element(&Inner(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTuple> ser::SerializeTuple for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_element(&Inner(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleStruct> ser::SerializeTupleStruct for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(&Inner(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeTupleVariant> ser::SerializeTupleVariant for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_field(&Inner(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeMap> ser::SerializeMap for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), S::Error> {
        self.0.serialize_key(&Inner(key))
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), S::Error> {
        self.0.serialize_value(&Inner(value))
    }

    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), S::Error> {
        self.0.serialize_entry(&Inner(key), &Inner(value))
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStruct> ser::SerializeStruct for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Inner(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

impl<S: ser::SerializeStructVariant> ser::SerializeStructVariant for Millis<S> {
    type Ok = S::Ok;
    type Error = S::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), S::Error> {
        self.0.serialize_field(key, &Inner(value))
    }

    fn skip_field(&mut self, key: &'static str) -> Result<(), S::Error> {
        self.0.skip_field(key)
    }

    fn end(self) -> Result<S::Ok, S::Error> {
        self.0.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use serde::Serialize;
    use serde_json::{Value, json};
    use std::collections::BTreeMap;

    fn render<T: Serialize>(value: &T) -> Value {
        serde_json::from_slice(&to_vec(value).unwrap()).unwrap()
    }

    fn instant(nanos: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 10, 15, 30).unwrap()
            + chrono::Duration::nanoseconds(i64::from(nanos))
    }

    #[derive(Serialize)]
    struct Inside {
        at: DateTime<Utc>,
    }

    #[derive(Serialize)]
    struct Answer {
        created_at: DateTime<Utc>,
        closed_at: Option<DateTime<Utc>>,
        list: Vec<DateTime<Utc>>,
        by_day: BTreeMap<String, DateTime<Utc>>,
        #[serde(flatten)]
        flat: Inside,
        nested: Option<Inside>,
        tuple: (u8, DateTime<Utc>),
        title: String,
        detail: Value,
    }

    #[test]
    fn instants_are_cut_to_milliseconds_wherever_they_are() {
        let t = instant(123_456_789);
        let answer = Answer {
            created_at: t,
            closed_at: Some(t),
            list: vec![t, instant(0), instant(120_000_000)],
            by_day: BTreeMap::from([("mon".to_owned(), t)]),
            flat: Inside { at: t },
            nested: Some(Inside { at: t }),
            tuple: (1, t),
            title: "2026-11-25T10:15:30.123456789Z".to_owned(),
            detail: json!({"at": "2026-11-25T10:15:30.123456Z"}),
        };
        let cut = "2026-11-25T10:15:30.123Z";
        assert_eq!(
            render(&answer),
            json!({
                "created_at": cut,
                "closed_at": cut,
                "list": [cut, "2026-11-25T10:15:30Z", "2026-11-25T10:15:30.120Z"],
                "by_day": {"mon": cut},
                "at": cut,
                "nested": {"at": cut},
                "tuple": [1, cut],
                // Text is never rewritten, even when it reads as an instant.
                "title": "2026-11-25T10:15:30.123456789Z",
                "detail": {"at": "2026-11-25T10:15:30.123456Z"},
            })
        );
    }

    #[test]
    fn chrono_writes_instants_through_collect_str() {
        // What `Millis` relies on: were chrono to write instants with `serialize_str`, they
        // would pass uncut and this would fail.
        let text = serde_json::to_string(&instant(123_456_789)).unwrap();
        assert_eq!(text, "\"2026-11-25T10:15:30.123456789Z\"");
        assert_eq!(
            render(&instant(123_456_789)),
            json!("2026-11-25T10:15:30.123Z")
        );
    }

    #[test]
    fn only_instants_are_cut() {
        for text in [
            "1.23456",
            "v1.2.3456",
            "2026-11-25",
            "2026-11-25T10:15:30.123Z",
            "2026-11-25T10:15:30Z",
            "2026-11-25T10:15:30.1234",
        ] {
            assert_eq!(millis(text), text);
        }
        assert_eq!(
            millis("2026-11-25T10:15:30.123456+02:00"),
            "2026-11-25T10:15:30.123+02:00"
        );
    }
}
