//! docs/driver.md's bring-up and teardown sequence is the driver's own:
//! the commands it posts bringing an HCA up on the model and taking it
//! down, as `hca_driver::cmd::sequence_markdown` renders them. On a
//! mismatch the test prints the driver's table; `HCA_BLESS=1` writes it
//! into the page instead.

mod common;

use common::device;
use hca_driver::cmd::sequence_markdown;
use hca_engines::Backend;

fn block(doc: &str, name: &str) -> String {
    let start = format!("<!-- driver:{name} -->\n");
    let a = doc
        .find(&start)
        .unwrap_or_else(|| panic!("no driver:{name} marker"))
        + start.len();
    let b = a + doc[a..].find("<!-- /driver -->").expect("an end marker");
    doc[a..b].to_string()
}

#[test]
fn the_documented_sequence_is_the_drivers() {
    let mut d = device(Backend::Model);
    d.record_commands(true);
    d.bring_up().expect("bring-up");
    let up = sequence_markdown(&d.take_command_log());
    d.tear_down().expect("teardown");
    let down = sequence_markdown(&d.take_command_log());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/driver.md");
    let mut doc = std::fs::read_to_string(path).expect("docs/driver.md");
    if std::env::var_os("HCA_BLESS").is_some() {
        for (name, table) in [("bringup", &up), ("teardown", &down)] {
            let old = block(&doc, name);
            let marker = format!("<!-- driver:{name} -->\n");
            doc = doc.replacen(&format!("{marker}{old}"), &format!("{marker}{table}"), 1);
        }
        std::fs::write(path, &doc).expect("writing docs/driver.md");
    }
    assert_eq!(
        block(&doc, "bringup"),
        up,
        "docs/driver.md's bring-up table; the driver's is:\n{up}"
    );
    assert_eq!(
        block(&doc, "teardown"),
        down,
        "docs/driver.md's teardown table; the driver's is:\n{down}"
    );
}
