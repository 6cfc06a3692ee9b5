//! Standard base64 (RFC 4648 §4) decoding, for the PNG masks the segmentation template submits as
//! `labeledImage.pngImageData`.

/// Decodes `text`: the standard alphabet, padding optional, ASCII whitespace ignored. On error,
/// returns the byte offset of the offending character and what is wrong with it.
pub(crate) fn decode(text: &str) -> Result<Vec<u8>, (usize, &'static str)> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 3);
    let mut quad = [0u8; 4];
    let mut filled = 0;
    let mut padding_at: Option<usize> = None;
    for (offset, byte) in text.bytes().enumerate() {
        if byte.is_ascii_whitespace() {
            continue;
        }
        if byte == b'=' {
            padding_at.get_or_insert(offset);
            continue;
        }
        if padding_at.is_some() {
            return Err((offset, "data after the `=` padding"));
        }
        let Some(value) = sextet(byte) else {
            return Err((offset, "not a base64 character"));
        };
        if let Some(slot) = quad.get_mut(filled) {
            *slot = value;
        }
        filled += 1;
        if filled == 4 {
            let [a, b, c, d] = quad;
            out.extend_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2, c << 6 | d]);
            filled = 0;
        }
    }
    let [a, b, c, _] = quad;
    match filled {
        0 => {}
        2 => out.push(a << 2 | b >> 4),
        3 => out.extend_from_slice(&[a << 2 | b >> 4, b << 4 | c >> 2]),
        _ => return Err((text.len(), "the data ends in the middle of a byte (truncated)")),
    }
    Ok(out)
}

/// Encodes `bytes` in the standard alphabet with `=` padding (the form `pngImageData` takes).
pub(crate) fn encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |v: u8| char::from(ALPHABET[usize::from(v & 63)]);
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let [a, b, c] = [0, 1, 2].map(|i| chunk.get(i).copied().unwrap_or(0));
        out.push(sym(a >> 2));
        out.push(sym(a << 4 | b >> 4));
        out.push(if chunk.len() > 1 { sym(b << 2 | c >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(c) } else { '=' });
    }
    out
}

/// The 6-bit value of a standard-alphabet character.
fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::{decode, encode};

    #[test]
    fn rfc4648_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(decode(encoded).unwrap(), plain.as_bytes(), "{encoded}");
            assert_eq!(encode(plain.as_bytes()), encoded);
            assert_eq!(decode(encoded.trim_end_matches('=')).unwrap(), plain.as_bytes());
        }
        assert_eq!(decode("Zm9v\nYmFy\r\n").unwrap(), b"foobar");
        assert_eq!(decode("+/8=").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn errors_name_the_offset() {
        assert_eq!(decode("Zm9v*").unwrap_err().0, 4);
        assert_eq!(decode("Zg==Zg").unwrap_err().0, 4);
        assert_eq!(decode("Z").unwrap_err().0, 1);
    }
}
