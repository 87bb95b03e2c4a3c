//! zkpod's memory allocator: the first allocations come from one fixed block, by bumping an
//! offset; the rest from the C library's allocator.
//!
//! A probe lives for a millisecond and makes a few hundred small allocations, nearly all of them
//! while it parses its arguments. musl's allocator is built for long-lived programs: it maps
//! and unmaps a page for each new size class, which costs the probe more than its whole
//! conversation with the server. From the block, an allocation is a few instructions and
//! touches only the pages it uses. Memory given back is reused only when it is the newest
//! allocation (a growing vector, a string built and dropped): a command that may run for the
//! life of the pod (PID 1) closes the block first thing, and takes its memory from the C
//! allocator, which gives freed pages back.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};

/// The block's size: a probe or a start-up needs less than half of it.
pub const SIZE: usize = 64 * 1024;

/// The memory an arena hands out. It starts as zeros, so it takes no room in the binary: it
/// lives in .bss.
#[repr(C, align(4096))]
pub struct Block(UnsafeCell<[u8; SIZE]>);

impl Block {
    pub const fn new() -> Block {
        Block(UnsafeCell::new([0; SIZE]))
    }
}

impl Default for Block {
    fn default() -> Block {
        Block::new()
    }
}

// SAFETY: the block's bytes are only reached through its arena, which hands each out once.
unsafe impl Sync for Block {}

/// The allocator (`#[global_allocator]` in the binary).
///
/// The counts are kept apart from the block, among the program's other data: in the block's
/// struct they would have a page of their own (the block fills whole pages), which PID 1,
/// which takes nothing from the block, would still keep for reading `closed`.
pub struct Arena {
    block: &'static Block,
    /// Bytes of the block handed out, counted from its start.
    used: AtomicUsize,
    /// Whether new allocations go to the C allocator.
    closed: AtomicBool,
}

static BLOCK: Block = Block::new();

/// zkpod's arena.
// SAFETY: BLOCK is private to this module and given to this arena only.
pub static ARENA: Arena = unsafe { Arena::new(&BLOCK) };

/// The allocator of the zkpod binary: `ARENA`, which `close` closes.
pub struct Global;

/// Take no more memory from the arena: for commands that may run for the life of the pod.
pub fn close() {
    ARENA.closed.store(true, Relaxed);
}

impl Arena {
    /// An arena that hands out `block`.
    ///
    /// # Safety
    /// No other arena may be given `block`: both would hand out the same bytes.
    pub const unsafe fn new(block: &'static Block) -> Arena {
        Arena {
            block,
            used: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
        }
    }

    fn base(&self) -> *mut u8 {
        self.block.0.get().cast()
    }

    /// The offset of `ptr` in the block, if it is one of the block's.
    fn offset(&self, ptr: *mut u8) -> Option<usize> {
        let offset = (ptr as usize).wrapping_sub(self.base() as usize);
        (offset < SIZE).then_some(offset)
    }

    /// Bytes of the block handed out and not given back.
    #[cfg(test)]
    fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// Room for `layout` in the block: its offset, or None when the block is full.
    fn bump(&self, layout: Layout) -> Option<usize> {
        if self.closed.load(Relaxed) {
            return None;
        }
        let base = self.base() as usize;
        let mut used = self.used.load(Relaxed);
        loop {
            let start = (base + used).checked_next_multiple_of(layout.align())? - base;
            let end = start
                .checked_add(layout.size())
                .filter(|&end| end <= SIZE)?;
            match self.used.compare_exchange_weak(used, end, Relaxed, Relaxed) {
                Ok(_) => return Some(start),
                Err(now) => used = now,
            }
        }
    }
}

// SAFETY: every pointer handed out is aligned as asked, inside the block and handed out once
// (the bump is atomic), or comes from System; each is given back to where it came from.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match self.bump(layout) {
            Some(start) => self.base().wrapping_add(start),
            // SAFETY: the caller's layout, passed on.
            None => unsafe { System.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match self.offset(ptr) {
            // The newest allocation goes back; any other stays used.
            Some(start) => {
                let _ = self
                    .used
                    .compare_exchange(start + layout.size(), start, Relaxed, Relaxed);
            }
            // SAFETY: not the block's, so System's, with this layout.
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let Some(start) = self.offset(ptr) else {
            // SAFETY: System's pointer and layout, passed on.
            return unsafe { System.realloc(ptr, layout, new_size) };
        };
        // The newest allocation grows or shrinks where it is, when the block has room.
        if !self.closed.load(Relaxed)
            && let Some(new_end) = start.checked_add(new_size).filter(|&end| end <= SIZE)
            && self
                .used
                .compare_exchange(start + layout.size(), new_end, Relaxed, Relaxed)
                .is_ok()
        {
            return ptr;
        }
        // SAFETY: the caller guarantees new_size, rounded up to the alignment, fits isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: a valid layout of non-zero size (GlobalAlloc's contract for new_size).
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both hold at least the smaller size and do not overlap (new is fresh).
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                self.dealloc(ptr, layout);
            }
        }
        new
    }
}

// SAFETY: passed on to ARENA.
unsafe impl GlobalAlloc for Global {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { ARENA.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { ARENA.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe { ARENA.realloc(ptr, layout, new_size) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An arena of its own for a test.
    fn arena() -> Arena {
        // SAFETY: a new block, which no other arena has.
        unsafe { Arena::new(Box::leak(Box::new(Block::new()))) }
    }

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn allocations_are_aligned_distinct_and_the_newest_is_given_back() {
        let arena = arena();
        unsafe {
            let a = arena.alloc(layout(3, 1));
            let b = arena.alloc(layout(8, 8));
            assert_eq!(b as usize % 8, 0);
            assert!(b as usize >= a as usize + 3);
            a.write_bytes(0xaa, 3);
            b.write_bytes(0xbb, 8);
            assert_eq!(*a.add(2), 0xaa);
            let used = arena.used();
            // Not the newest: stays used.
            arena.dealloc(a, layout(3, 1));
            assert_eq!(arena.used(), used);
            // The newest: given back, and handed out again.
            arena.dealloc(b, layout(8, 8));
            assert!(arena.used() < used);
            assert_eq!(arena.alloc(layout(8, 8)), b);
        }
    }

    #[test]
    fn the_newest_grows_in_place_others_move_with_their_bytes() {
        let arena = arena();
        unsafe {
            let a = arena.alloc(layout(4, 1));
            a.copy_from(b"abcd".as_ptr(), 4);
            let grown = arena.realloc(a, layout(4, 1), 100);
            assert_eq!(grown, a);
            let b = arena.alloc(layout(4, 1));
            let moved = arena.realloc(grown, layout(100, 1), 200);
            assert_ne!(moved, grown);
            assert_ne!(moved, b);
            assert_eq!(std::slice::from_raw_parts(moved, 4), b"abcd");
        }
    }

    #[test]
    fn a_full_block_hands_over_to_the_c_allocator() {
        let arena = arena();
        unsafe {
            let big = arena.alloc(layout(SIZE - 16, 16));
            assert!(arena.offset(big).is_some());
            let outside = arena.alloc(layout(64, 8));
            assert!(!outside.is_null());
            assert!(arena.offset(outside).is_none());
            outside.write_bytes(1, 64);
            // Moving from the block to the C allocator keeps the bytes.
            big.write_bytes(7, 16);
            let moved = arena.realloc(big, layout(SIZE - 16, 16), SIZE * 2);
            assert!(arena.offset(moved).is_none());
            assert_eq!(*moved.add(15), 7);
            arena.dealloc(moved, layout(SIZE * 2, 16));
            arena.dealloc(outside, layout(64, 8));
            assert_eq!(arena.used(), 0);
        }
    }

    #[test]
    fn a_closed_arena_hands_out_no_more_but_takes_its_memory_back() {
        let arena = arena();
        unsafe {
            let a = arena.alloc(layout(8, 8));
            arena.closed.store(true, Relaxed);
            let b = arena.alloc(layout(8, 8));
            assert!(arena.offset(b).is_none());
            arena.dealloc(b, layout(8, 8));
            let moved = arena.realloc(a, layout(8, 8), 16);
            assert!(arena.offset(moved).is_none());
            assert_eq!(arena.used(), 0);
            arena.dealloc(moved, layout(16, 8));
        }
    }

    #[test]
    fn threads_get_distinct_memory() {
        static BLOCK: Block = Block::new();
        // SAFETY: this test's block, given to this arena only.
        static ARENA: Arena = unsafe { Arena::new(&BLOCK) };
        let handles: Vec<_> = (0..4u8)
            .map(|n| {
                std::thread::spawn(move || unsafe {
                    let ptrs: Vec<usize> = (0..100)
                        .map(|_| {
                            let p = ARENA.alloc(layout(16, 8));
                            p.write_bytes(n, 16);
                            p as usize
                        })
                        .collect();
                    for &p in &ptrs {
                        assert!((0..16).all(|i| *(p as *const u8).add(i) == n));
                    }
                    ptrs
                })
            })
            .collect();
        let mut all: Vec<usize> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count);
    }
}
