//! Identifiers of one (socket, server) pair: 256 of them (RFC 2865 §3: the Identifier matches a
//! response to its request per source address and port).
//!
//! Allocation rotates through the space so that an identifier just freed is not reused at once
//! (a late response to its previous request then fails the authenticator check rather than
//! being matched to a new request whose identifier it shares by chance).

/// Which identifiers are in use, and by which request (slab index).
#[derive(Debug)]
pub(crate) struct IdSpace {
    used: [u64; 4],
    owner: [u32; 256],
    next: u8,
    count: u16,
}

impl IdSpace {
    pub(crate) fn new() -> Self {
        Self {
            used: [0; 4],
            owner: [0; 256],
            next: 0,
            count: 0,
        }
    }

    /// A free identifier, now owned by request `index`; `None` if all 256 are in use.
    pub(crate) fn alloc(&mut self, index: u32) -> Option<u8> {
        if self.count == 256 {
            return None;
        }
        let mut id = self.next;
        while self.is_used(id) {
            id = id.wrapping_add(1);
        }
        self.used[usize::from(id >> 6)] |= 1 << (id & 63);
        self.owner[usize::from(id)] = index;
        self.count += 1;
        self.next = id.wrapping_add(1);
        Some(id)
    }

    /// Frees `id`.
    pub(crate) fn free(&mut self, id: u8) {
        if self.is_used(id) {
            self.used[usize::from(id >> 6)] &= !(1 << (id & 63));
            self.count -= 1;
        }
    }

    /// The request owning `id`, if it is in use.
    pub(crate) fn owner(&self, id: u8) -> Option<u32> {
        self.is_used(id).then(|| self.owner[usize::from(id)])
    }

    fn is_used(&self, id: u8) -> bool {
        self.used[usize::from(id >> 6)] & (1 << (id & 63)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_all_256_then_refuses_and_rotates() {
        let mut s = IdSpace::new();
        let ids: Vec<u8> = (0..256).map(|i| s.alloc(i).unwrap_or(0)).collect();
        assert_eq!(ids, (0..=255u8).collect::<Vec<_>>());
        assert_eq!(s.alloc(999), None);
        s.free(7);
        s.free(7);
        assert_eq!(s.owner(7), None);
        assert_eq!(s.owner(8), Some(8));
        assert_eq!(s.alloc(1000), Some(7));
        s.free(3);
        s.free(200);
        // The cursor moved past 7: 200 comes before 3.
        assert_eq!(s.alloc(1), Some(200));
        assert_eq!(s.alloc(2), Some(3));
    }
}
