//! Crash points for the fault-injection tests: `WEBLOG_FAILPOINT=<name>` aborts the process
//! there, as a SIGKILL would, so tests can hit exact stages a random kill might miss.

pub fn hit(name: &str) {
    if std::env::var_os("WEBLOG_FAILPOINT").is_some_and(|v| v == name) {
        eprintln!("weblog: failpoint {name}: aborting");
        std::process::abort();
    }
}
