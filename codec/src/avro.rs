//! Avro binary primitives: zig-zag varints, length-prefixed bytes, IEEE floats.

/// Appends `v` as a zig-zag varint (Avro's int and long encoding).
pub fn write_long(out: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Appends a length-prefixed byte string (Avro bytes, string).
pub fn write_bytes(out: &mut Vec<u8>, b: &[u8]) {
    write_long(out, b.len() as i64);
    out.extend_from_slice(b);
}

pub fn write_double(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(&v.to_le_bytes());
}

pub fn write_float(out: &mut Vec<u8>, v: f32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Inserts a block count at `at` once the block's items are written after it
/// (arrays and maps: one block of `count` items, then the 0 terminator).
pub fn close_block(out: &mut Vec<u8>, at: usize, count: usize) {
    if count > 0 {
        let mut head = Vec::with_capacity(10);
        write_long(&mut head, count as i64);
        out.splice(at..at, head);
    }
    out.push(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn long(v: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_long(&mut out, v);
        out
    }

    #[test]
    fn zigzag_matches_the_avro_specification() {
        assert_eq!(long(0), [0x00]);
        assert_eq!(long(-1), [0x01]);
        assert_eq!(long(1), [0x02]);
        assert_eq!(long(-64), [0x7f]);
        assert_eq!(long(64), [0x80, 0x01]);
        assert_eq!(long(i64::MIN).len(), 10);
        assert_eq!(long(i64::MAX).len(), 10);
    }

    #[test]
    fn block_count_is_inserted_before_the_items() {
        let mut out = vec![9, 1, 2, 3];
        close_block(&mut out, 1, 3);
        assert_eq!(out, [9, 6, 1, 2, 3, 0]);
        let mut empty = vec![9];
        close_block(&mut empty, 1, 0);
        assert_eq!(empty, [9, 0]);
    }
}
