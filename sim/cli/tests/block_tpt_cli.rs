//! `hca block tpt`: JSON Lines in, one answer per line out, the same on
//! every backend; bad lines answered with an error while the run goes on.

mod common;

use hca_cli::cli::block_tpt::Tpt;
use hca_cli::cli::jsonl::serve;

const SCRIPT: &[&str] = &[
    r#"{"op":"write_mtt","mtt":80,"addr":"0x100000000"}"#,
    r#"{"op":"write_mtt","mtt":81,"addr":"0x200000000"}"#,
    r#"{"op":"sw2hw_mpt","index":5,"entry":{"kind":"fmr","tag":51,"access":["remote_read"],"log_page":12,"pd":66,"va":"0x7000","len":8192,"mtt_base":80}}"#,
    r#"{"op":"lookup","key":1331,"pd":66,"va":"0x7ff0","len":32,"access":["remote_read"]}"#,
    r#"{"op":"lookup","key":1331,"pd":66,"va":"0x7ff0","len":32,"access":["remote_write"]}"#,
    r#"{"op":"host_write_mpt","index":5,"entry":{"state":"invalid","kind":"fmr","tag":51,"log_page":12,"pd":66,"va":"0x7000","len":8192,"mtt_base":80}}"#,
    r#"{"op":"lookup","key":1331,"pd":66,"va":"0x7010","len":16}"#,
    r#"{"op":"sync_tpt"}"#,
    r#"{"op":"lookup","key":1331,"pd":66,"va":"0x7010","len":16}"#,
    r#"{"op":"remote_inv","key":1331,"pd":66}"#,
    r#"{"op":"hw2sw_mpt","index":5}"#,
    r#"{"op":"query_mpt","index":5}"#,
    r#"{"op":"lookup","key":1331}"#,
    r#"{"op":"fast_reg","key":1332,"pd":66,"va":"0x9000","len":4096,"access":3,"log_page":40}"#,
];

#[test]
fn every_backend_answers_alike() {
    let input: String = SCRIPT.iter().map(|l| format!("{l}\n")).collect();
    let (text, totals) = common::serve_everywhere(
        |b, v, i, o| serve::<Tpt>(b, v, None, i, o),
        input.as_bytes(),
        SCRIPT.len() as u64,
    );
    let a: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let st = |i: usize| a[i]["status"].as_str().unwrap_or("error").to_string();
    assert_eq!(st(2), "ok");
    assert_eq!(
        a[3]["pages"],
        serde_json::json!(["0x0000000100000ff0", "0x0000000200000000"])
    );
    assert_eq!(st(4), "access_denied");
    assert_eq!(st(6), "ok", "a stale cached entry still works");
    assert_eq!(st(8), "not_valid", "after SYNC_TPT the unmap is seen");
    assert_eq!(st(9), "not_valid");
    assert_eq!((st(10), st(11)), ("ok".into(), "bad_res_state".into()));
    assert!(a[12]["error"]
        .as_str()
        .unwrap()
        .contains("missing field `pd`"));
    assert_eq!(
        st(13),
        "not_free",
        "fast-register needs an invalidated region; index 5 is free"
    );
    assert_eq!(totals.errors, 1);
}

#[test]
fn garbage_is_answered_line_by_line_on_every_backend() {
    let (input, lines) = common::garbage(SCRIPT);
    common::serve_everywhere(|b, v, i, o| serve::<Tpt>(b, v, None, i, o), &input, lines);
}

/// The pair of lines that once hung the clocked TPT: a region whose start
/// plus length wraps, then a lookup across the top of the address space.
#[test]
fn the_wrapping_region_and_the_lookup_across_2_64_are_answered_everywhere() {
    let lines = [
        r#"{"op":"sw2hw_mpt","index":7,"entry":{"tag":1,"log_page":12,"pd":1,"va":"0x800","len":"0xffffffffffffffff","mtt_base":0}}"#,
        r#"{"op":"lookup","key":1793,"pd":1,"va":"0xfffffffffffff100","len":4096}"#,
        r#"{"op":"sw2hw_mpt","index":7,"entry":{"tag":1,"log_page":12,"pd":1,"va":"0x0","len":"0xffffffffffffffff","mtt_base":0}}"#,
        r#"{"op":"lookup","key":1793,"pd":1,"va":"0xfffffffffffff100","len":4096}"#,
        r#"{"op":"lookup","key":1793,"pd":1,"va":"0xffffffffffffe000","len":4096}"#,
    ];
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let (text, _) = common::serve_everywhere(
        |b, v, i, o| serve::<Tpt>(b, v, None, i, o),
        input.as_bytes(),
        5,
    );
    let st: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["status"]
                .as_str()
                .unwrap_or("error")
                .to_string()
        })
        .collect();
    assert_eq!(st, ["bad_param", "not_valid", "ok", "out_of_bounds", "ok"]);
}
