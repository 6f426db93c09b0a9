//! The `hca` subcommands. Each is documented in `docs/cli.md`.

pub mod bench;
pub mod bench_cq;
pub mod bench_eq;
pub mod bench_qpc;
pub mod bench_tpt;
pub mod bench_traffic;
pub mod block_atomic;
pub mod block_cq;
pub mod block_qpc;
pub mod block_tpt;
pub mod bringup;
pub mod inject;
pub mod json;
pub mod jsonl;
pub mod out;
pub mod registry;
pub mod rtl;
pub mod run;
pub mod traffic;
pub mod uml;

use crate::Backend;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "hca",
    version,
    about = "An open ConnectX-class HCA: RTL blocks, simulator and tools"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The main job: a random run of every block on every backend, checked
    /// against the models, with a summary and the waveform paths.
    Run {
        /// Random operations per backend.
        #[arg(long, default_value_t = 20_000)]
        ops: u64,
        /// Seed (decimal or 0x-hex); default: HCA_SEED, else fresh.
        #[arg(long)]
        seed: Option<String>,
        /// Where the waveforms go.
        #[arg(long, default_value = "waves")]
        wave_dir: PathBuf,
    },
    /// Drive one block with JSON Lines transactions on stdin; one response
    /// per line on stdout.
    Block {
        /// The block (its JSON schema is in docs/blocks/<block>.md).
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(hca_rtl::registry::block_names()))]
        block: String,
        #[command(flatten)]
        args: BlockArgs,
    },
    /// The blocks' emitted Verilog: write it, lint it, synthesize it.
    Rtl {
        #[command(subcommand)]
        cmd: RtlCmd,
    },
    /// Two simulated HCAs on one fabric, driven by the project's Rust
    /// driver: RC and UD traffic of the chosen mix, every byte checked,
    /// with faults on the links, and a summary (docs/transport.md).
    Traffic {
        /// Where the blocks run.
        #[arg(long, value_enum, default_value = "model")]
        engine: Backend,
        /// The mix, taken in turn: send, write, read, atomic,
        /// masked-atomic, send-inv, ud.
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "send,write,read,atomic,masked-atomic,send-inv,ud"
        )]
        ops: Vec<String>,
        /// Operations in all.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Bytes per SEND, WRITE and READ (UD: at most the MTU).
        #[arg(long, default_value_t = 4096)]
        size: u32,
        /// Path MTU: 256, 512, 1024, 2048 or 4096.
        #[arg(long, default_value_t = 4096)]
        mtu: u32,
        /// Probability a link drops a packet.
        #[arg(long, default_value_t = 0.0)]
        loss: f64,
        /// Probability a link flips a bit of a packet.
        #[arg(long, default_value_t = 0.0)]
        corrupt: f64,
        /// Probability a link sends a packet twice.
        #[arg(long, default_value_t = 0.0)]
        duplicate: f64,
        /// Probability a link holds a packet back behind the next.
        #[arg(long, default_value_t = 0.0)]
        reorder: f64,
        /// Capture every packet (pcap of ERF InfiniBand records).
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// The faults' seed (decimal or 0x-hex); default: HCA_SEED, else 1.
        #[arg(long)]
        seed: Option<String>,
    },
    /// Packets from a capture into an HCA's port, one at a time, with what
    /// the HCA did with each (taken, answered, or dropped and why).
    Inject {
        /// A pcap of ERF InfiniBand records (`hca traffic --pcap`, ibdump).
        #[arg(long)]
        pcap: PathBuf,
        /// Which HCA's port of the two `hca traffic` builds (0: LID 1,
        /// 1: LID 2).
        #[arg(long, default_value_t = 1)]
        port: usize,
        /// Where the blocks run.
        #[arg(long, value_enum, default_value = "model")]
        engine: Backend,
    },
    /// The project's Rust driver brings one simulated HCA up from reset,
    /// creates one of every verbs object, tears it all down, and prints
    /// every command with its status and device cycles.
    Bringup {
        /// Where the blocks the firmware drives run.
        #[arg(long, value_enum, default_value = "verilator")]
        engine: Backend,
        /// Completion vectors (one EQ and MSI-X vector each, beside the
        /// async EQ's); more than the device has EQs for are clamped, as
        /// mlx4 does (this device: 6).
        #[arg(long, default_value_t = 2)]
        vectors: u8,
        /// The driver's log level on stderr (debug: every command).
        #[arg(long, default_value = "warn")]
        log: String,
    },
    /// Boot the upstream Linux mlx4 driver in User-Mode Linux against the
    /// simulated HCA: kernel log, command trace, summary (docs/uml.md).
    Uml {
        /// Write the kernel log here instead of printing it.
        #[arg(long)]
        kernel_log: Option<PathBuf>,
        /// Write the command trace as JSON here.
        #[arg(long)]
        trace_json: Option<PathBuf>,
        /// Seconds before UML is killed.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
        /// More words for the kernel command line.
        #[arg(long = "kernel-arg")]
        kernel_args: Vec<String>,
        /// Where the blocks the firmware drives (CQ/EQ engine, TPT, QPC) run: the
        /// emitted RTL under Verilator, the RTL in rust-hdl's simulator, or
        /// the behavioral models.
        #[arg(long, value_enum, default_value = "verilator")]
        engine: Backend,
        /// A table per opcode at the end instead of a line per command.
        #[arg(long)]
        summary: bool,
        /// UML kernels to boot, each with an HCA of its own, all on one
        /// fabric with the subnet manager.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=63))]
        hosts: u16,
        /// Record every packet on the fabric (pcap with ERF InfiniBand
        /// records, as ibdump writes them).
        #[arg(long)]
        pcap: Option<PathBuf>,
        /// Seconds each guest waits for its port to come ACTIVE before it
        /// reports the port's state and LID from sysfs and powers off (0:
        /// power off at once).
        #[arg(long, default_value_t = 30)]
        wait_active: u32,
    },
    /// The firmware's reference tables (capabilities, mailboxes, BAR0,
    /// statuses) as Markdown.
    Firmware {
        #[command(subcommand)]
        cmd: FirmwareCmd,
    },
    /// Simulation speed, measured side by side.
    Bench {
        #[command(subcommand)]
        which: BenchCmd,
    },
}

#[derive(clap::Args, Debug)]
pub struct BlockArgs {
    /// Where the block runs.
    #[arg(long, value_enum)]
    pub backend: Backend,
    /// Record every signal to this VCD file (rtl and verilator only).
    #[arg(long)]
    pub vcd: Option<PathBuf>,
    /// Hold every request to at most this many of the block's own clock
    /// cycles instead of its documented bound (rtl and verilator): a
    /// request that takes longer is answered with an error and the block
    /// is reset.
    #[arg(long, value_name = "CYCLES")]
    pub max_cycles: Option<u64>,
}

#[derive(Subcommand, Debug)]
pub enum RtlCmd {
    /// Write a block's Verilog (top module `top`) to DIR/<block>.v.
    Emit {
        /// A block name, or `all`.
        block: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Run `verilator --lint-only -Wall` on a block's Verilog.
    Lint {
        block: String,
        #[arg(long, default_value = "target/rtl")]
        out: PathBuf,
    },
    /// Print a block's ports as a Markdown table, from the rust-hdl design.
    Ports { block: String },
    /// Print a block's context layout in ICM as a Markdown table.
    Layout { block: String },
    /// Synthesize a block with Yosys for iCE40 and print its resources.
    Synth {
        block: String,
        #[arg(long, default_value = "target/rtl")]
        out: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum FirmwareCmd {
    /// Print one table (`all` for every one, with its name).
    Table { name: String },
}

#[derive(Subcommand, Debug)]
pub enum BenchCmd {
    /// Cycles per second of the atomic unit: Verilator, lock-step rust-hdl,
    /// rust-hdl's Simulation.
    Atomic {
        /// Seconds of measurement per backend.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
    },
    /// Cycles per QP context lookup on a hit and on clean and dirty misses.
    Qpc {
        /// ICM read latency in cycles.
        #[arg(long, default_value_t = 8)]
        icm_latency: u64,
    },
    /// CQEs per clock, completion-to-interrupt cycles, and what moderation saves.
    Cq {
        /// Completions per second the moderation figures assume.
        #[arg(long, default_value_t = 1_000_000.0)]
        rate: f64,
    },
    /// The firmware's event path (a command completed by an EQE and an
    /// MSI-X vector) on each CQ/EQ engine backend, side by side.
    #[command(alias = "events")]
    Eq {
        /// Commands per backend.
        #[arg(long, default_value_t = 2000)]
        commands: u64,
    },
    /// Cycles per TPT lookup, and per key for each way of killing one.
    Tpt {
        /// ICM read latency in cycles.
        #[arg(long, default_value_t = 8)]
        icm_latency: u64,
    },
    /// Messages and bytes per second between two HCAs for SEND, WRITE,
    /// READ and atomics on every engine side by side, block cycles per
    /// message, the blocks' share of the engine's time, and RC goodput
    /// with 1% loss against lossless.
    Traffic {
        /// Messages per row (a tenth on the rust-hdl simulation).
        #[arg(long, default_value_t = 2000)]
        count: u64,
    },
}
