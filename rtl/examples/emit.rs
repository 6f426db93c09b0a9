fn main() {
    let e = hca_rtl::registry::emit_block("atomic").unwrap();
    print!("{}", e.verilog);
    eprintln!("{:?}", e.ports);
}
