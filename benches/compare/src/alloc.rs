//! A global allocator that counts heap allocations, for the allocations-per-op
//! table.
//!
//! It wraps the system allocator and adds one relaxed atomic increment per
//! allocation, which is noise next to a network round trip, so the throughput
//! table is measured with it in place.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

/// The system allocator, counting allocations (`alloc`, `alloc_zeroed` and
/// `realloc`: each may reach the allocator's slow path; `dealloc` is not
/// counted).
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

/// The allocations made so far, by every thread.
pub fn allocations() -> u64 {
    ALLOCATIONS.load(Ordering::Relaxed)
}

// SAFETY: implementing `GlobalAlloc` is unsafe by definition. This is the only
// `unsafe` of the benchmark and it is why the bench binary may not forbid
// unsafe code: counting allocations needs a global allocator, and every method
// forwards its arguments unchanged to `System`, which upholds the contract.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees about `layout` pass on to `System`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` was allocated by `System` through this wrapper with
        // `layout`, as the caller guarantees for this allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this wrapper with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
}
