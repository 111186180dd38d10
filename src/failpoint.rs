//! Crash and delay points for the fault-injection tests. `WEBLOG_FAILPOINT=<name>` aborts the
//! process there, as a SIGKILL would; `WEBLOG_FAILPOINT=<name>:pause=<ms>` sleeps there, so a
//! test can hold a run at an exact stage (e.g. to start a second, overlapping run).

pub fn hit(name: &str) {
    let Some(spec) = std::env::var_os("WEBLOG_FAILPOINT") else {
        return;
    };
    let spec = spec.to_string_lossy();
    let (point, action) = spec.split_once(':').unwrap_or((&spec, "abort"));
    if point != name {
        return;
    }
    match action.strip_prefix("pause=").and_then(|ms| ms.parse().ok()) {
        Some(ms) => std::thread::sleep(std::time::Duration::from_millis(ms)),
        None => {
            eprintln!("weblog: failpoint {name}: aborting");
            std::process::abort();
        }
    }
}
