//! The process's memory allocator: the system allocator, with every large block (point-cloud
//! arrays, decoded images, upload staging) offered to the kernel for transparent huge pages.
//!
//! Why this module may use `unsafe` (the reviewed reason `Cargo.toml`'s lint asks for): a
//! freshly allocated array is backed page by page as it is first written. With 4 KiB pages a
//! 10M-point cloud (153 MiB) takes about 39,000 page faults, and in a virtual machine each costs
//! microseconds: more than the decoding itself. Debian and most distributions ship transparent
//! huge pages in `madvise` mode, so only memory marked `MADV_HUGEPAGE` gets 2 MiB pages (512 times
//! fewer faults). Marking needs the `madvise` system call on the block, and a global allocator is
//! the one place that sees every block as it is made. Measured with `benches/point_cloud_read.rs`
//! on the 2-core machine: a 10M-point LAS read in 0.145–0.168 s with 4 KiB pages, 0.110–0.121 s
//! with huge pages (BENCHMARKS.md).
//!
//! Everything is delegated to [`System`]; the advice only changes how the kernel backs the pages,
//! never their contents, and a failed `madvise` (THP disabled, old kernel) changes nothing.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};

/// Blocks at least this large are advised (smaller ones gain little and would round up).
const ADVISE_FROM_BYTES: usize = 8 << 20;

/// The size of a transparent huge page on x86-64 and aarch64 with 4 KiB base pages.
#[cfg(target_os = "linux")]
const HUGE_PAGE_BYTES: usize = 2 << 20;

/// The global allocator of every Groundwork binary (the app, the tests, the benchmarks).
pub struct Allocator;

#[global_allocator]
static GLOBAL: Allocator = Allocator;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged and returns
// its result; `advise` never reads or writes the block.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is `System.alloc`'s.
        let block = unsafe { System.alloc(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        advise(block, layout.size());
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator, with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `dealloc`; `new_size` meets `realloc`'s contract by the caller's.
        let block = unsafe { System.realloc(ptr, layout, new_size) };
        if new_size > layout.size() {
            advise(block, new_size);
        }
        block
    }
}

/// Marks the whole huge pages inside the `size`-byte block at `block` as huge-page candidates.
#[cfg(target_os = "linux")]
fn advise(block: *mut u8, size: usize) {
    if block.is_null() || size < ADVISE_FROM_BYTES {
        return;
    }
    let start = (block as usize).next_multiple_of(HUGE_PAGE_BYTES);
    let end = (block as usize).saturating_add(size) / HUGE_PAGE_BYTES * HUGE_PAGE_BYTES;
    if end > start {
        // SAFETY: `start..end` lies inside the block just allocated (both rounded inwards), is
        // page-aligned, and MADV_HUGEPAGE neither moves nor changes its contents; the result is
        // ignored because a refusal leaves the memory exactly as it was.
        unsafe {
            libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise(_block: *mut u8, _size: usize) {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    #[test]
    fn large_blocks_are_allocated_zeroed_written_grown_and_freed() {
        let n = (super::ADVISE_FROM_BYTES / 4) * 3 + 123;
        let mut v = vec![0u32; n];
        assert!(v.iter().all(|&x| x == 0));
        for (i, x) in v.iter_mut().enumerate() {
            *x = i as u32;
        }
        v.resize(n * 2, 7);
        assert_eq!(v[n - 1], (n - 1) as u32);
        assert_eq!(v[2 * n - 1], 7);
        let small: Vec<u8> = (0..100).collect();
        assert_eq!(small.iter().map(|&b| u32::from(b)).sum::<u32>(), 4950);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_large_block_is_advised_for_huge_pages() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage").exists() {
            return; // a kernel without transparent huge pages refuses the advice, harmlessly
        }
        let v = vec![1u8; 64 << 20];
        let inside = v.as_ptr() as usize + (32 << 20);
        // /proc/self/smaps: a header line per mapping ("lo-hi perms ..."), then its fields; the
        // kernel lists advised mappings with `hg` among their `VmFlags`.
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap_or_default();
        let mut current = 0..0;
        let mut flags = None;
        for line in smaps.lines() {
            if let Some(rest) = line.strip_prefix("VmFlags:") {
                if current.contains(&inside) {
                    flags = Some(rest.split_whitespace().map(str::to_string).collect::<Vec<_>>());
                }
            } else if let Some((lo, hi)) =
                line.split_whitespace().next().and_then(|r| r.split_once('-'))
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                current = lo..hi;
            }
        }
        let flags = flags.expect("the block's mapping is listed with its VmFlags");
        assert!(flags.iter().any(|f| f == "hg"), "flags of the block's mapping: {flags:?}");
        drop(v);
    }
}
