//! The twin check: every public method of `AsyncKurrentDBClient` has a blocking
//! twin in `kurrentdbclient_blocking::KurrentDBClient`, with the same name, the
//! same parameters and the same return type (as written in the source). And
//! the span check: every public async method runs in its span, named as the
//! official clients name it (see `kurrentdbclient::telemetry`).
//!
//! Both method lists are read from the sources, so this test fails as soon as
//! someone adds (or changes) an async method and forgets its twin. The sources
//! are read as text: comments, strings and character literals are blanked out,
//! the `impl AsyncKurrentDBClient` / `impl KurrentDBClient` blocks are found by
//! brace matching, and the `pub fn` / `pub async fn` items directly inside them
//! are collected with their parameter lists and return types.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Async methods that cannot have a blocking twin, each with the reason. Keep
/// it empty unless a method truly makes no sense blocking (for example one
/// that hands out a future or a `Stream` to poll in async code); everything
/// else gets a twin.
const NO_TWIN: &[(&str, &str)] = &[];

/// Methods whose twin has a different return type by design, with the reason.
/// Empty today: the blocking read and subscription types reuse the async names
/// (`ReadStream`, `CatchupSubscription`), so the text is the same.
const DIFFERENT_RETURN: &[(&str, &str)] = &[];

/// A public method as written: its parameters and return type, whitespace
/// removed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    params: String,
    output: String,
    file: PathBuf,
    /// Whether it is an `async fn`.
    is_async: bool,
    /// The body as written (comments and strings kept), whitespace removed.
    body: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
}

/// The source with comments, string literals and character literals replaced
/// by spaces (newlines kept), so that braces and `pub fn` inside them are not
/// seen.
fn blank_out(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut out[from..to.min(b.len())] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = src[i + 2..].find("*/").map_or(b.len(), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0
                    || !is_ident(b[i - 1])
                    || (b[i - 1] == b'b' && (i < 2 || !is_ident(b[i - 2])))) =>
            {
                // A raw string r"..." or r#"..."#.
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                if b.get(i + 1 + hashes) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let start = i + 2 + hashes;
                let end = src[start..]
                    .find(&close)
                    .map_or(b.len(), |n| start + n + close.len());
                blank(&mut out, i, end);
                i = end;
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, i, j + 1);
                i = j + 1;
            }
            b'\'' => {
                // A character literal ('{', '\n', '\'') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    let end = src[i + 2..].find('\'').map_or(b.len(), |n| i + 2 + n + 1);
                    blank(&mut out, i, end);
                    i = end;
                } else if let Some(c) = src[i + 1..].chars().next()
                    && src[i + 1 + c.len_utf8()..].starts_with('\'')
                {
                    let end = i + 1 + c.len_utf8() + 1;
                    blank(&mut out, i, end);
                    i = end;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8 (only ASCII is replaced)")
}

/// The index of the bracket closing the one at `open`.
fn matching(text: &str, open: usize, (o, c): (u8, u8)) -> usize {
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    for (i, &ch) in bytes.iter().enumerate().skip(open) {
        // The `>` of `->` (in `impl Fn() -> T`) closes nothing.
        if ch == b'>' && o == b'<' && i > 0 && bytes[i - 1] == b'-' {
            continue;
        }
        if ch == o {
            depth += 1;
        } else if ch == c {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    panic!("unbalanced brackets")
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// The public methods declared directly in `impl TYPE { ... }` blocks (no
/// trait impls) of the files under `dir`.
fn public_methods(dir: &Path, type_name: &str) -> BTreeMap<String, Signature> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    let mut methods = BTreeMap::new();
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        let text = blank_out(&source);
        let bytes = text.as_bytes();
        let mut from = 0;
        while let Some(at) = text[from..].find("impl").map(|n| from + n) {
            from = at + 4;
            if at > 0 && is_ident(bytes[at - 1]) || bytes.get(at + 4).is_some_and(|&c| is_ident(c))
            {
                continue;
            }
            // `impl TYPE {` or `impl<...> TYPE<...> {`, not `impl Trait for TYPE`.
            let Some(brace) = text[at..].find('{').map(|n| at + n) else {
                break;
            };
            let header: String = text[at + 4..brace].split_whitespace().collect();
            let header = header
                .strip_prefix('<')
                .map_or(header.as_str(), |h| &h[h.find('>').map_or(0, |n| n + 1)..]);
            if header != type_name && !header.starts_with(&format!("{type_name}<")) {
                continue;
            }
            let end = matching(&text, brace, (b'{', b'}'));
            collect_methods(&text, &source, (brace + 1, end), &file, &mut methods);
            from = end;
        }
    }
    methods
}

/// The `pub fn` / `pub async fn` items at the top level of `text[start..end]`
/// (`text` is `source` blanked out: the same offsets).
fn collect_methods(
    text: &str,
    source: &str,
    (start, end): (usize, usize),
    file: &Path,
    methods: &mut BTreeMap<String, Signature>,
) {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < end {
        match bytes[i] {
            // Skip nested blocks (method bodies): only top-level items count.
            b'{' => {
                i = matching(text, i, (b'{', b'}')) + 1;
                continue;
            }
            b'p' if text[i..].starts_with("pub")
                && !is_ident(bytes[i - 1])
                && !is_ident(bytes[i + 3]) =>
            {
                let rest = &text[i + 3..end];
                let words: Vec<&str> = rest.split_whitespace().take(4).collect();
                // `pub(crate) fn` and the like are not public: skipped here
                // because the next word starts with '('.
                let name_word = match words.as_slice() {
                    ["fn", name, ..] => Some(*name),
                    ["async", "fn", name, ..] => Some(*name),
                    ["const", "fn", name, ..] => Some(*name),
                    _ => None,
                };
                if let Some(name_word) = name_word {
                    let name: String = name_word
                        .bytes()
                        .take_while(|&c| is_ident(c))
                        .map(char::from)
                        .collect();
                    let fn_at = i + 3 + rest.find(" fn ").or_else(|| rest.find("fn ")).unwrap();
                    let after_name =
                        text[fn_at..].find(name.as_str()).unwrap() + fn_at + name.len();
                    // Generic parameters, if any, then the parameter list.
                    let mut j = after_name;
                    if bytes[j..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'<') {
                        j += text[j..].find('<').unwrap();
                        j = matching(text, j, (b'<', b'>')) + 1;
                    }
                    let open = j + text[j..].find('(').unwrap();
                    let close = matching(text, open, (b'(', b')'));
                    let body = close + text[close..].find(['{', ';']).unwrap();
                    let squash = |s: &str| s.split_whitespace().collect::<String>();
                    let output = squash(&text[close + 1..body]);
                    let output = output.split("where").next().unwrap_or_default();
                    let body_end = if bytes[body] == b'{' {
                        matching(text, body, (b'{', b'}')) + 1
                    } else {
                        body + 1
                    };
                    methods.insert(
                        name,
                        Signature {
                            params: squash(&text[open + 1..close])
                                .trim_end_matches(',')
                                .to_owned(),
                            output: output.trim_start_matches("->").to_owned(),
                            file: file.to_owned(),
                            is_async: words.first() == Some(&"async"),
                            body: squash(&source[body..body_end]),
                        },
                    );
                }
                i += 3;
            }
            _ => i += 1,
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_async_method_has_a_blocking_twin() {
    let async_methods = public_methods(&root().join("src"), "AsyncKurrentDBClient");
    let blocking_methods = public_methods(
        &root().join("crates/kurrentdbclient-blocking/src"),
        "KurrentDBClient",
    );
    // Guard against a parser that silently finds nothing.
    for expected in [
        "connect",
        "append_to_stream",
        "read_stream",
        "subscribe_to_all",
        "create_subscription_to_stream",
        "restart_persistent_subscription_subsystem",
        "get_server_info",
    ] {
        assert!(
            async_methods.contains_key(expected),
            "the check did not find AsyncKurrentDBClient::{expected}: fix the parser in tests/twin_check.rs \
             (found: {:?})",
            async_methods.keys().collect::<Vec<_>>()
        );
    }

    println!(
        "async methods: {:?}\nblocking methods: {:?}",
        async_methods.keys().collect::<Vec<_>>(),
        blocking_methods.keys().collect::<Vec<_>>()
    );
    for (name, why) in NO_TWIN.iter().chain(DIFFERENT_RETURN) {
        assert!(!why.is_empty(), "allow-list entry {name} needs a reason");
        assert!(
            async_methods.contains_key(*name),
            "allow-list entry {name} names no async method: remove it"
        );
    }
    let problems = twin_problems(&async_methods, &blocking_methods);
    assert!(
        problems.is_empty(),
        "blocking twins missing or different:\n  {}",
        problems.join("\n  ")
    );
}

/// What is wrong with the blocking twins: one line per async method without a
/// twin, or whose twin takes other parameters or returns another type (the
/// allow-lists excepted).
fn twin_problems(
    async_methods: &BTreeMap<String, Signature>,
    blocking_methods: &BTreeMap<String, Signature>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, async_sig) in async_methods {
        if NO_TWIN.iter().any(|(n, _)| n == name) {
            continue;
        }
        let Some(blocking_sig) = blocking_methods.get(name) else {
            problems.push(format!(
                "AsyncKurrentDBClient::{name} ({}) has no blocking twin: add \
                 `pub fn {name}({})` to `impl KurrentDBClient` in crates/kurrentdbclient-blocking/src",
                async_sig.file.display(),
                async_sig.params
            ));
            continue;
        };
        if blocking_sig.params != async_sig.params {
            problems.push(format!(
                "KurrentDBClient::{name} takes ({}) but AsyncKurrentDBClient::{name} takes ({})",
                blocking_sig.params, async_sig.params
            ));
        }
        if blocking_sig.output != async_sig.output
            && !DIFFERENT_RETURN.iter().any(|(n, _)| n == name)
        {
            problems.push(format!(
                "KurrentDBClient::{name} returns `{}` but AsyncKurrentDBClient::{name} returns `{}`",
                blocking_sig.output, async_sig.output
            ));
        }
    }
    problems
}

/// The span each operation must run in, where it is not
/// `AsyncKurrentDBClient.<method>`: the names the official clients use.
const SPAN_NAMES: &[(&str, &str, &str)] = &[
    ("append_to_stream", "streams.append", "producer"),
    ("multi_append_to_stream", "streams.multi-append", "producer"),
    ("append_records", "streams.multi-append", "producer"),
    ("subscribe_to_all", "streams.subscribe", "consumer"),
    ("subscribe_to_stream", "streams.subscribe", "consumer"),
    ("subscribe_to_index", "streams.subscribe", "consumer"),
    ("read_subscription_to_all", "streams.subscribe", "consumer"),
    (
        "read_subscription_to_stream",
        "streams.subscribe",
        "consumer",
    ),
];

#[test]
fn every_async_method_runs_in_its_span() {
    let async_methods = public_methods(&root().join("src"), "AsyncKurrentDBClient");
    assert!(
        async_methods.values().filter(|m| m.is_async).count() > 20,
        "the check found too few async methods: fix the parser"
    );
    for (name, ..) in SPAN_NAMES {
        assert!(
            async_methods.contains_key(*name),
            "{name} is gone: update SPAN_NAMES"
        );
    }
    let problems = span_problems(&async_methods);
    assert!(
        problems.is_empty(),
        "operations without their span:\n  {}",
        problems.join("\n  ")
    );
}

/// The async methods whose body does not start with
/// `traced(client_span!("<span name>", "<kind>"`.
fn span_problems(methods: &BTreeMap<String, Signature>) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, method) in methods.iter().filter(|(_, m)| m.is_async) {
        let (span, kind) = SPAN_NAMES.iter().find(|(n, ..)| n == name).map_or(
            (format!("AsyncKurrentDBClient.{name}"), "client"),
            |(_, s, k)| ((*s).to_owned(), *k),
        );
        let expected = format!("{{traced(client_span!(\"{span}\",\"{kind}\"");
        if !method.body.starts_with(&expected) {
            problems.push(format!(
                "AsyncKurrentDBClient::{name} ({}) must start with \
                 `traced(client_span!(\"{span}\", \"{kind}\", ..), async {{ .. }}).await`",
                method.file.display()
            ));
        }
    }
    problems
}

#[test]
fn the_span_check_fails_on_a_missing_or_misnamed_span() {
    let dir = scratch_tree(
        "spans",
        &[(
            "client.rs",
            r#"
impl AsyncKurrentDBClient {
    pub async fn append_to_stream(&self, stream_name: &str) -> Result<u64> {
        traced(client_span!("streams.append", "producer", stream_name), async { Ok(1) }).await
    }
    pub async fn get_stream(&self, stream_name: &str) -> Result<u64> {
        traced(client_span!("AsyncKurrentDBClient.get_stream", "client"), async { Ok(1) }).await
    }
    pub async fn read_all(&self) -> Result<u64> {
        Ok(1)
    }
    pub async fn subscribe_to_all(&self) -> Result<u64> {
        traced(client_span!("AsyncKurrentDBClient.subscribe_to_all", "client"), async { Ok(1) }).await
    }
    pub fn settings(&self) -> &Settings { &self.settings }
}
"#,
        )],
    );
    let methods = public_methods(&dir, "AsyncKurrentDBClient");
    std::fs::remove_dir_all(&dir).unwrap();
    let problems = span_problems(&methods);
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].starts_with("AsyncKurrentDBClient::read_all"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].starts_with("AsyncKurrentDBClient::subscribe_to_all")
            && problems[1].contains("client_span!(\"streams.subscribe\", \"consumer\""),
        "{}",
        problems[1]
    );
}

/// The parser itself, on a made-up source with the traps it must avoid.
#[test]
fn the_parser_sees_only_public_methods_of_the_inherent_impl() {
    let dir = scratch_tree(
        "parser",
        &[(
            "a.rs",
            r####"
impl Debug for Thing { pub fn not_this(&self) {} }
impl Thing {
    /// `pub fn in_doc(&self)` and a brace { in a doc
    pub async fn alpha(&self, s: &str, e: impl IntoIterator<Item = E>) -> Result<u64> {
        let c = '{'; let s = "}"; let r = r#"{"x": 1}"#;
        fn inner_not_public() {}
    }
    pub(crate) fn hidden(&self) {}
    async fn private(&self) {}
    pub fn beta<'a, F: Future>(&'a self, f: F) -> F::Output where F: Send { todo!() }
}
"####,
        )],
    );
    let methods = public_methods(&dir, "Thing");
    std::fs::remove_dir_all(&dir).unwrap();
    let names: Vec<&str> = methods.keys().map(String::as_str).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert_eq!(
        methods["alpha"].params,
        "&self,s:&str,e:implIntoIterator<Item=E>"
    );
    assert_eq!(methods["alpha"].output, "Result<u64>");
    assert_eq!(methods["beta"].params, "&'aself,f:F");
    assert_eq!(methods["beta"].output, "F::Output");
}

/// A made-up source tree under the temp dir: `files` as (path, text), the
/// paths relative to the tree, folders made as needed.
fn scratch_tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("twin-check-{name}-{}", std::process::id()));
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// The check itself, on made-up crates whose methods are spread over nested
/// folders (as in `src/client/*.rs`): it reports a missing twin, a twin with
/// other parameters and one with another return type, and nothing once the
/// twins match.
#[test]
fn the_check_fails_on_a_missing_or_mismatched_twin() {
    let async_src = scratch_tree(
        "async",
        &[
            (
                "lib.rs",
                "impl AsyncKurrentDBClient { pub async fn connect(uri: &str) -> Result<Self> {} }",
            ),
            (
                "client/streams.rs",
                "impl AsyncKurrentDBClient {\n\
                 pub async fn append_to_stream(&self, stream_name: &str) -> Result<u64> {}\n\
                 pub async fn read_stream(&self, stream_name: &str) -> Result<ReadStream> {}\n}",
            ),
            (
                "client/persistent/delete.rs",
                "impl AsyncKurrentDBClient {\n\
                 pub async fn delete_subscription(&self, group_name: &str) -> Result<()> {}\n}",
            ),
        ],
    );
    let blocking = |streams: &str, persistent: &str| {
        let dir = scratch_tree(
            "blocking",
            &[
                (
                    "client/mod.rs",
                    "impl KurrentDBClient { pub fn connect(uri: &str) -> Result<Self> {} }",
                ),
                ("client/streams.rs", streams),
                ("client/persistent.rs", persistent),
            ],
        );
        let methods = public_methods(&dir, "KurrentDBClient");
        std::fs::remove_dir_all(&dir).unwrap();
        methods
    };
    let async_methods = public_methods(&async_src, "AsyncKurrentDBClient");
    std::fs::remove_dir_all(&async_src).unwrap();
    assert_eq!(
        async_methods.keys().collect::<Vec<_>>(),
        [
            "append_to_stream",
            "connect",
            "delete_subscription",
            "read_stream"
        ],
        "the walk finds the methods in every folder"
    );

    let wrong = blocking(
        "impl KurrentDBClient {\n\
         pub fn append_to_stream(&self, stream_name: String) -> Result<u64> {}\n\
         pub fn read_stream(&self, stream_name: &str) -> Result<Vec<u8>> {}\n}",
        "",
    );
    let problems = twin_problems(&async_methods, &wrong);
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(
        problems[0]
            .starts_with("KurrentDBClient::append_to_stream takes (&self,stream_name:String)"),
        "{}",
        problems[0]
    );
    assert!(
        problems[1].starts_with("AsyncKurrentDBClient::delete_subscription (")
            && problems[1].contains("has no blocking twin"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2].starts_with("KurrentDBClient::read_stream returns `Result<Vec<u8>>`"),
        "{}",
        problems[2]
    );

    let right = blocking(
        "impl KurrentDBClient {\n\
         pub fn append_to_stream(&self, stream_name: &str) -> Result<u64> {}\n\
         pub fn read_stream(&self, stream_name: &str) -> Result<ReadStream> {}\n}",
        "impl KurrentDBClient {\n\
         pub fn delete_subscription(&self, group_name: &str) -> Result<()> {}\n}",
    );
    assert_eq!(twin_problems(&async_methods, &right), Vec::<String>::new());
}
