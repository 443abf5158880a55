//! pymemcache's own integration suite (`pymemcache/test/test_integration.py`
//! of pymemcache 4.0.0, run by pytest from the virtualenv `scripts/test`
//! builds) against the mock's TCP server: a Python client finds the mock a
//! memcached.

#[path = "interop/pyenv.rs"]
mod pyenv;

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use memclient_mock::MockMemcache;

#[test]
fn pymemcache_integration_suite_passes_against_the_mock() {
    let Some(python) = pyenv::python("pymemcache's integration suite", "pymemcache, pytest") else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _server = MockMemcache::new().serve_tcp(listener).unwrap();

    let located = Command::new(&python)
        .args([
            "-c",
            "import os, pymemcache.test as t; print(os.path.dirname(t.__file__))",
        ])
        .output()
        .unwrap();
    let tests = String::from_utf8(located.stdout)
        .unwrap()
        .trim()
        .to_string();
    // pytest writes nothing beside the tests: no cache, run from a scratch dir.
    let scratch = std::env::temp_dir();
    let mut child = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
        ])
        .arg(format!("{tests}/test_integration.py"))
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .current_dir(scratch)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("pytest did not finish within 300 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout.lines().last().unwrap_or_default().to_string();
    println!("pymemcache test_integration.py against the mock: {summary}");
    let count = |word: &str| -> u32 {
        summary
            .split(", ")
            .filter_map(|part| {
                part.split_whitespace()
                    .collect::<Vec<_>>()
                    .get(..2)
                    .map(|w| (w[0], w[1]))
            })
            .find(|(_, what)| what.starts_with(word))
            .and_then(|(n, _)| n.parse().ok())
            .unwrap_or(0)
    };
    assert!(
        output.status.success() && count("failed") == 0 && count("error") == 0,
        "pymemcache's suite failed against the mock:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // 4.0.0's suite has 103 tests; 3 need a TLS server and are skipped.
    assert!(count("passed") >= 100, "{summary}");
}
