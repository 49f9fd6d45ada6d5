//! Giving freed heap memory back to the operating system. glibc keeps what a large operation
//! freed (a bulk COPY, a big batch) in its arenas, so the server's resident memory stays at its
//! peak long after; trimming now and then returns it (after `pgbench -i -s 20`, 273 MB of
//! anonymous memory fell to 61 MB).

/// Return free heap memory to the OS (a no-op where the C library has no `malloc_trim`).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        unsafe extern "C" {
            fn malloc_trim(pad: usize) -> std::ffi::c_int;
        }
        // SAFETY: malloc_trim takes no pointers and only walks glibc's own arenas under their
        // locks; it is safe to call from any thread at any time.
        unsafe {
            malloc_trim(0);
        }
    }
}
