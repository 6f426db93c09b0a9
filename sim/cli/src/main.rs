#![forbid(unsafe_code)]
use anyhow::{bail, Context, Result};
use clap::Parser;
use hca_cli::cli::out;
use hca_cli::cli::{self, BenchCmd, Cli, Command, FirmwareCmd, RtlCmd};
use hca_cli::{errln, out, outln};
use hca_testbench::seed::parse_u64;
use hca_testbench::Seed;
use std::io::{stdin, stdout, IsTerminal, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(e),
    };
    match run(cli).and_then(|ok| {
        out::flush()?;
        Ok(ok)
    }) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            // Said once, on one line; when standard error is what failed
            // there is nowhere to say it, and the exit status tells.
            let _ = writeln!(std::io::stderr(), "hca: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Help, the version, or a usage error, as clap renders them; a stream
/// that cannot take them is an error like any other.
fn usage(e: clap::Error) -> ExitCode {
    // Colours only for a terminal, as clap itself chooses.
    let tty = if e.use_stderr() {
        std::io::stderr().is_terminal()
    } else {
        std::io::stdout().is_terminal()
    };
    let styled = e.render();
    let text = if tty {
        styled.ansi().to_string()
    } else {
        styled.to_string()
    };
    if e.use_stderr() {
        let _ = write!(std::io::stderr(), "{text}");
        return ExitCode::from(2);
    }
    match write!(std::io::stdout(), "{text}").and_then(|_| std::io::stdout().flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(
                std::io::stderr(),
                "hca: error: writing standard output: {err}"
            );
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
        Command::Block { block, args } => {
            let entry =
                cli::registry::find(&block).with_context(|| format!("unknown block `{block}`"))?;
            if args.vcd.is_some() && !args.backend.is_clocked() {
                bail!("--vcd needs a clocked backend (rtl or verilator): the model is untimed");
            }
            let vcd = args.vcd.as_deref();
            let (t, cycles) = (entry.serve)(
                args.backend,
                vcd,
                args.max_cycles,
                &mut stdin().lock(),
                &mut stdout().lock(),
            )?;
            errln!(
                "hca block {block}: {} transactions ({} answered with an error), {} cycles on {}{}",
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
            out!("{}", cli::rtl::ports_markdown(&block)?);
            Ok(true)
        }
        Command::Rtl {
            cmd: RtlCmd::Layout { block },
        } => {
            out!("{}", cli::rtl::layout_markdown(&block)?);
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
            hosts,
            pcap,
            wait_active,
        } => cli::uml::run(cli::uml::UmlArgs {
            summary,
            hosts: hosts as usize,
            pcap,
            wait_active,
            kernel_log,
            trace_json,
            timeout,
            extra: kernel_args,
            engine,
        }),
        Command::Traffic {
            engine,
            ops,
            count,
            size,
            mtu,
            loss,
            corrupt,
            duplicate,
            reorder,
            pcap,
            seed,
        } => {
            let seed = match seed {
                Some(s) => {
                    parse_u64(&s).with_context(|| format!("--seed {s:?} is not a number"))?
                }
                None if std::env::var_os("HCA_SEED").is_some() => {
                    Seed::try_from_env().map_err(anyhow::Error::msg)?.0
                }
                None => 1,
            };
            cli::traffic::run(cli::traffic::TrafficArgs {
                engine,
                ops,
                count,
                size,
                mtu,
                faults: hca_fabric::Faults {
                    drop: loss,
                    corrupt,
                    duplicate,
                    reorder,
                },
                pcap,
                seed,
            })
        }
        Command::Inject { pcap, port, engine } => cli::inject::run(engine, &pcap, port),
        Command::Bringup {
            engine,
            vectors,
            log,
        } => cli::bringup::run(cli::bringup::BringupArgs {
            engine,
            vectors,
            log,
        }),
        Command::Firmware {
            cmd: FirmwareCmd::Table { name },
        } => {
            if name == "all" {
                for (n, t) in hca_firmware::docs::tables() {
                    outln!("<!-- fw:{n} -->\n{t}<!-- /fw -->\n");
                }
                return Ok(true);
            }
            match hca_firmware::docs::table(&name) {
                Some(t) => {
                    out!("{t}");
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
            which: BenchCmd::Eq { commands },
        } => cli::bench_eq::eq(commands).map(|_| true),
        Command::Bench {
            which: BenchCmd::Tpt { icm_latency },
        } => cli::bench_tpt::tpt(icm_latency).map(|_| true),
        Command::Bench {
            which: BenchCmd::Traffic { count },
        } => cli::bench_traffic::traffic(count).map(|_| true),
    }
}
