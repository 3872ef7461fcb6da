//! Costs that issues set targets for: checking a receipt code (target: no more than ~25 ms) and
//! a staff password verification (Argon2id, OWASP parameters), both computed the way the server
//! computes them: with one reused memory block (`probity::hashing`). Run with
//! `cargo bench --bench hashing`; the figures go into docs/benchmarks.md, and
//! scripts/bench-submit.sh reads the receipt mean to work out the machine's Argon2 ceiling.

use std::time::{Duration, Instant};

use probity::hashing::{self, Memory};

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
    let only_receipt = std::env::args().any(|a| a == "--receipt-only");
    let mut memory = Memory::standalone();
    let salt = [42u8; 32];
    let code = probity::domain::receipt_code::generate();
    let _warm = hashing::receipt_hash(&mut memory, &salt, &code);
    let samples = (0..200)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(hashing::receipt_hash(
                &mut memory,
                &salt,
                std::hint::black_box(&code),
            ));
            start.elapsed()
        })
        .collect();
    summarise(
        "receipt code check (Argon2id m=8 MiB t=2 p=1, reused block)",
        samples,
    );
    if only_receipt {
        return;
    }

    let phc = hashing::password_hash(&mut memory, "correct horse battery staple 2026").unwrap();
    let samples = (0..30)
        .map(|_| {
            let start = Instant::now();
            assert!(hashing::password_verify(
                &mut memory,
                "correct horse battery staple 2026",
                &phc
            ));
            start.elapsed()
        })
        .collect();
    summarise(
        "staff password verify (Argon2id m=19 MiB t=2 p=1, reused block)",
        samples,
    );
}
