//! `include/thywill.h` must equal what cbindgen generates from the sources.
//! Run with `THYWILL_UPDATE_HEADER=1` to rewrite it after changing an export.

use std::path::Path;

#[test]
fn header_is_up_to_date() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = crate_dir.join("../..");
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .unwrap()
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let header_path = root.join("include/thywill.h");
    if std::env::var_os("THYWILL_UPDATE_HEADER").is_some() {
        // Rewriting instead of checking would pass whatever the code produces.
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "THYWILL_UPDATE_HEADER rewrites include/thywill.h instead of checking them; not under CI=true"
        );
        std::fs::write(&header_path, &generated).unwrap();
        return;
    }
    let checked_in = std::fs::read_to_string(&header_path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "include/thywill.h is stale; run THYWILL_UPDATE_HEADER=1 cargo test -p thywill-ffi --test header\n\
         --- generated ---\n{generated}"
    );
}
