//! Costs that issues set targets for: checking a receipt code (target: no more than ~25 ms) and
//! a staff password verification (Argon2id, OWASP parameters). Run with
//! `cargo bench --bench hashing`; the figures go into docs/benchmarks.md.

use std::time::{Duration, Instant};

use probity::reports::receipts::ReceiptHasher;

fn summarise(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "{name}: n={} mean={:.2} ms p50={:.2} ms p95={:.2} ms max={:.2} ms",
        samples.len(),
        mean.as_secs_f64() * 1e3,
        pct(0.5).as_secs_f64() * 1e3,
        pct(0.95).as_secs_f64() * 1e3,
        samples.last().unwrap().as_secs_f64() * 1e3,
    );
}

fn main() {
    let hasher = ReceiptHasher::new([42; 32]);
    let code = probity::domain::receipt_code::generate();
    let _warm = hasher.hash(&code);
    let samples = (0..200)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(hasher.hash(std::hint::black_box(&code)));
            start.elapsed()
        })
        .collect();
    summarise("receipt code check (Argon2id m=8 MiB t=2 p=1)", samples);

    let phc = probity::users::password::hash("correct horse battery staple 2026").unwrap();
    let samples = (0..30)
        .map(|_| {
            let start = Instant::now();
            assert!(probity::users::password::verify(
                "correct horse battery staple 2026",
                &phc
            ));
            start.elapsed()
        })
        .collect();
    summarise("staff password verify (Argon2id m=19 MiB t=2 p=1)", samples);
}
