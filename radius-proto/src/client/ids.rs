//! Identifiers of one (socket, server) pair: 256 of them (RFC 2865 §3: the Identifier matches a
//! response to its request per source address and port).
//!
//! Allocation rotates through the space so that an identifier just freed is not reused at once
//! (a late response to its previous request then fails the authenticator check rather than
//! being matched to a new request whose identifier it shares by chance).
//!
//! A request's identifier that is freed with its Request Authenticator ([`IdSpace::retire`])
//! keeps that authenticator until the identifier is handed out again: a late answer to the
//! request is then told apart (a duplicate) from one that matches nothing.

/// Which identifiers are in use, and by which request (slab index).
#[derive(Debug)]
pub(crate) struct IdSpace {
    used: [u64; 4],
    owner: [u32; 256],
    next: u8,
    count: u16,
    /// The Request Authenticators of retired identifiers, by identifier (allocated at the
    /// first retirement).
    retired: Option<Box<[Option<[u8; 16]>; 256]>>,
}

impl IdSpace {
    pub(crate) fn new() -> Self {
        Self {
            used: [0; 4],
            owner: [0; 256],
            next: 0,
            count: 0,
            retired: None,
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
        if let Some(r) = self.retired.as_mut() {
            r[usize::from(id)] = None;
        }
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

    /// Frees `id` of a request that completed or gave it up, remembering the Request
    /// Authenticator it was sent with until `id` is allocated again.
    pub(crate) fn retire(&mut self, id: u8, authenticator: [u8; 16]) {
        if self.is_used(id) {
            self.free(id);
            self.retired.get_or_insert_with(|| Box::new([None; 256]))[usize::from(id)] =
                Some(authenticator);
        }
    }

    /// The Request Authenticator of retired `id`, if it is free and was retired.
    pub(crate) fn retired(&self, id: u8) -> Option<&[u8; 16]> {
        if self.is_used(id) {
            return None;
        }
        self.retired.as_ref()?[usize::from(id)].as_ref()
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

    #[test]
    fn a_retired_identifier_keeps_its_authenticator_until_reused() {
        let mut s = IdSpace::new();
        let id = s.alloc(5).unwrap_or(0);
        assert_eq!(s.retired(id), None);
        s.retire(id, [7; 16]);
        assert_eq!(s.owner(id), None);
        assert_eq!(s.retired(id), Some(&[7; 16]));
        for i in 0..256 {
            s.alloc(i);
        }
        assert_eq!(s.retired(id), None);
    }
}
