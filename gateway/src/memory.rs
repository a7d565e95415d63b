//! How the process holds memory: glibc's allocator keeps what is freed
//! for the process, in as many heaps ("arenas") as threads once ran
//! allocations at the same time. A gateway that pulls a feed of 100,000
//! offers, compares them with what it had seen, then serves requests on
//! every core, would keep the peak of each phase in another arena.

/// At most this many arenas, unless the operator set `MALLOC_ARENA_MAX`:
/// glibc's default is eight per core. On the benchmarks of `bench/`, two
/// arenas lower every scenario's peak by 1–5 MiB at the same throughput.
const ARENAS: libc::c_int = 2;

/// Bounds the allocator's arenas: called once, before the runtime's
/// threads start.
pub(crate) fn few_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt sets a parameter of the allocator; M_ARENA_MAX
        // takes effect for arenas created from now on, and no thread but
        // this one has allocated yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, ARENAS);
        }
    }
}

/// Returns to the system the memory a sync, a load or a detection used on
/// the way (the feed as pulled, its records as JSON, the keys compared):
/// glibc's allocator keeps freed memory for the process otherwise, and a
/// feed of 100,000 offers leaves hundreds of MiB of it.
pub(crate) fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory of the allocator's own
    // heaps; it has no preconditions.
    unsafe {
        libc::malloc_trim(0);
    }
}
