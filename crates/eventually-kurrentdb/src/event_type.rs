//! The KurrentDB event type of an `eventually` event: the name serde gives
//! it, read by a serializer that stops at the first name it is told (an
//! enum's variant, a struct's name) without serializing anything.

use std::fmt::{self, Display};

use serde::Serialize;
use serde::ser::{self, Impossible};

/// The name serde knows `event` by: its enum variant (`Deposited` of
/// `AccountEvent::Deposited { .. }`), else its struct's name, else the last
/// segment of its Rust type's name.
pub(crate) fn event_type<E: Serialize>(event: &E) -> String {
    match event.serialize(NameOnly) {
        Err(Stop::Name(name)) if !name.is_empty() => name.to_owned(),
        _ => {
            let name = std::any::type_name::<E>();
            let name = name.split('<').next().unwrap_or(name);
            name.rsplit("::").next().unwrap_or(name).to_owned()
        }
    }
}

/// Why [`NameOnly`] stopped: it found a name, or the value has none.
#[derive(Debug)]
enum Stop {
    Name(&'static str),
    NoName,
}

impl Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("stopped")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: Display>(_: T) -> Self {
        Stop::NoName
    }
}

/// A serializer that answers every call with [`Stop`].
struct NameOnly;

macro_rules! no_name {
    ($($method:ident($($ty:ty),*)),* $(,)?) => {
        $(fn $method(self, $(_: $ty),*) -> Result<Self::Ok, Stop> { Err(Stop::NoName) })*
    };
}

impl ser::Serializer for NameOnly {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Impossible<(), Stop>;
    type SerializeTuple = Impossible<(), Stop>;
    type SerializeTupleStruct = Impossible<(), Stop>;
    type SerializeTupleVariant = Impossible<(), Stop>;
    type SerializeMap = Impossible<(), Stop>;
    type SerializeStruct = Impossible<(), Stop>;
    type SerializeStructVariant = Impossible<(), Stop>;

    no_name!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Stop> {
        value.serialize(self)
    }
    fn serialize_unit_struct(self, name: &'static str) -> Result<(), Stop> {
        Err(Stop::Name(name))
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, v: &'static str) -> Result<(), Stop> {
        Err(Stop::Name(v))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        _: &T,
    ) -> Result<(), Stop> {
        Err(Stop::Name(name))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: &T,
    ) -> Result<(), Stop> {
        Err(Stop::Name(variant))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Stop> {
        Err(Stop::NoName)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Stop> {
        Err(Stop::NoName)
    }
    fn serialize_tuple_struct(
        self,
        name: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Stop> {
        Err(Stop::Name(name))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Stop> {
        Err(Stop::Name(variant))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Stop> {
        Err(Stop::NoName)
    }
    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self::SerializeStruct, Stop> {
        Err(Stop::Name(name))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Stop> {
        Err(Stop::Name(variant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    enum Event {
        Opened,
        Renamed(String),
        Moved(u32, u32),
        Deposited { amount: u32 },
    }

    #[derive(Serialize)]
    struct Closed {
        reason: String,
    }

    #[derive(Serialize)]
    #[serde(tag = "type")]
    enum Tagged {
        Frozen { until: u32 },
    }

    #[test]
    fn names_are_variants_then_structs_then_types() {
        assert_eq!(event_type(&Event::Opened), "Opened");
        assert_eq!(event_type(&Event::Renamed("x".into())), "Renamed");
        assert_eq!(event_type(&Event::Moved(1, 2)), "Moved");
        assert_eq!(event_type(&Event::Deposited { amount: 1 }), "Deposited");
        // One field, still the struct's name (not the field's).
        assert_eq!(event_type(&Closed { reason: "x".into() }), "Closed");
        // Internally tagged: serde writes the enum as a struct named by it.
        assert_eq!(event_type(&Tagged::Frozen { until: 1 }), "Tagged");
        assert_eq!(event_type(&Some(Event::Opened)), "Opened");
        assert_eq!(event_type(&vec![1u8]), "Vec");
        assert_eq!(event_type(&7u32), "u32");
    }
}
