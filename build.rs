//! Embeds `sql/*.sql` (outputs), `sql/rollups/*.sql` (per-day aggregates),
//! `sql/rollups/merge/*.sql` (how a batch joins a rollup) and `sql/lib/*.sql`
//! (shared macros and source rows) in the binary,
//! so an installed `weblog` works from cron in any directory; a `--sql` folder, when present,
//! takes their place.

use std::fmt::Write;
use std::path::Path;

fn main() {
    link_prebuilt_duckdb();
    embed_sql();
}

/// With `--no-default-features` DuckDB is linked, not compiled in: write the library's folder
/// (tools/cargo's DUCKDB_LIB_DIR, in the build cache) into the rpath of every binary of this
/// package, the test binaries included, so they run with no LD_LIBRARY_PATH.
fn link_prebuilt_duckdb() {
    println!("cargo:rerun-if-env-changed=DUCKDB_LIB_DIR");
    if std::env::var_os("CARGO_FEATURE_BUNDLED").is_some() {
        return;
    }
    match std::env::var("DUCKDB_LIB_DIR") {
        Ok(dir) => println!("cargo:rustc-link-arg=-Wl,-rpath,{dir}"),
        Err(_) => println!(
            "cargo:warning=DuckDB is linked (no `bundled` feature) but DUCKDB_LIB_DIR is unset: \
             the binary will need libduckdb.so on the loader's path; build through `make` or tools/cargo"
        ),
    }
}

fn embed_sql() {
    // Read at run time, not with env!(): two checkouts sharing one CARGO_TARGET_DIR share this
    // script's binary, and a path baked in at its compile time would be the other checkout's.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let root = Path::new(&manifest_dir).join("sql");
    let mut code = String::new();
    for (constant, dir) in [
        ("BUILTIN_SQL", root.clone()),
        ("BUILTIN_ROLLUPS", root.join("rollups")),
        ("BUILTIN_LIB", root.join("lib")),
        ("BUILTIN_ROLLUP_MERGES", root.join("rollups").join("merge")),
    ] {
        println!("cargo:rerun-if-changed={}", dir.display());
        // A missing folder is a broken checkout, not "no outputs": fail the build.
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.retain(|p: &std::path::PathBuf| p.extension().is_some_and(|x| x == "sql"));
        files.sort();
        writeln!(code, "pub const {constant}: &[(&str, &str)] = &[").unwrap();
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let name = path.file_stem().unwrap().to_str().unwrap();
            writeln!(
                code,
                "    ({name:?}, include_str!({:?})),",
                path.display().to_string()
            )
            .unwrap();
        }
        code.push_str("];\n");
    }
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("builtin_sql.rs");
    std::fs::write(out, code).unwrap();
}
