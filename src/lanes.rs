//! BLAKE3 `derive_key` of many short inputs at once.
//!
//! A chain hash and a payload digest are each a BLAKE3 hash of one short
//! input (87 bytes; a payload of a few hundred): one chunk, whose 64-byte
//! blocks are compressed one after another. Hashed one at a time, each
//! compression uses a SIMD register for the four words of one row of one
//! state; hashed side by side, the same registers carry one word of 8
//! (AVX2) or 16 (AVX-512) states, several times the work per instruction.
//! This module hashes a slice of inputs that way: every full block before an
//! input's last goes through BLAKE3's `hash_many` (the many-input routine
//! BLAKE3 uses for the chunks of one long input), grouped by how many such
//! blocks the input has; the last block, shorter or flagged as the end, is
//! compressed on its own. The results are the hashes
//! `blake3::Hasher::new_from_context_key` gives, input by input: the tests
//! compare the two at every length up to three chunks.
//!
//! `hash_many` and the compression function come from the `blake3` crate's
//! `platform` module, public but unstable; the crate is pinned to one
//! version for that reason (see ARCHITECTURE.md).

use crate::event::Hash;
use blake3::hazmat::ContextKey;
use blake3::platform::Platform;
use blake3::{IncrementCounter, BLOCK_LEN, CHUNK_LEN};
use std::sync::LazyLock;

// BLAKE3's domain flags (the specification's, section 2.1).
const CHUNK_START: u8 = 1 << 0;
const CHUNK_END: u8 = 1 << 1;
const ROOT: u8 = 1 << 3;
const DERIVE_KEY_MATERIAL: u8 = 1 << 6;

/// The most full blocks before the last of an input of one chunk.
const MAX_PREFIX: usize = CHUNK_LEN / BLOCK_LEN - 1;
/// Inputs hashed side by side at most (AVX-512's lanes).
const WIDTH: usize = 16;

static PLATFORM: LazyLock<Platform> = LazyLock::new(Platform::detect);

/// `out[i]` becomes BLAKE3's `derive_key` of `inputs[i]` under the context
/// key `key` (as [`blake3::Hasher::new_from_context_key`] hashes it).
///
/// # Panics
/// If `out` is shorter than `inputs`.
pub fn derive_many(key: &ContextKey, inputs: &[&[u8]], out: &mut [Hash]) {
    derive_many_on(*PLATFORM, key, inputs, out);
}

/// [`derive_many`] with the compression function of `platform`.
fn derive_many_on(platform: Platform, key: &ContextKey, inputs: &[&[u8]], out: &mut [Hash]) {
    assert!(out.len() >= inputs.len(), "one output for each input");
    let words = blake3::platform::words_from_le_bytes_32(key);
    // The inputs waiting, by how many full blocks come before their last.
    let mut waiting = [[0u32; WIDTH]; MAX_PREFIX + 1];
    let mut counts = [0usize; MAX_PREFIX + 1];
    for (i, input) in inputs.iter().enumerate() {
        if input.len() > CHUNK_LEN {
            out[i] = derive(key, input);
            continue;
        }
        let prefix = prefix_blocks(input.len());
        if prefix == 0 {
            let mut cv = words;
            last_block(platform, &mut cv, input, true);
            out[i] = Hash(blake3::platform::le_bytes_from_words_32(&cv));
            continue;
        }
        waiting[prefix][counts[prefix]] = i as u32;
        counts[prefix] += 1;
        if counts[prefix] == WIDTH {
            hash_group(platform, &words, prefix, inputs, &waiting[prefix], out);
            counts[prefix] = 0;
        }
    }
    for prefix in 1..=MAX_PREFIX {
        let n = counts[prefix];
        if n > 0 {
            hash_group(platform, &words, prefix, inputs, &waiting[prefix][..n], out);
        }
    }
}

/// One input's `derive_key` under the context key `key`, hashed alone.
pub fn derive(key: &ContextKey, input: &[u8]) -> Hash {
    use blake3::hazmat::HasherExt;
    let mut h = blake3::Hasher::new_from_context_key(key);
    h.update(input);
    Hash(*h.finalize().as_bytes())
}

/// How many full blocks come before the last block of an input of `len`
/// bytes (of one chunk): the last holds 1 to 64 bytes, or none for an
/// empty input.
fn prefix_blocks(len: usize) -> usize {
    len.saturating_sub(1) / BLOCK_LEN
}

/// Compresses the last block of `input` (of one chunk) into `cv`, as the
/// root: `first` when it is also the chunk's first block.
fn last_block(platform: Platform, cv: &mut [u32; 8], input: &[u8], first: bool) {
    let start = prefix_blocks(input.len()) * BLOCK_LEN;
    let tail = &input[start..];
    let mut block = [0u8; BLOCK_LEN];
    block[..tail.len()].copy_from_slice(tail);
    let mut flags = DERIVE_KEY_MATERIAL | CHUNK_END | ROOT;
    if first {
        flags |= CHUNK_START;
    }
    platform.compress_in_place(cv, &block, tail.len() as u8, 0, flags);
}

/// Hashes the inputs `which` (each with `prefix` full blocks before its
/// last) side by side up to their last blocks, then each last block.
fn hash_group(
    platform: Platform,
    key: &[u32; 8],
    prefix: usize,
    inputs: &[&[u8]],
    which: &[u32],
    out: &mut [Hash],
) {
    let mut cvs = [0u8; WIDTH * 32];
    macro_rules! many {
        ($($n:literal)*) => {
            match prefix {
                $($n => prefixes::<{ $n * BLOCK_LEN }>(platform, key, inputs, which, &mut cvs),)*
                _ => unreachable!("at most {MAX_PREFIX} blocks before the last"),
            }
        };
    }
    many!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    for (&i, cv) in which.iter().zip(cvs.chunks_exact(32)) {
        let mut words = blake3::platform::words_from_le_bytes_32(cv.try_into().expect("32 bytes"));
        last_block(platform, &mut words, inputs[i as usize], false);
        out[i as usize] = Hash(blake3::platform::le_bytes_from_words_32(&words));
    }
}

/// The chaining values of the first `N` bytes (whole blocks) of each input
/// of `which`, side by side, into `cvs`.
fn prefixes<const N: usize>(
    platform: Platform,
    key: &[u32; 8],
    inputs: &[&[u8]],
    which: &[u32],
    cvs: &mut [u8; WIDTH * 32],
) {
    let firsts: [&[u8; N]; WIDTH] = std::array::from_fn(|k| {
        let i = which[k.min(which.len() - 1)] as usize;
        inputs[i][..N].try_into().expect("N bytes")
    });
    platform.hash_many(
        &firsts[..which.len()],
        key,
        0,
        IncrementCounter::No,
        DERIVE_KEY_MATERIAL,
        CHUNK_START,
        0,
        &mut cvs[..],
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inputs of every length up to three chunks, in several orders and
    /// group sizes, with each compression function this machine has: each
    /// hash is the one `blake3` gives the input alone.
    #[test]
    fn hashes_side_by_side_are_the_hashes_of_each_input() {
        // The best this machine has (AVX-512 where it is there), and the
        // others it can run.
        let mut platforms = vec![Platform::detect(), Platform::portable()];
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        platforms.extend(
            [Platform::sse2(), Platform::sse41(), Platform::avx2()]
                .into_iter()
                .flatten(),
        );
        for platform in platforms {
            hashes_side_by_side_on(platform);
        }
    }

    fn hashes_side_by_side_on(platform: Platform) {
        let key = blake3::hazmat::hash_derive_key_context("demarche lanes test");
        let bytes: Vec<u8> = (0..3 * CHUNK_LEN + 7)
            .map(|i| (i * 131 % 251) as u8)
            .collect();
        let lens: Vec<usize> = (0..=3 * CHUNK_LEN + 7).collect();
        let check = |lens: &[usize]| {
            let inputs: Vec<&[u8]> = lens
                .iter()
                .enumerate()
                .map(|(k, &n)| &bytes[k % 7..][..n.min(bytes.len() - k % 7)])
                .collect();
            let mut out = vec![Hash::ZERO; inputs.len()];
            derive_many_on(platform, &key, &inputs, &mut out);
            for (input, got) in inputs.iter().zip(&out) {
                let alone = blake3::derive_key("demarche lanes test", input);
                assert_eq!(got.0, alone, "{platform:?}, length {}", input.len());
            }
        };
        check(&lens);
        let mut reversed = lens.clone();
        reversed.reverse();
        check(&reversed);
        // Many inputs of one length (whole groups and a remainder), and
        // every length around the block and chunk edges, one by one.
        for n in [0, 1, 63, 64, 65, 87, 128, 300, 1023, 1024, 1025] {
            check(&vec![n; 3 * WIDTH + 5]);
            check(&[n]);
        }
        check(&[]);
    }
}
