//! argon2id hashing on dedicated threads, off the actix workers, one hash per core at a time.

use std::cell::RefCell;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, anyhow};
use argon2::password_hash::phc::Output;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, PasswordHasher as _, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::oneshot;
use unicode_normalization::UnicodeNormalization;

use crate::domain::PasswordHash as StoredHash;

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    Match,
    /// Correct, but the stored hash uses weaker parameters than today's: store a new one.
    MatchNeedsRehash,
}

/// Hashes and verifies passwords on a small pool of dedicated threads, one per core.
///
/// Why not `web::block`: each argon2 run allocates 19 MiB, and glibc keeps that memory in
/// the arena of whichever thread ran it, so hashing across actix's many blocking threads
/// grew the process to over a gigabyte under a login flood. On `cores` long-lived threads
/// at most `cores` such buffers exist. The threads run under `SCHED_IDLE`: they get a core
/// only when no request thread wants it, and give it up the moment one wakes, so a login
/// flood soaks up idle CPU without delaying the requests of signed-in users (BENCHMARKS.md,
/// "The hashing threads at `SCHED_IDLE`").
#[derive(Clone)]
pub struct Hasher {
    jobs: mpsc::Sender<Job>,
    /// Verified against when the email is unknown, so both paths cost one argon2 run.
    dummy_hash: Arc<str>,
    /// Jobs queued or running, and how many may be: a flood beyond that is told to come
    /// back later (503) rather than wait without bound.
    pending: Arc<AtomicUsize>,
    capacity: usize,
}

/// The hashing queue is full: the caller answers 503 with `Retry-After`.
pub use crate::errors::Busy;

/// A place in the hashing queue, taken before the work it is for (a sign-in counts its
/// attempt only once it knows its hash will run). Given back when the hash is done.
pub struct Slot {
    hasher: Hasher,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.hasher.pending.fetch_sub(1, Ordering::AcqRel);
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Where `SCHED_IDLE` is refused, how much lower than the request workers the hashing
/// threads run instead (see `Hasher`).
const HASHER_NICENESS: libc::c_int = 10;

/// OWASP's minimum for argon2id (m=19456 KiB, t=2, p=1), which is also argon2's default.
fn argon2() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::default())
}

/// NFKC (NIST SP 800-63B §3.1.1.2): the same password typed on keyboards that produce
/// different code points for "Å" or "ﬁ" must verify.
fn normalized(password: &SecretString) -> SecretString {
    SecretString::from(password.expose_secret().nfkc().collect::<String>())
}

pub fn hash_blocking(password: &SecretString) -> anyhow::Result<String> {
    argon2()
        .hash_password(normalized(password).expose_secret().as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow!("argon2 hashing failed: {e}"))
}

pub fn verify_blocking(password: &SecretString, stored: &str) -> Verdict {
    let Ok(parsed) = PasswordHash::new(stored) else {
        log::error!("a stored password hash is not a valid PHC string");
        return Verdict::Mismatch;
    };
    if !matches_hash(normalized(password).expose_secret().as_bytes(), &parsed) {
        return Verdict::Mismatch;
    }
    if is_current(&parsed) { Verdict::Match } else { Verdict::MatchNeedsRehash }
}

thread_local! {
    /// argon2's working memory, kept per thread and reused: allocating and faulting in
    /// 19 MiB afresh made every verification about a third slower.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Recomputes the hash with the stored algorithm, version, parameters and salt, and
/// compares in constant time (phc's `Output` equality).
fn matches_hash(password: &[u8], hash: &PasswordHash) -> bool {
    let (Some(salt), Some(expected)) = (&hash.salt, &hash.hash) else { return false };
    let Ok(algorithm) = Algorithm::try_from(hash.algorithm.as_str()) else { return false };
    let Ok(version) = hash.version.map_or(Ok(Version::V0x13), Version::try_from) else { return false };
    let Ok(params) = Params::try_from(hash) else { return false };
    let blocks = params.block_count();
    let mut out = vec![0u8; expected.len()];
    let computed = MEMORY.with_borrow_mut(|memory| {
        if memory.len() < blocks {
            memory.resize(blocks, Block::default());
        }
        Argon2::new(algorithm, version, params).hash_password_into_with_memory(
            password,
            salt,
            &mut out,
            &mut memory[..blocks],
        )
    });
    computed.is_ok() && Output::new(&out).is_ok_and(|o| o == *expected)
}

/// True when the hash was made with argon2id and at least today's parameters.
fn is_current(hash: &PasswordHash) -> bool {
    let wanted = Params::default();
    hash.algorithm.as_str() == "argon2id"
        && Params::try_from(hash).is_ok_and(|p| {
            p.m_cost() >= wanted.m_cost() && p.t_cost() >= wanted.t_cost() && p.p_cost() >= wanted.p_cost()
        })
}

impl Hasher {
    /// One hashing thread per core, and a queue of at most `capacity` jobs (running ones
    /// included) behind them.
    pub fn new(capacity: usize) -> anyhow::Result<Self> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..cores {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || hashing_thread(&queue))
                .context("cannot start a hashing thread")?;
        }
        let dummy = hash_blocking(&SecretString::from("portcullis-dummy-password"))?;
        let pending = Arc::new(AtomicUsize::new(0));
        Ok(Self { jobs, dummy_hash: dummy.into(), pending, capacity: capacity.max(1) })
    }

    /// Jobs queued or running right now.
    pub fn queue_depth(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes a place in the queue, or says it is full.
    pub fn slot(&self) -> Result<Slot, Busy> {
        let taken = self
            .pending
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| (n < self.capacity).then_some(n + 1));
        match taken {
            Ok(_) => Ok(Slot { hasher: self.clone() }),
            Err(_) => Err(Busy),
        }
    }

    pub async fn hash(&self, password: SecretString) -> anyhow::Result<String> {
        self.slot()?.hash(password).await
    }

    /// Runs `work` (a CPU-bound check such as the password policy) on a hashing thread.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        self.slot()?.run(work).await
    }
}

impl Slot {
    /// Runs `work` on a hashing thread; the place in the queue is given back when it ends,
    /// even if the request that asked for it has gone away.
    pub async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> anyhow::Result<T> {
        let (reply, answer) = oneshot::channel();
        let jobs = self.hasher.jobs.clone();
        let job: Job = Box::new(move || {
            let result = work();
            // Free the place before answering: the answer lets the client send its next
            // request, which must find the place free.
            drop(self);
            let _ = reply.send(result);
        });
        jobs.send(job).map_err(|_| anyhow!("the hashing threads have stopped"))?;
        answer.await.context("a hashing thread dropped its job")
    }

    pub async fn hash(self, password: SecretString) -> anyhow::Result<String> {
        self.run(move || hash_blocking(&password)).await?
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is no
    /// stored hash (unknown email), so the two cases take the same time.
    pub async fn verify(self, password: SecretString, stored: Option<StoredHash>) -> anyhow::Result<Verdict> {
        let dummy = Arc::clone(&self.hasher.dummy_hash);
        self.run(move || match stored {
            Some(hash) => verify_blocking(&password, hash.expose()),
            None => {
                verify_blocking(&password, &dummy);
                Verdict::Mismatch
            }
        })
        .await
    }
}

fn hashing_thread(queue: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match queue.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // every Hasher is gone
        }
    }
}

/// Puts the calling thread under `SCHED_IDLE`, or at nice 10 where that is refused. Both only
/// lower a priority, which any process may do.
fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` outlives the call, which only reads it; pid 0 is the calling thread.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
        return;
    }
    // SAFETY: setpriority and gettid only read their integer arguments; on Linux
    // PRIO_PROCESS with a thread id changes the niceness of that one thread.
    let lowered =
        unsafe { libc::setpriority(libc::PRIO_PROCESS, libc::gettid() as libc::id_t, HASHER_NICENESS) };
    if lowered != 0 {
        log::debug!("could not lower the priority of a hashing thread");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_an_argon2id_phc_string_that_verifies() {
        let pw = SecretString::from("tangerine orbit velvet cactus");
        let hash = hash_blocking(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert_eq!(verify_blocking(&pw, &hash), Verdict::Match);
        assert_eq!(verify_blocking(&SecretString::from("wrong"), &hash), Verdict::Mismatch);
    }

    #[test]
    fn weaker_stored_parameters_ask_for_a_rehash() {
        let pw = SecretString::from("tangerine orbit velvet cactus");
        let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
            .hash_password(pw.expose_secret().as_bytes())
            .unwrap()
            .to_string();
        assert_eq!(verify_blocking(&pw, &weak), Verdict::MatchNeedsRehash);
    }

    #[test]
    fn passwords_are_compared_after_nfkc_normalization() {
        // U+212B ANGSTROM SIGN and U+00C5 LATIN CAPITAL LETTER A WITH RING ABOVE.
        let hash = hash_blocking(&SecretString::from("\u{212B}ngstr\u{f6}m unit of length")).unwrap();
        assert_eq!(
            verify_blocking(&SecretString::from("\u{c5}ngstr\u{f6}m unit of length"), &hash),
            Verdict::Match
        );
        let ligature = hash_blocking(&SecretString::from("\u{fb01}nal \u{fb01}gures of speech")).unwrap();
        assert_eq!(
            verify_blocking(&SecretString::from("final figures of speech"), &ligature),
            Verdict::Match
        );
    }

    #[test]
    fn a_corrupt_stored_hash_never_matches() {
        assert_eq!(verify_blocking(&SecretString::from("x"), "not-a-hash"), Verdict::Mismatch);
    }

    #[test]
    fn hashing_threads_run_under_sched_idle() {
        const SCHED_IDLE: &str = "5";
        let hasher = Hasher::new(1).unwrap();
        // The policy of every hashing thread of this process, from field 41 of its stat line.
        let policies = || -> Vec<String> {
            let tasks = std::fs::read_dir("/proc/self/task").unwrap();
            tasks
                .filter_map(|task| {
                    let dir = task.ok()?.path();
                    let name = std::fs::read_to_string(dir.join("comm")).ok()?;
                    if !name.starts_with("argon2-") {
                        return None;
                    }
                    let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
                    let after_name = &stat[stat.rfind(')')? + 1..];
                    after_name.split_whitespace().nth(38).map(str::to_owned)
                })
                .collect()
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while policies().iter().any(|p| p != SCHED_IDLE) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let seen = policies();
        assert!(!seen.is_empty(), "no hashing thread found");
        assert!(seen.iter().all(|p| p == SCHED_IDLE), "policies: {seen:?}");
        drop(hasher);
    }
}
