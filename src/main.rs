use clap::Parser;

#[actix_web::main]
async fn main() {
    let cli = probity::cli::Cli::parse();
    if let Err(error) = probity::cli::run(cli).await {
        eprintln!("probity: {error:#}");
        std::process::exit(2);
    }
}
