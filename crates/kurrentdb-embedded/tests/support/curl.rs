//! HTTP through curl, for the test binaries that check the node's HTTP
//! side as a user's tools see it (`http.rs`, `ui_actions.rs`). Each binary
//! uses part of it.
#![allow(dead_code)]

use serde_json::Value;

/// What curl got back.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// `1.1` or `2`.
    pub version: String,
    /// The headers, lower-cased.
    pub headers: String,
    pub body: String,
}

impl Reply {
    /// The body, parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// The `Location` of a redirect.
    pub fn location(&self) -> &str {
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix("location: "))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no location in {}", self.headers))
    }
}

/// `curl ARGS URL`, and what came back (curl must exist: the test fails
/// loudly without it).
pub async fn curl(args: &[&str], url: &str) -> Reply {
    let body_file = std::env::temp_dir().join(format!("kdb-curl-{}", uuid::Uuid::new_v4()));
    let output = tokio::process::Command::new("curl")
        .args(["-sS", "--max-time", "20", "-D", "-", "-o"])
        .arg(&body_file)
        .args(["-w", "\n%{http_code} %{http_version}"])
        .args(args)
        .arg(url)
        .output()
        .await
        .expect("curl runs (install curl)");
    let body = std::fs::read_to_string(&body_file).unwrap_or_default();
    let _ = std::fs::remove_file(&body_file);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let (headers, last) = stdout.rsplit_once('\n').expect("write-out line");
    let (status, version) = last.split_once(' ').expect("code and version");
    if status == "000" {
        eprintln!(
            "curl {args:?} {url}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Reply {
        status: status.parse().unwrap_or_else(|_| {
            panic!(
                "curl failed: {}{stdout}",
                String::from_utf8_lossy(&output.stderr)
            )
        }),
        version: version.to_owned(),
        headers: headers.to_ascii_lowercase(),
        body,
    }
}
