//! A fuzzer that runs on stable Rust, for CI: feeds each target the seed corpus (the
//! sample site), the saved regressions and random mutations of them for a fixed time.
//! Not libFuzzer (no coverage guidance), but the same target functions.
//!
//! ```text
//! smoke [--seconds N] [--seed S] [--target NAME]...   run (default: every target, 60 s in all)
//! smoke --write-seeds                                 write fuzz/corpus/TARGET/ for cargo fuzz
//! smoke --replay TARGET FILE...                       run a target on saved inputs
//! ```
//!
//! Each target runs in a child process, so that a stack overflow or an abort is a
//! finding too; the input being tried is kept in `fuzz/artifacts/TARGET/smoke-current`
//! and copied to `smoke-crash-HASH` on a crash. Exit status 1 when anything was found.

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One input taking this long is a hang.
const HANG: Duration = Duration::from_secs(20);

/// Tokens that make the parsers take interesting turns.
const DICTIONARY: &[&str] = &[
    "+++\n",
    "\n",
    "\"",
    "'",
    "[[unit]]\n",
    "id = \"",
    "name = \"",
    "parent = \"",
    "title = ",
    "date = 2024-01-02T08:00:00+07:00\n",
    "unit = \"tinh-uy\"\n",
    "tags = [",
    "aliases = [\"/",
    "slug = \"",
    "cover = { src = \"",
    "[extra]\n",
    "documents = [\"35-NQ/TW\"",
    "kind = \"",
    "draft = true\n",
    "\"\"\"",
    "[",
    "]",
    "](",
    "![",
    "> ",
    "- ",
    "1. ",
    "# ",
    "```",
    "~~~",
    "|---|",
    "| a |",
    "[^1]",
    "[^1]: ",
    "{#",
    "{.",
    "}",
    "<",
    ">",
    "</",
    "<script>",
    "<img src=x onerror=",
    "<a href=\"",
    "javascript:",
    "data:text/html,",
    "&#106;",
    "&lt;",
    "&",
    "../",
    "..",
    "/",
    "\\",
    "%2e%2e/",
    "\u{0}",
    "\u{feff}",
    "\r\n",
    "\t",
    "o\u{302}\u{301}",
    "Đảng ủy",
    "\u{200b}",
    "\u{fffd}",
    "🇻🇳",
    "\u{ff}",
];

/// xorshift64*: small, seeded, good enough for mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>], max: usize) {
    for _ in 0..1 + rng.below(4) {
        let len = input.len();
        match rng.below(10) {
            0 if len > 0 => {
                let i = rng.below(len);
                input[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                input[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1);
                input.insert(i, rng.next() as u8);
            }
            3 if len > 0 => {
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(64));
                input.drain(i..i + n);
            }
            4 | 5 => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())].as_bytes();
                let i = rng.below(len + 1);
                input.splice(i..i, token.iter().copied());
            }
            6 if len > 0 => {
                // A chunk repeated: deep nesting, long lines, many keys.
                let i = rng.below(len);
                let n = 1 + rng.below((len - i).min(16));
                let chunk = input[i..i + n].to_vec();
                let most = if rng.below(8) == 0 { 2000 } else { 8 };
                let times = 1 + rng.below(most);
                let at = rng.below(len + 1);
                let repeated: Vec<u8> = chunk.iter().copied().cycle().take(n * times).collect();
                input.splice(at..at, repeated);
            }
            7 if !pool.is_empty() => {
                // Splice: a piece of another input.
                let other = &pool[rng.below(pool.len())];
                if !other.is_empty() {
                    let i = rng.below(other.len());
                    let n = 1 + rng.below((other.len() - i).min(512));
                    let at = rng.below(len + 1);
                    input.splice(at..at, other[i..i + n].iter().copied());
                }
            }
            8 if len > 0 => input.truncate(rng.below(len)),
            _ if len > 1 => {
                // Two bytes swapped.
                let (a, b) = (rng.below(len), rng.below(len));
                input.swap(a, b);
            }
            _ => input.push(rng.next() as u8),
        }
    }
    input.truncate(max);
}

fn artifacts(target: &str) -> PathBuf {
    bantin_fuzz::repo().join("fuzz/artifacts").join(target)
}

fn hash(bytes: &[u8]) -> u64 {
    // FNV-1a: names a crash file after its bytes.
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

fn target_fn(name: &str) -> Option<fn(&[u8])> {
    bantin_fuzz::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
}

/// The inputs saved in `fuzz/FOLDER/TARGET/`, at most 2,000.
fn saved(folder: &str, target: &str) -> Vec<Vec<u8>> {
    let dir = bantin_fuzz::repo().join("fuzz").join(folder).join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    paths
        .into_iter()
        .take(2000)
        .filter_map(|p| fs::read(p).ok())
        .collect()
}

/// The child: runs one target until the time is up. Exit 0, or 1 with the input saved.
fn child(target: &str, seconds: f64, seed: u64) -> ExitCode {
    let Some(run) = target_fn(target) else {
        eprintln!("no target {target}");
        return ExitCode::FAILURE;
    };
    let dir = artifacts(target);
    let _ = fs::create_dir_all(&dir);
    let current = dir.join("smoke-current");
    std::panic::set_hook(Box::new(|info| {
        eprintln!("panic: {info}");
    }));
    // A watchdog: one input running longer than HANG is a finding.
    let started_at = Arc::new(AtomicU64::new(0));
    let epoch = Instant::now();
    {
        let started_at = started_at.clone();
        let current = current.clone();
        let dir = dir.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(Duration::from_millis(500));
            let s = started_at.load(Ordering::Relaxed);
            if s > 0 && epoch.elapsed().as_millis() as u64 - s > HANG.as_millis() as u64 {
                let bytes = fs::read(&current).unwrap_or_default();
                let path = dir.join(format!("smoke-hang-{:016x}", hash(&bytes)));
                let _ = fs::write(&path, &bytes);
                eprintln!(
                    "HANG: one input ran over {} s; saved as {}",
                    HANG.as_secs(),
                    path.display()
                );
                std::process::exit(1);
            }
        });
    }
    // Regressions (crashes found before) all run; then the seeds and the corpus of
    // earlier runs as they are, then mutations of them, until the time is up.
    let regressions = saved("regressions", target);
    let mut pool = bantin_fuzz::seeds(target);
    let seeds = pool.len();
    pool.extend(saved("corpus", target));
    let max = bantin_fuzz::max_len(target);
    let mut rng = Rng(seed | 1);
    let deadline = epoch + Duration::from_secs_f64(seconds);
    let mut runs = 0u64;
    let mut i = 0usize;
    let try_one = |input: &[u8]| -> bool {
        if fs::write(&current, input).is_err() {
            eprintln!("cannot write {}", current.display());
        }
        started_at.store(epoch.elapsed().as_millis().max(1) as u64, Ordering::Relaxed);
        let ok = std::panic::catch_unwind(|| run(input)).is_ok();
        started_at.store(0, Ordering::Relaxed);
        if !ok {
            let path = dir.join(format!("smoke-crash-{:016x}", hash(input)));
            let _ = fs::write(&path, input);
            eprintln!("CRASH in {target}: input saved as {}", path.display());
        }
        ok
    };
    for input in &regressions {
        runs += 1;
        if !try_one(input) {
            return ExitCode::FAILURE;
        }
    }
    let saved_inputs = pool.len();
    while Instant::now() < deadline && !pool.is_empty() {
        let mut input = pool[i % pool.len()].clone();
        i += 1;
        if i > saved_inputs {
            mutate(&mut rng, &mut input, &pool, max);
        }
        runs += 1;
        if !try_one(&input) {
            return ExitCode::FAILURE;
        }
        // Keep some mutants as parents, so that mutations stack up.
        if rng.below(16) == 0 && pool.len() < 4096 {
            pool.push(input);
        }
    }
    let _ = fs::remove_file(&current);
    println!(
        "{target}: {runs} executions in {:.1} s, {} regressions, {seeds} seeds, {} inputs in the pool, no crash",
        epoch.elapsed().as_secs_f64(),
        regressions.len(),
        pool.len()
    );
    let _ = std::io::stdout().flush();
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut seconds = 60.0;
    let mut seed: u64 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    let mut targets: Vec<String> = Vec::new();
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--child" => {
                let target = &args[i + 1];
                let secs: f64 = args[i + 2].parse().unwrap_or(10.0);
                let seed: u64 = args[i + 3].parse().unwrap_or(1);
                return child(target, secs, seed);
            }
            "--write-seeds" => {
                for (name, _) in bantin_fuzz::TARGETS {
                    let dir = bantin_fuzz::repo().join("fuzz/corpus").join(name);
                    fs::create_dir_all(&dir).expect("make the corpus folder");
                    for (n, seed) in bantin_fuzz::seeds(name).iter().enumerate() {
                        fs::write(dir.join(format!("seed-{n:03}")), seed).expect("write a seed");
                    }
                    println!("{}", dir.display());
                }
                return ExitCode::SUCCESS;
            }
            "--replay" => {
                let Some(run) = args.get(i + 1).and_then(|t| target_fn(t)) else {
                    eprintln!("--replay TARGET FILE...");
                    return ExitCode::FAILURE;
                };
                for file in &args[i + 2..] {
                    let bytes = fs::read(file).expect("read the input");
                    run(&bytes);
                    println!("{file}: ok");
                }
                return ExitCode::SUCCESS;
            }
            "--seconds" => {
                seconds = args[i + 1].parse().expect("--seconds N");
                i += 1;
            }
            "--seed" => {
                seed = args[i + 1].parse().expect("--seed N");
                i += 1;
            }
            "--target" => {
                targets.push(args[i + 1].clone());
                i += 1;
            }
            other => {
                eprintln!("unknown argument {other}");
                return ExitCode::FAILURE;
            }
        }
        i += 1;
    }
    if targets.is_empty() {
        targets = bantin_fuzz::TARGETS
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
    }
    let each = seconds / targets.len() as f64;
    println!(
        "fuzz smoke: {} targets, {each:.0} s each, seed {seed}",
        targets.len()
    );
    let me = std::env::current_exe().expect("the smoke runner's own path");
    let mut failed = Vec::new();
    for target in &targets {
        let status = Command::new(&me)
            .args(["--child", target, &each.to_string(), &seed.to_string()])
            .status()
            .expect("start a child");
        if !status.success() {
            // Killed by a signal (stack overflow, abort): the input is the current one.
            let current = artifacts(target).join("smoke-current");
            if let Ok(bytes) = fs::read(&current) {
                let path = artifacts(target).join(format!("smoke-crash-{:016x}", hash(&bytes)));
                let _ = fs::write(&path, &bytes);
                let _ = fs::remove_file(&current);
                eprintln!(
                    "{target}: failed ({status}); input saved as {}",
                    path.display()
                );
            } else {
                eprintln!("{target}: failed ({status})");
            }
            failed.push(target.clone());
        }
    }
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        eprintln!("fuzz smoke found problems in: {}", failed.join(", "));
        ExitCode::FAILURE
    }
}
