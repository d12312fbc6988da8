//! The shape of a block blob upload: how large each block is and what it is called.
//!
//! A blob is committed from at most 50,000 blocks of at most 4,000 MiB each. A stream's
//! final size is unknown while it is written, and each block is held in memory until it is
//! stored, so blocks start small and double every `BLOCKS_PER_SIZE` blocks: a 1 GiB export
//! uses 4.5 MiB blocks, and 50,000 blocks still hold `capacity(MAX_BLOCKS)`, about 174 TiB.
//! (Azure's 190.7 TiB ceiling is exactly 50,000 blocks of 4,000 MiB: only a schedule that
//! starts at 4,000 MiB reaches it, at the price of 4,000 MiB of memory for any upload.)

const MIB: u64 = 1 << 20;

/// Most blocks one blob may be committed from.
pub const MAX_BLOCKS: u64 = 50_000;
/// Largest block the service accepts (API version 2019-12-12 and later).
pub const MAX_BLOCK_SIZE: u64 = 4_000 * MIB;
/// Largest block blob the service stores.
pub const MAX_BLOB_SIZE: u64 = MAX_BLOCKS * MAX_BLOCK_SIZE;
/// Size of the first blocks: above 4 MiB, which is where Azure's high-throughput block
/// blob path starts, and no larger, as an upload holds up to six blocks in memory (four in
/// flight, one waiting, one being cut): 27 MiB, within a backend's 32 MiB budget.
pub const FIRST_BLOCK_SIZE: u64 = 4 * MIB + MIB / 2;
/// Blocks of one size before the size doubles.
pub const BLOCKS_PER_SIZE: u64 = 500;

/// Size of block number `index` (from 0); every block but the last of a blob has this size.
pub fn block_size(index: u64) -> u64 {
    block_size_from(FIRST_BLOCK_SIZE, index)
}

/// Size of block number `index` of a schedule whose first blocks have `first` bytes (a
/// writer among many open at once starts small; doubling still reaches the largest block
/// long before 50,000).
pub fn block_size_from(first: u64, index: u64) -> u64 {
    let doublings = (index / BLOCKS_PER_SIZE).min(40) as u32;
    first.max(1).saturating_mul(1 << doublings).min(MAX_BLOCK_SIZE)
}

/// Bytes that the first `blocks` blocks hold together.
pub fn capacity(blocks: u64) -> u64 {
    let mut total = 0;
    let mut start = 0;
    while start < blocks {
        let end = (start / BLOCKS_PER_SIZE + 1) * BLOCKS_PER_SIZE;
        total += (end.min(blocks) - start) * block_size(start);
        start = end;
    }
    total
}

/// The id of block `index` of one upload. Ids of a blob must all have the same length;
/// `upload` keeps two writers of the same blob name from mixing their blocks.
pub fn block_id(upload: u64, index: u64) -> String {
    use base64::Engine;
    // 16 + 8 = 24 bytes: 32 base64 characters without padding.
    base64::engine::general_purpose::STANDARD.encode(format!("{upload:016x}{index:08}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifty_thousand_blocks_hold_173_tib() {
        let tib = 1u64 << 40;
        let total = capacity(MAX_BLOCKS);
        assert!(total >= 173 * tib, "{} TiB", total / tib);
        assert!(total <= MAX_BLOB_SIZE);
        // The schedule wastes only its first 5,000 blocks: everything after is at the limit.
        assert_eq!(MAX_BLOB_SIZE - total, (0..5_000).map(|i| MAX_BLOCK_SIZE - block_size(i)).sum::<u64>());
    }

    #[test]
    fn small_first_blocks_still_reach_the_limit() {
        assert_eq!(block_size_from(MIB, 0), MIB);
        assert_eq!(block_size_from(MIB, 500), 2 * MIB);
        assert_eq!(block_size_from(MIB, 6_000), MAX_BLOCK_SIZE);
        assert_eq!(block_size_from(0, 0), 1);
        let total: u64 = (0..MAX_BLOCKS).map(|i| block_size_from(MIB, i)).sum();
        assert!(total >= 160 * (1u64 << 40), "{total}");
    }

    #[test]
    fn sizes_grow_in_steps_up_to_the_service_limit() {
        assert_eq!(block_size(0), 4 * MIB + MIB / 2);
        assert_eq!(block_size(499), 4 * MIB + MIB / 2);
        assert_eq!(block_size(500), 9 * MIB);
        assert_eq!(block_size(4_500), 2_304 * MIB);
        assert_eq!(block_size(5_000), MAX_BLOCK_SIZE);
        assert_eq!(block_size(MAX_BLOCKS - 1), MAX_BLOCK_SIZE);
        let mut previous = 0;
        for i in 0..MAX_BLOCKS {
            let size = block_size(i);
            assert!(size >= previous && size <= MAX_BLOCK_SIZE, "block {i}: {size}");
            previous = size;
        }
        assert_eq!(capacity(MAX_BLOCKS), (0..MAX_BLOCKS).map(block_size).sum::<u64>());
    }

    #[test]
    fn common_exports_use_small_blocks() {
        // A 1 GiB export: 228 blocks of 4.5 MiB.
        assert!(capacity(228) >= 1 << 30 && block_size(227) == FIRST_BLOCK_SIZE);
        // 100 GiB fit in blocks of at most 144 MiB.
        let blocks_for_100_gib = (0..).find(|&n| capacity(n) >= 100 << 30).unwrap();
        assert!(block_size(blocks_for_100_gib) <= 144 * MIB);
    }

    #[test]
    fn ids_have_one_length() {
        let first = block_id(u64::MAX, 0);
        assert_eq!(first.len(), 32);
        assert_eq!(block_id(7, MAX_BLOCKS - 1).len(), first.len());
        assert_ne!(block_id(1, 5), block_id(2, 5));
        assert!(!first.contains('='));
    }
}
