//! `l2tp-loadgen`: a load generator built on the sans-IO engine. It acts as T LAC tunnels × S
//! sessions (L2TPv2 or L2TPv3 over UDP) against an LNS, at a bounded concurrency, one UDP
//! socket per tunnel, and reports set-up and teardown rates, failures and retransmissions.
//! With `--ppp`, every session runs PPP as a client over the session's data messages.
#![forbid(unsafe_code)]

mod cli;
mod driver;
mod ppp;
mod report;
mod sys;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Args::parse();
    let plan = match args.plan() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("l2tp-loadgen: {e}");
            return ExitCode::from(2);
        }
    };
    let json = plan.json;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("l2tp-loadgen: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let report = match runtime.block_on(driver::run(plan)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("l2tp-loadgen: {e}");
            return ExitCode::from(1);
        }
    };
    if json {
        println!("{}", report.json());
    } else {
        print!("{}", report.text());
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
