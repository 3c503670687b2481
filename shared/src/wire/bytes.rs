//! Bytes in and out of the schema-driven wire: bincode 2's standard encoding (little-endian,
//! varint integers, zigzag for signed ones), written and read by hand because what follows
//! each byte depends on the schema. A [`Reader`] never panics and never reads past its slice.

use crate::wire::schema::Encoding;

/// Appends `v` as a bincode varint: below 251 one byte; else a marker (251: u16, 252: u32,
/// 253: u64) and the value little-endian.
pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v < 251 {
        out.push(v as u8);
    } else if v <= u64::from(u16::MAX) {
        out.push(251);
        out.extend_from_slice(&(v as u16).to_le_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(252);
        out.extend_from_slice(&(v as u32).to_le_bytes());
    } else {
        out.push(253);
        out.extend_from_slice(&v.to_le_bytes());
    }
}

/// Appends a signed value as bincode does: zigzag (0, -1, 1, -2, …) then a varint.
pub fn put_zigzag(out: &mut Vec<u8>, v: i32) {
    put_varint(out, u64::from(zigzag(v)));
}

/// The zigzag form of `v`: small magnitudes of either sign become small numbers.
pub fn zigzag(v: i32) -> u32 {
    ((v << 1) ^ (v >> 31)) as u32
}

/// The inverse of [`zigzag`].
pub fn unzigzag(z: u32) -> i32 {
    ((z >> 1) as i32) ^ -((z & 1) as i32)
}

/// Appends a string: its byte length as a varint, then its UTF-8 bytes.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

/// Appends a field's value as its encoding carries it (a Signed value is an `i32`'s bits).
pub fn put_value(out: &mut Vec<u8>, encoding: Encoding, v: u32) {
    match encoding {
        Encoding::U8 => out.push(v as u8),
        Encoding::U16 => out.extend_from_slice(&(v as u16).to_le_bytes()),
        Encoding::U32 => out.extend_from_slice(&v.to_le_bytes()),
        Encoding::Signed => put_zigzag(out, v as i32),
        Encoding::Varint | Encoding::Entity | Encoding::Tick => put_varint(out, u64::from(v)),
    }
}

/// Reads a field's value as its encoding carries it.
pub fn read_value(r: &mut Reader<'_>, encoding: Encoding) -> Result<u32, ReadError> {
    match encoding {
        Encoding::U8 => r.u8().map(u32::from),
        Encoding::U16 => r.u16_le().map(u32::from),
        Encoding::U32 => r.u32_le(),
        Encoding::Signed => r.zigzag().map(|v| v as u32),
        Encoding::Varint | Encoding::Entity | Encoding::Tick => r.varint_u32(),
    }
}

/// Why bytes could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadError {
    /// The bytes ended inside a value.
    End,
    /// The bytes are not a valid message; says what was wrong.
    Malformed(&'static str),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::End => f.write_str("the bytes end inside a value"),
            ReadError::Malformed(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads values from the front of a byte slice.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    pub fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.at
    }

    /// How many bytes have been read.
    pub fn position(&self) -> usize {
        self.at
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], ReadError> {
        let end = self.at.checked_add(n).ok_or(ReadError::End)?;
        let out = self.bytes.get(self.at..end).ok_or(ReadError::End)?;
        self.at = end;
        Ok(out)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    pub fn u8(&mut self) -> Result<u8, ReadError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16_le(&mut self) -> Result<u16, ReadError> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub fn u32_le(&mut self) -> Result<u32, ReadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    /// A varint of any width.
    pub fn varint(&mut self) -> Result<u64, ReadError> {
        Ok(match self.u8()? {
            b @ 0..=250 => u64::from(b),
            251 => u64::from(self.u16_le()?),
            252 => u64::from(self.u32_le()?),
            253 => u64::from_le_bytes(self.array()?),
            _ => return Err(ReadError::Malformed("varint marker 254 or 255")),
        })
    }

    /// A varint of a `u32`: as bincode, a marker wider than the type (253) is an error.
    pub fn varint_u32(&mut self) -> Result<u32, ReadError> {
        match self.bytes.get(self.at) {
            Some(253) => Err(ReadError::Malformed("varint marker wider than u32")),
            _ => u32::try_from(self.varint()?).map_err(|_| ReadError::Malformed("varint past u32")),
        }
    }

    /// A varint of a `u16`: a marker wider than the type (252, 253) is an error.
    pub fn varint_u16(&mut self) -> Result<u16, ReadError> {
        match self.bytes.get(self.at) {
            Some(252 | 253) => Err(ReadError::Malformed("varint marker wider than u16")),
            _ => u16::try_from(self.varint()?).map_err(|_| ReadError::Malformed("varint past u16")),
        }
    }

    /// A count of things that follow, each at least one byte: a count larger than the bytes
    /// left is refused before anything is allocated for it.
    pub fn count(&mut self) -> Result<usize, ReadError> {
        let n = self.varint()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.remaining() => Ok(n),
            _ => Err(ReadError::Malformed("count larger than the message")),
        }
    }

    pub fn zigzag(&mut self) -> Result<i32, ReadError> {
        Ok(unzigzag(self.varint_u32()?))
    }

    pub fn str(&mut self) -> Result<&'a str, ReadError> {
        let n = self.count()?;
        std::str::from_utf8(self.take(n)?).map_err(|_| ReadError::Malformed("string not UTF-8"))
    }

    /// Fails unless every byte was read.
    pub fn finish(&self) -> Result<(), ReadError> {
        if self.remaining() == 0 {
            Ok(())
        } else {
            Err(ReadError::Malformed("trailing bytes"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bincode::config::standard;

    fn bincode_of<T: bincode::Encode>(v: T) -> Vec<u8> {
        bincode::encode_to_vec(v, standard()).expect("encodes")
    }

    #[test]
    fn varints_are_bincodes() {
        for v in [0u32, 1, 250, 251, 255, 256, 65535, 65536, u32::MAX] {
            let mut out = Vec::new();
            put_varint(&mut out, u64::from(v));
            assert_eq!(out, bincode_of(v), "{v}");
            assert_eq!(Reader::new(&out).varint_u32(), Ok(v));
        }
        for v in [0i32, -1, 1, -126, 125, 126, -127, i32::MIN, i32::MAX] {
            let mut out = Vec::new();
            put_zigzag(&mut out, v);
            assert_eq!(out, bincode_of(v), "{v}");
            assert_eq!(Reader::new(&out).zigzag(), Ok(v));
        }
        let mut out = Vec::new();
        put_str(&mut out, "hé");
        assert_eq!(out, bincode_of("hé"));
        assert_eq!(Reader::new(&out).str(), Ok("hé"));
    }

    #[test]
    fn short_and_bad_bytes_are_errors() {
        assert_eq!(Reader::new(&[251, 1]).varint(), Err(ReadError::End));
        assert!(Reader::new(&[254]).varint().is_err());
        assert!(
            Reader::new(&[252, 0, 0, 1, 0]).varint_u16().is_err(),
            "65536"
        );
        // As bincode: a form narrower than needed is read, one wider than the type is not.
        assert_eq!(Reader::new(&[251, 5, 0]).varint_u16(), Ok(5));
        assert!(Reader::new(&[252, 5, 0, 0, 0]).varint_u16().is_err());
        assert!(
            Reader::new(&[253, 5, 0, 0, 0, 0, 0, 0, 0])
                .varint_u32()
                .is_err()
        );
        assert!(
            Reader::new(&[200]).count().is_err(),
            "200 items in no bytes"
        );
        assert!(Reader::new(&[1, 0xFF]).str().is_err());
    }
}
