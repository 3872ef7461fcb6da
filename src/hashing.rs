//! One bounded pool for every Argon2 computation in the process: receipt codes (submission and
//! follow-up) and staff passwords (hash and verify, in the server and the CLI).
//!
//! Argon2 is memory-hard on purpose: a receipt hash fills 8 MiB, a password hash 19 MiB. Run
//! on tokio's blocking pool, 64 concurrent submissions meant 64 fresh 8 MiB allocations and a
//! resident set near 1 GiB (issue 7, "Memory under load"). Here a fixed number of workers (one
//! per core by default) each own one memory block, reused for every hash with
//! `Argon2::hash_password_into_with_memory`; work waits in a queue of bounded length, and when
//! the queue is full the caller gets [`Busy`] at once (the API answers 503 `server_busy` with
//! `Retry-After`) instead of memory growing with the load.
//!
//! Password hashes stay PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`), byte-compatible with
//! what the argon2 crate's `PasswordHasher` writes: the crate has no PHC API that takes caller
//! memory, so the raw hash is computed here with the reused block and encoded with the crate's
//! own `PasswordHash`/`ParamsString` types, and verification compares `Output`s, whose equality
//! is constant-time.

use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

/// Answered when the queue is full: try again shortly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server is busy hashing; try again in a moment")]
pub struct Busy;

/// Seconds a caller refused with [`Busy`] is told to wait (`Retry-After`).
pub const RETRY_AFTER_SECS: u64 = 1;

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// A worker's Argon2 memory, kept between hashes. It grows to the largest cost asked of it
/// (19 MiB for a staff password) and never shrinks.
pub struct Memory {
    blocks: Vec<Block>,
}

impl Memory {
    fn new() -> Memory {
        Memory { blocks: Vec::new() }
    }

    /// Memory outside the pool: for the hashing benchmark (benches/hashing.rs) and test
    /// fixtures only. Probity's own code hashes on a [`HashPool`].
    pub fn standalone() -> Memory {
        Memory::new()
    }

    /// Computes the raw Argon2 hash of `input` under `salt` into `out`, reusing this memory.
    ///
    /// Errors are the argon2 crate's (salt shorter than 8 bytes, output length outside the
    /// parameters, input longer than 2³² − 1 bytes).
    pub fn hash_into(
        &mut self,
        argon: &Argon2<'_>,
        params: &Params,
        input: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks.resize(needed, Block::default());
        }
        argon.hash_password_into_with_memory(input, salt, out, &mut self.blocks[..needed])
    }
}

/// The Argon2 parameters of receipt codes: Argon2id, 8 MiB, t=2, p=1, 32-byte output.
pub fn receipt_params() -> Params {
    Params::new(8 * 1024, 2, 1, Some(32)).expect("valid Argon2 parameters")
}

/// The receipt hash (hex) of a normalised code under the deployment's salt, with `memory`.
pub fn receipt_hash(memory: &mut Memory, salt: &[u8; 32], code: &str) -> String {
    let params = receipt_params();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = [0u8; 32];
    memory
        .hash_into(&argon, &params, code.as_bytes(), salt, &mut out)
        .expect("Argon2 with a 32-byte salt and output cannot fail");
    hex::encode(out)
}

/// A PHC string for `password` with the argon2 crate's default parameters (Argon2id, 19 MiB,
/// t=2, p=1: OWASP's recommendation) and a fresh random salt, computed with `memory`.
///
/// Errors only if the password is longer than Argon2 accepts (4 GiB).
pub fn password_hash(memory: &mut Memory, password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|e| anyhow::anyhow!("encoding the salt failed: {e}"))?;
    let params = Params::default();
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let mut out = vec![0u8; Params::DEFAULT_OUTPUT_LEN];
    memory
        .hash_into(&argon, &params, password.as_bytes(), salt_raw, &mut out)
        .map_err(|e| anyhow::anyhow!("hashing the password failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| anyhow::anyhow!("encoding the parameters failed: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(
            Output::new(&out).map_err(|e| anyhow::anyhow!("encoding the hash failed: {e}"))?,
        ),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `phc` (any Argon2 variant, version and cost the
/// string names), computed with `memory`; the hashes are compared in constant time. An
/// unparsable or non-Argon2 string answers false.
pub fn password_verify(memory: &mut Memory, password: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (parsed.hash, parsed.salt) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt_raw) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut out = vec![0u8; expected.len()];
    if memory
        .hash_into(&argon, &params, password.as_bytes(), salt_raw, &mut out)
        .is_err()
    {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|computed| computed == expected)
}

/// The pool: `workers` threads, each with its own [`Memory`], fed by a queue holding at most
/// `queue_capacity` waiting jobs. Dropping it lets queued jobs finish and joins the workers.
pub struct HashPool {
    queue: Option<SyncSender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl HashPool {
    /// Starts `workers` threads (0 means one per core) and a queue of `queue_capacity` jobs
    /// (0 means a job is taken only when a worker is idle).
    pub fn new(workers: usize, queue_capacity: usize) -> HashPool {
        let workers = if workers == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            workers
        };
        let (queue, jobs) = mpsc::sync_channel::<Job>(queue_capacity);
        let jobs = Arc::new(Mutex::new(jobs));
        let workers = (0..workers)
            .map(|i| {
                let jobs = jobs.clone();
                std::thread::Builder::new()
                    .name(format!("probity-argon2-{i}"))
                    .spawn(move || work(&jobs))
                    .expect("starting an Argon2 worker thread")
            })
            .collect();
        HashPool {
            queue: Some(queue),
            workers,
        }
    }

    /// How many workers hash at once.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Runs `f` on a worker with that worker's memory and returns its result.
    ///
    /// Errors with [`Busy`] at once when every worker is busy and the queue is full; never
    /// waits for room. A job whose caller went away still runs to completion.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Busy>
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(f(memory));
        });
        let queue = self.queue.as_ref().ok_or(Busy)?;
        match queue.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => return Err(Busy),
        }
        // A worker that panicked dropped `done`; the caller sees that as busy, not a hang.
        result.await.map_err(|_| Busy)
    }

    /// Runs `f` on a worker, waiting for queue room instead of refusing: for the command line,
    /// where one person runs one command.
    pub fn run_blocking<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&mut Memory) -> T + Send + 'static,
        T: Send + 'static,
    {
        let (done, result) = mpsc::sync_channel(1);
        let job: Job = Box::new(move |memory| {
            let _ = done.send(f(memory));
        });
        self.queue
            .as_ref()
            .expect("the pool is running")
            .send(job)
            .expect("the Argon2 workers are running");
        result.recv().expect("the Argon2 worker finished the job")
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut memory = Memory::new();
    loop {
        let job = match jobs.lock() {
            Ok(jobs) => jobs.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(&mut memory),
            Err(_) => return,
        }
    }
}

impl Drop for HashPool {
    fn drop(&mut self) {
        self.queue.take();
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::{PasswordHasher, PasswordVerifier};

    #[test]
    fn receipt_hashes_match_the_crates_own_computation() {
        let salt = [7u8; 32];
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, receipt_params())
            .hash_password_into(b"1234567890123456", &salt, &mut out)
            .unwrap();
        let mut memory = Memory::new();
        assert_eq!(
            receipt_hash(&mut memory, &salt, "1234567890123456"),
            hex::encode(out)
        );
        // The reused block gives the same answer the second time.
        assert_eq!(
            receipt_hash(&mut memory, &salt, "1234567890123456"),
            hex::encode(out)
        );
    }

    #[test]
    fn password_hashes_interoperate_with_the_argon2_crate() {
        let mut memory = Memory::new();
        let ours = password_hash(&mut memory, "correct horse battery").unwrap();
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The crate verifies what we wrote ...
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse battery", &parsed)
            .is_ok());
        // ... and we verify what the crate wrote, including other costs.
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(4096, 3, 1, None).unwrap(),
        )
        .hash_password(b"another passphrase", &salt)
        .unwrap()
        .to_string();
        assert!(password_verify(&mut memory, "another passphrase", &theirs));
        assert!(!password_verify(&mut memory, "another passphrasE", &theirs));
        assert!(password_verify(&mut memory, "correct horse battery", &ours));
        assert!(!password_verify(&mut memory, "wrong horse battery", &ours));
        assert!(!password_verify(
            &mut memory,
            "anything",
            "not a phc string"
        ));
        assert!(!password_verify(
            &mut memory,
            "anything",
            "$pbkdf2-sha256$i=1000$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
        ));
    }

    #[test]
    fn a_full_queue_answers_busy_and_the_pool_recovers() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let pool = HashPool::new(1, 1);
            // Hold the only worker until released.
            let (release, held) = mpsc::channel::<()>();
            let (started, has_started) = mpsc::channel::<()>();
            let blocker = pool.run(move |_| {
                started.send(()).unwrap();
                held.recv().unwrap();
                1
            });
            let mut blocker = Box::pin(blocker);
            // Drive the first job onto the worker.
            assert!(futures_util::poll!(&mut blocker).is_pending());
            has_started.recv().unwrap();
            // One job may wait; the next one is refused at once.
            let mut waiting = Box::pin(pool.run(|_| 2));
            assert!(futures_util::poll!(&mut waiting).is_pending());
            assert_eq!(pool.run(|_| 3).await, Err(Busy));
            release.send(()).unwrap();
            assert_eq!(blocker.await, Ok(1));
            assert_eq!(waiting.await, Ok(2));
            let salt = [1u8; 32];
            let hash = pool
                .run(move |m| receipt_hash(m, &salt, "1234567890123456"))
                .await;
            assert_eq!(hash.map(|h| h.len()), Ok(64));
        });
    }
}
