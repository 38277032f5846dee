//! Hexadecimal: bytes written as lower-case hex digits, two a byte, and read
//! back from digits of either case. Chain hashes, digests, stray store keys and
//! the golden vectors are all written with it.

const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Writes the hex digits of `bytes` into `out`, two a byte, without allocating.
///
/// # Panics
/// If `out` is not exactly twice as long as `bytes`.
#[inline]
pub fn encode_into<'o>(bytes: &[u8], out: &'o mut [u8]) -> &'o str {
    assert_eq!(out.len(), 2 * bytes.len(), "two hex digits a byte");
    for (b, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        pair[0] = DIGITS[usize::from(b >> 4)];
        pair[1] = DIGITS[usize::from(b & 15)];
    }
    std::str::from_utf8(out).expect("hex digits are ASCII")
}

/// `bytes` as lower-case hex digits, two a byte.
#[inline]
pub fn encode(bytes: &[u8]) -> String {
    let mut out = vec![0; 2 * bytes.len()];
    encode_into(bytes, &mut out);
    String::from_utf8(out).expect("hex digits are ASCII")
}

/// The value of one hex digit, either case.
#[inline]
fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Reads exactly `N` bytes written as `2 * N` hex digits (either case).
/// `None` for any other length or a character that is not a hex digit.
#[inline]
pub fn decode_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let digits = s.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (b, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *b = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// Reads bytes written as hex digits (either case), two a byte. `None` for an
/// odd number of digits or a character that is not a hex digit.
#[inline]
pub fn decode(s: &str) -> Option<Vec<u8>> {
    let digits = s.as_bytes();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_round_trips() {
        let all: Vec<u8> = (0..=255).collect();
        let text = encode(&all);
        assert_eq!(&text[..8], "00010203");
        assert_eq!(&text[text.len() - 4..], "feff");
        assert_eq!(decode(&text), Some(all.clone()));
        assert_eq!(decode(&text.to_uppercase()), Some(all));
        let mut buf = [0u8; 4];
        assert_eq!(encode_into(&[0xab, 0x01], &mut buf), "ab01");
    }

    #[test]
    fn malformed_digits_are_refused() {
        assert_eq!(decode("abc"), None);
        assert_eq!(decode("0g"), None);
        assert_eq!(decode("é"), None);
        assert_eq!(decode(""), Some(vec![]));
        assert_eq!(decode_array::<2>("abcd"), Some([0xab, 0xcd]));
        assert_eq!(decode_array::<2>("abc"), None);
        assert_eq!(decode_array::<2>("abcdef"), None);
        assert_eq!(decode_array::<1>("+1"), None);
    }
}
