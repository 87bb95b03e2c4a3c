//! Text put together from short pieces, as the metrics renderings write it.
//!
//! A Prometheus page or a JSON object is mostly names of 10 to 40 bytes, each copied a few
//! times. `String::push_str` copies a piece whose length is known only at run time with a call
//! to the C library's `memcpy`, and musl's copies a byte at a time until the destination is
//! aligned, then eight at a time (`rep movsq`), then the last few a byte at a time. `push`
//! copies a piece of up to 64 bytes with two or four loads and as many stores, which may
//! overlap, the way other `memcpy` implementations treat short lengths. A `line` goes further
//! for the lines nearly every answer is made of: one check for room for the whole line, then
//! each piece copied as a whole block (of the answer, or a `Text`), its length added to where
//! the next one goes.

/// Appends `piece` to `out`.
#[inline(always)]
pub fn push(out: &mut String, piece: &str) {
    let n = piece.len();
    if n > 64 {
        return out.push_str(piece);
    }
    out.reserve(n);
    let len = out.len();
    // SAFETY: `out` has room for `n` more bytes (reserved above), `piece` is `n` readable
    // bytes of UTF-8 that cannot overlap the spare room of `out`, and the length is set only
    // once they are copied, so `out` holds whole UTF-8 again.
    unsafe {
        let vec = out.as_mut_vec();
        copy_short(piece.as_ptr(), vec.as_mut_ptr().add(len), n);
        vec.set_len(len + n);
    }
}

/// The largest block a piece of the answer is copied in (`Line::push_block`): that many bytes
/// from its start are read, and as many may be written past the end of a line.
pub const PAD: usize = 64;

/// Room at the end of `out` for a line of `most` bytes and `PAD` more, written without a check
/// for each piece; `out` takes the bytes written when the line is dropped.
#[inline(always)]
pub fn line(out: &mut String, most: usize) -> Line<'_> {
    out.reserve(most.saturating_add(PAD));
    // SAFETY: the line writes only into the spare capacity, only whole `&str` pieces, and
    // the length grows by exactly what it wrote: `out` holds whole UTF-8 again.
    let out = unsafe { out.as_mut_vec() };
    let start = out.len();
    // SAFETY: the end of the text, inside the allocation (`start` is at most its capacity).
    let first = unsafe { out.as_mut_ptr().add(start) };
    Line {
        out,
        start,
        first,
        to: first,
        #[cfg(debug_assertions)]
        most,
    }
}

/// Where the next piece of a line goes (`line`).
pub struct Line<'a> {
    out: &'a mut Vec<u8>,
    start: usize,
    /// Where the line starts, and where its next piece goes.
    first: *mut u8,
    to: *mut u8,
    #[cfg(debug_assertions)]
    most: usize,
}

impl Drop for Line<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        let written = self.written();
        // SAFETY: the first `written` bytes of the spare capacity are the pieces copied.
        unsafe { self.out.set_len(self.start + written) };
    }
}

impl Line<'_> {
    #[inline(always)]
    fn written(&self) -> usize {
        self.to as usize - self.first as usize
    }

    /// Appends `len` bytes of this line again, those from `from` on.
    ///
    /// # Safety
    /// As for `push`, and the line must hold `from + len` bytes already, `len` at most `PAD`.
    #[inline(always)]
    pub unsafe fn push_again(&mut self, from: usize, len: usize) {
        #[cfg(debug_assertions)]
        assert!(
            len <= PAD && from + len <= self.written() && self.written() + len <= self.most,
            "a piece that is not in the line, or a line larger than its room"
        );
        // SAFETY: `PAD` bytes from `first + from` are inside the room (the line's and the
        // `PAD` after it), the first `len` of them written already (the caller's promise), and
        // `to` has room for `PAD` bytes. The two may overlap: `copy` reads all before it
        // writes, and copies bytes whether they were written or not.
        unsafe {
            std::ptr::copy(self.first.add(from), self.to, PAD);
            self.to = self.to.add(len);
        }
    }

    /// Appends `piece`.
    ///
    /// # Safety
    /// The line's pieces may take `most` bytes in all (`line`), no more.
    #[inline(always)]
    pub unsafe fn push(&mut self, piece: &str) {
        #[cfg(debug_assertions)]
        assert!(
            self.written() + piece.len() <= self.most,
            "a line larger than its room"
        );
        // SAFETY: `to` has room for the piece (the caller's promise), which cannot overlap
        // it.
        self.to = unsafe { copy_piece(piece, self.to) };
    }

    /// Appends `text`.
    ///
    /// # Safety
    /// As for `push`.
    #[inline(always)]
    pub unsafe fn push_text(&mut self, text: &Text) {
        #[cfg(debug_assertions)]
        assert!(
            self.written() + text.len <= self.most,
            "a line larger than its room"
        );
        // SAFETY: `to` has room for `TEXT` bytes: the line's room and the `PAD` after it.
        unsafe {
            std::ptr::copy_nonoverlapping(text.bytes.as_ptr(), self.to, TEXT);
            self.to = self.to.add(text.len);
        }
    }

    /// Appends `piece`, copied as a whole `BLOCK` bytes (`PAD` at most), read through
    /// `text`: the bytes past the piece's end are overwritten by the next piece or left past
    /// the end of the line.
    ///
    /// # Safety
    /// As for `push`; `piece` must be at most `BLOCK` bytes long, and `text` a pointer into
    /// the same text as `piece` (such as its start) through which the `BLOCK` bytes from the
    /// start of `piece` can be read: a pointer made from `piece` may read only its own bytes.
    #[inline(always)]
    pub unsafe fn push_block<const BLOCK: usize>(&mut self, text: *const u8, piece: &str) {
        const { assert!(BLOCK <= PAD) };
        let n = piece.len();
        #[cfg(debug_assertions)]
        assert!(
            n <= BLOCK && self.written() + n <= self.most,
            "a piece larger than its block, or a line larger than its room"
        );
        // SAFETY: `BLOCK` bytes from the piece's start can be read through `text` (the
        // caller's promise), and `to` has room for `BLOCK` bytes: the line's room and the
        // `PAD` after it. The spare room of `out` cannot overlap the piece.
        unsafe {
            let from = text.with_addr(piece.as_ptr().addr());
            std::ptr::copy_nonoverlapping(from, self.to, BLOCK);
            self.to = self.to.add(n);
        }
    }
}

/// A constant piece of text that `TEXT` bytes hold, kept in `TEXT` bytes so that it is
/// copied as a whole block (`Line::push_text`).
pub struct Text {
    bytes: [u8; TEXT],
    len: usize,
}

/// The block a `Text` is kept and copied in: no more than `PAD`, the room past a line.
pub const TEXT: usize = 32;
const _: () = assert!(TEXT <= PAD);

impl Text {
    pub const fn new(text: &str) -> Text {
        let mut bytes = [0; TEXT];
        let mut i = 0;
        while i < text.len() {
            bytes[i] = text.as_bytes()[i];
            i += 1;
        }
        Text {
            bytes,
            len: text.len(),
        }
    }

    pub fn as_str(&'static self) -> &'static str {
        // SAFETY: the bytes up to `len` are those of a `&str` (`new`).
        unsafe { std::str::from_utf8_unchecked(&self.bytes[..self.len]) }
    }

    pub fn len(&self) -> usize {
        self.len
    }
}

/// Room reserved at the end of `out` for pieces of `most` bytes in all: one capacity check for
/// all of them, then a length check and a short copy for each. `out` takes the bytes written
/// when the cursor is dropped.
#[inline(always)]
pub fn cursor(out: &mut String, most: usize) -> Cursor<'_> {
    out.reserve(most);
    // SAFETY: the cursor writes only into the spare capacity, only whole `&str` pieces, and
    // the length grows by exactly what it wrote: `out` holds whole UTF-8 again.
    let out = unsafe { out.as_mut_vec() };
    let to = out.spare_capacity_mut()[..most].as_mut_ptr().cast();
    Cursor {
        out,
        to,
        left: most,
        most,
    }
}

/// Where the next piece goes in the room `cursor` reserved, and how much room is left.
pub struct Cursor<'a> {
    out: &'a mut Vec<u8>,
    to: *mut u8,
    left: usize,
    most: usize,
}

impl Drop for Cursor<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        let written = self.most - self.left;
        // SAFETY: the first `written` bytes of the spare capacity are initialised (`push`).
        unsafe { self.out.set_len(self.out.len() + written) };
    }
}

impl Cursor<'_> {
    /// Appends `piece`; panics when it does not fit in the room left.
    #[inline(always)]
    pub fn push(&mut self, piece: &str) {
        let n = piece.len();
        assert!(n <= self.left, "a piece larger than the room left");
        // SAFETY: `to` starts `left` writable bytes (`cursor` reserved them and each piece
        // takes its length off), at least `n`, apart from `piece`, which is `n` readable ones.
        self.to = unsafe { copy_piece(piece, self.to) };
        self.left -= n;
    }
}

/// Copies `piece` to `to`, and gives where the bytes after it go.
///
/// # Safety
/// `to` must be valid for `piece.len()` writes, which must not overlap `piece`.
#[inline(always)]
unsafe fn copy_piece(piece: &str, to: *mut u8) -> *mut u8 {
    let n = piece.len();
    // SAFETY: as the caller promises; `piece` is `n` readable bytes.
    unsafe {
        if n <= 64 {
            copy_short(piece.as_ptr(), to, n);
        } else {
            std::ptr::copy_nonoverlapping(piece.as_ptr(), to, n);
        }
        to.add(n)
    }
}

/// Copies `n` bytes, at most 64, reading and writing no byte outside either range.
///
/// # Safety
/// `src` must be valid for `n` reads and `dst` for `n` writes, and they must not overlap.
#[inline(always)]
unsafe fn copy_short(src: *const u8, dst: *mut u8, n: usize) {
    use std::ptr::{read_unaligned as load, write_unaligned as store};
    // SAFETY: each pair of accesses covers [0, n) from its two ends, inside both ranges.
    unsafe {
        if n >= 32 {
            let head = [load(src.cast::<u128>()), load(src.add(16).cast::<u128>())];
            let tail = [
                load(src.add(n - 32).cast::<u128>()),
                load(src.add(n - 16).cast::<u128>()),
            ];
            store(dst.cast::<[u128; 2]>(), head);
            store(dst.add(n - 32).cast::<[u128; 2]>(), tail);
        } else if n >= 16 {
            let (head, tail) = (
                load(src.cast::<u128>()),
                load(src.add(n - 16).cast::<u128>()),
            );
            store(dst.cast::<u128>(), head);
            store(dst.add(n - 16).cast::<u128>(), tail);
        } else if n >= 8 {
            let (head, tail) = (load(src.cast::<u64>()), load(src.add(n - 8).cast::<u64>()));
            store(dst.cast::<u64>(), head);
            store(dst.add(n - 8).cast::<u64>(), tail);
        } else if n >= 4 {
            let (head, tail) = (load(src.cast::<u32>()), load(src.add(n - 4).cast::<u32>()));
            store(dst.cast::<u32>(), head);
            store(dst.add(n - 4).cast::<u32>(), tail);
        } else if n > 0 {
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_writes_its_pieces_in_order_and_no_further() {
        let long = "x".repeat(100);
        let mut out = String::from("<");
        let pieces = ["zk_", "", &long, "a", "0123456789abcdef0123"];
        let most: usize = pieces.iter().map(|p| p.len()).sum();
        let mut line = cursor(&mut out, most);
        for piece in pieces {
            line.push(piece);
        }
        drop(line);
        out.push('>');
        assert_eq!(out, format!("<{}>", pieces.concat()));
        let too_much = std::panic::catch_unwind(|| {
            let mut out = String::new();
            cursor(&mut out, 3).push("four");
        });
        assert!(too_much.is_err());
    }

    #[test]
    fn a_line_writes_its_pieces_in_order_whole_blocks_or_not() {
        // An answer with room to read a whole block from any of its pieces.
        let answer = format!("zk_a_ms\t12\n{}", " ".repeat(PAD));
        let (name, value) = (&answer[..7], &answer[8..10]);
        const SUFFIX: Text = Text::new("_seconds");
        let mut out = String::from("<");
        let mut line = line(&mut out, 64);
        // SAFETY: 34 bytes in all, of the 64 reserved; `name` and `value` are the answer's,
        // read through its pointer, and start at least `PAD` bytes before its end.
        unsafe {
            line.push("# ");
            line.push_block::<PAD>(answer.as_ptr(), &name[..4]);
            line.push_text(&SUFFIX);
            line.push(" ");
            line.push_block::<PAD>(answer.as_ptr(), name);
            line.push(" ");
            line.push_block::<32>(answer.as_ptr(), value);
            line.push("\n");
        }
        drop(line);
        out.push('>');
        assert_eq!(out, "<# zk_a_seconds zk_a_ms 12\n>");
        assert_eq!(SUFFIX.as_str(), "_seconds");
    }

    #[test]
    fn every_length_is_copied_whole_and_nothing_else_is_touched() {
        let source: String = ('a'..='z')
            .chain('A'..='Z')
            .chain('0'..='9')
            .chain('a'..='m')
            .collect();
        for n in 0..=source.len() {
            for start in 0..4.min(source.len() - n + 1) {
                let piece = &source[start..start + n];
                let mut out = String::from("<");
                push(&mut out, piece);
                out.push('>');
                assert_eq!(out, format!("<{piece}>"));
            }
        }
    }
}
