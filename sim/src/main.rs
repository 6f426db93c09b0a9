use anyhow::{bail, Context, Result};
use clap::Parser;
use hca_sim::cli::jsonl::Totals;
use hca_sim::cli::{self, BenchCmd, BlockArgs, BlockCmd, Cli, Command, FirmwareCmd, RtlCmd};
use hca_sim::Backend;
use hca_testbench::seed::parse_u64;
use hca_testbench::Seed;
use std::io::{stdin, stdout, StdinLock, StdoutLock};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("hca: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    match cli.command {
        Command::Run {
            ops,
            seed,
            wave_dir,
        } => {
            let seed = match seed {
                Some(s) => {
                    Seed(parse_u64(&s).with_context(|| format!("--seed {s:?} is not a number"))?)
                }
                None => Seed::try_from_env().map_err(anyhow::Error::msg)?,
            };
            cli::run::run(&cli::run::RunArgs {
                ops,
                seed,
                wave_dir,
            })
        }
        Command::Block { block } => {
            type Serve = fn(
                Backend,
                Option<&Path>,
                StdinLock<'static>,
                StdoutLock<'static>,
            ) -> Result<(Totals, u64)>;
            let (name, args, serve): (&str, &BlockArgs, Serve) = match &block {
                BlockCmd::Atomic(a) => ("atomic", a, cli::block_atomic::serve),
                BlockCmd::Qpc(a) => ("qpc", a, cli::block_qpc::serve),
                BlockCmd::Tpt(a) => ("tpt", a, cli::block_tpt::serve),
                BlockCmd::Cq(a) => ("cq", a, cli::block_cq::serve),
            };
            if args.vcd.is_some() && !args.backend.is_clocked() {
                bail!("--vcd needs a clocked backend (rtl or verilator): the model is untimed");
            }
            let vcd = args.vcd.as_deref();
            let (t, cycles) = serve(args.backend, vcd, stdin().lock(), stdout().lock())?;
            eprintln!(
                "hca block {name}: {} transactions ({} answered with an error), {} cycles on {}{}",
                t.lines,
                t.errors,
                cycles,
                args.backend,
                vcd.map(|p| format!("; waveform {}", p.display()))
                    .unwrap_or_default()
            );
            Ok(true)
        }
        Command::Rtl {
            cmd: RtlCmd::Emit { block, out },
        } => cli::rtl::emit(&block, &out).map(|_| true),
        Command::Rtl {
            cmd: RtlCmd::Lint { block, out },
        } => cli::rtl::lint_cmd(&block, &out),
        Command::Rtl {
            cmd: RtlCmd::Ports { block },
        } => {
            print!("{}", cli::rtl::ports_markdown(&block)?);
            Ok(true)
        }
        Command::Rtl {
            cmd: RtlCmd::Layout { block },
        } => {
            print!("{}", cli::rtl::layout_markdown(&block)?);
            Ok(true)
        }
        Command::Rtl {
            cmd: RtlCmd::Synth { block, out },
        } => cli::rtl::synth_cmd(&block, &out).map(|_| true),
        Command::Uml {
            kernel_log,
            trace_json,
            timeout,
            kernel_args,
            engine,
            summary,
        } => cli::uml::run(cli::uml::UmlArgs {
            summary,
            kernel_log,
            trace_json,
            timeout,
            extra: kernel_args,
            engine,
        }),
        Command::Firmware {
            cmd: FirmwareCmd::Table { name },
        } => {
            if name == "all" {
                for (n, t) in hca_firmware::docs::tables() {
                    println!("<!-- fw:{n} -->\n{t}<!-- /fw -->\n");
                }
                return Ok(true);
            }
            match hca_firmware::docs::table(&name) {
                Some(t) => {
                    print!("{t}");
                    Ok(true)
                }
                None => {
                    let names: Vec<_> = hca_firmware::docs::tables()
                        .into_iter()
                        .map(|(n, _)| n)
                        .collect();
                    bail!("no table `{name}`; there are: {}", names.join(", "))
                }
            }
        }
        Command::Bench {
            which: BenchCmd::Atomic { seconds },
        } => cli::bench::atomic(seconds).map(|_| true),
        Command::Bench {
            which: BenchCmd::Qpc { icm_latency },
        } => cli::bench_qpc::qpc(icm_latency).map(|_| true),
        Command::Bench {
            which: BenchCmd::Cq { rate },
        } => cli::bench_cq::cq(rate).map(|_| true),
        Command::Bench {
            which: BenchCmd::Events { commands },
        } => cli::bench_events::events(commands).map(|_| true),
        Command::Bench {
            which: BenchCmd::Tpt { icm_latency },
        } => cli::bench_tpt::tpt(icm_latency).map(|_| true),
    }
}
