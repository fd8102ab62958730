//! Linux ptrace recorder (stub: being written).
