//! The tables in docs/firmware.md are the ones the definitions produce
//! (regenerate one with `hca firmware table NAME`).

#[test]
fn firmware_page_shows_the_definitions() {
    let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/firmware.md");
    let text = std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
    for (name, want) in hca_firmware::docs::tables() {
        let start = format!("<!-- fw:{name} -->\n");
        let table = text
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("<!-- /fw -->"))
            .map(|(t, _)| t)
            .unwrap_or_else(|| panic!("{}: no fw:{name} markers", page.display()));
        assert_eq!(
            table.trim(),
            want.trim(),
            "{}: regenerate with `hca firmware table {name}`",
            page.display()
        );
    }
}
