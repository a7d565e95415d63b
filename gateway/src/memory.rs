//! How the process holds memory: glibc's allocator keeps what is freed
//! for the process, in as many heaps ("arenas") as threads once ran
//! allocations at the same time. A gateway that pulls a feed of 100,000
//! offers, compares them with what it had seen, then serves requests on
//! every core, would keep the peak of each phase in another arena.

/// At most this many arenas, unless the operator set `MALLOC_ARENA_MAX`:
/// one per worker of the runtime (a worker per core), the main thread's,
/// and one the other threads share (the store's, the blocking pool's).
/// glibc's default is eight per core. With fewer than the workers, two
/// workers share one arena and wait for each other's lock at every
/// allocation: with two arenas on two cores, a page of 100 CFAs spent a
/// fifth of its time in the kernel, waking the other worker, and took 7.8
/// ms of CPU in one run, 13 to 15 ms in a later one, by which arenas the
/// workers happened to get (6.0 to 6.8 ms in every run with four). Three
/// or four arenas gave the benchmarks the same peaks.
fn arenas() -> libc::c_int {
    let workers = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    libc::c_int::try_from(workers + 2).unwrap_or(libc::c_int::MAX)
}

/// Blocks of this size or more are mapped on their own and unmapped when
/// freed, unless the operator set `MALLOC_MMAP_THRESHOLD_`. glibc's
/// threshold starts at 128 KiB and rises to the largest block freed, up to
/// 32 MiB: once a sync freed its feed, every buffer under 32 MiB came from
/// the heaps, and stayed there.
const MMAP_THRESHOLD: libc::c_int = 4 << 20;

/// Sets how the allocator holds memory: few arenas, large blocks mapped
/// apart. On the benchmarks of `bench/`, this lowers every scenario's peak
/// by 2–7 MiB, and raises the throughput of the scenarios answering large
/// pages by a quarter to a half. At 1 MiB rather than 4, the search
/// without response cache lost a quarter of its throughput: blocks of 1 to
/// 4 MiB are allocated for its requests, mapped and unmapped each time at
/// that threshold. Called once, before the runtime's threads start.
pub(crate) fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let unset = |name: &str| std::env::var_os(name).is_none();
        // SAFETY: mallopt sets a parameter of the allocator; M_ARENA_MAX
        // takes effect for arenas created from now on, and no thread but
        // this one has allocated yet; M_MMAP_THRESHOLD for the blocks
        // allocated from now on.
        unsafe {
            if unset("MALLOC_ARENA_MAX") {
                libc::mallopt(libc::M_ARENA_MAX, arenas());
            }
            if unset("MALLOC_MMAP_THRESHOLD_") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
            }
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
