fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(zkpod::cli::main(std::env::args_os().collect()))
}
