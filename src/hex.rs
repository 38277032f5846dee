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
const fn digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The value of each byte as a hex digit (either case), 0x10 for a byte that
/// is not one.
const VALUES: [u8; 256] = {
    let mut t = [0x10u8; 256];
    let mut c = 0;
    while c < 256 {
        if let Some(v) = digit(c as u8) {
            t[c] = v;
        }
        c += 1;
    }
    t
};

/// Reads exactly `N` bytes written as `2 * N` hex digits (either case).
/// `None` for any other length or a character that is not a hex digit.
#[inline]
pub fn decode_array<const N: usize>(s: &str) -> Option<[u8; N]> {
    let digits = s.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    // Every pair read, whatever it holds, and the mark of a byte that is not
    // a digit (0x10) gathered: no branch a digit (chain hashes are read by
    // the million).
    let mut out = [0u8; N];
    let mut stray = 0u8;
    for (b, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let (high, low) = (VALUES[usize::from(pair[0])], VALUES[usize::from(pair[1])]);
        stray |= high | low;
        *b = high << 4 | low;
    }
    (stray & 0x10 == 0).then_some(out)
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
        assert_eq!(decode_array::<1>("é"), None);
        assert_eq!(decode_array::<2>("00é"), None);
    }

    #[test]
    fn a_pair_reads_as_each_of_its_digits_does() {
        for a in 0..128u8 {
            for b in 0..128u8 {
                let pair = String::from_utf8(vec![a, b]).expect("ASCII");
                let one = digit(a).zip(digit(b)).map(|(h, l)| [h << 4 | l]);
                assert_eq!(decode_array::<1>(&pair), one, "{pair:?}");
                // A stray digit anywhere in a hash spoils all of it.
                let hash = format!("{}{pair}", "0".repeat(62));
                assert_eq!(decode_array::<32>(&hash).is_some(), one.is_some());
            }
        }
    }
}
