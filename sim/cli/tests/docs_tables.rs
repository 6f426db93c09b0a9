//! The port tables in docs/ are the ones the rust-hdl designs produce.

use hca_cli::cli::rtl::ports_markdown;

#[test]
fn block_pages_show_the_designs_ports() {
    for block in hca_rtl::registry::block_names() {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../docs/blocks/{block}.md"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        let start = format!("<!-- ports:{block} -->\n");
        let table = text
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("<!-- /ports -->"))
            .map(|(t, _)| t)
            .unwrap_or_else(|| panic!("{}: no ports:{block} markers", page.display()));
        let want = ports_markdown(block).expect("ports");
        assert_eq!(
            table.trim(),
            want.trim(),
            "{}: regenerate with `hca rtl ports {block}`",
            page.display()
        );
    }
}

#[test]
fn context_layouts_in_docs_are_the_ones_defined() {
    let keeping = hca_rtl::registry::BLOCKS
        .iter()
        .filter(|b| !b.layouts.is_empty());
    for block in keeping.map(|b| b.name) {
        let page = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../docs/blocks/{block}.md"));
        let text =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("{}: {e}", page.display()));
        let start = format!("<!-- layout:{block} -->\n");
        let table = text
            .split_once(&start)
            .and_then(|(_, rest)| rest.split_once("<!-- /layout -->"))
            .map(|(t, _)| t)
            .unwrap_or_else(|| panic!("{}: no layout:{block} markers", page.display()));
        let want = hca_cli::cli::rtl::layout_markdown(block).expect("layout");
        assert_eq!(
            table.trim(),
            want.trim(),
            "{}: regenerate with `hca rtl layout {block}`",
            page.display()
        );
    }
}
