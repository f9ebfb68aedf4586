//! argon2id hashing on dedicated threads, off the actix workers, one hash per core at a time
//! (`argon.rs` is the hashing itself: parameters, NFKC, the constant-time comparison).

mod argon;

pub use argon::{Verdict, hash_blocking, verify_blocking};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use anyhow::{Context, anyhow};
use secrecy::SecretString;
use tokio::sync::oneshot;

use crate::domain::PasswordHash as StoredHash;

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
mod tests;
