# Sourced by the bench scripts: the release build of weblog, built if needed; prints its path.
weblog_bin() {
    tools/cargo build --release --message-format=json-render-diagnostics |
        python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("executable") and m["target"]["name"] == "weblog":
        print(m["executable"])'
}
