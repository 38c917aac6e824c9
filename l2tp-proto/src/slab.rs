//! A slab: `O(1)` insert, remove and lookup by index, with a generation per slot so that stale
//! references (timer entries, decision ids, request handles) to a reused slot are recognised.
//! Shared with the other protocol crates of the suite (radius-proto's requests in flight).

/// Values stored by `u32` index; freed slots are reused.
#[derive(Debug)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Slab<T> {
    /// An empty slab.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// Stores `value`; returns its index and the slot's generation.
    pub fn insert(&mut self, value: T) -> (u32, u32) {
        self.len += 1;
        if let Some(index) = self.free.pop()
            && let Some(slot) = self.slots.get_mut(index as usize)
        {
            slot.value = Some(value);
            return (index, slot.generation);
        }
        let index = self.slots.len() as u32;
        self.slots.push(Slot {
            generation: 0,
            value: Some(value),
        });
        (index, 0)
    }

    /// Removes the value at `index`; the slot's generation changes.
    pub fn remove(&mut self, index: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    /// The value at `index`, whatever its generation.
    #[must_use]
    pub fn get(&self, index: u32) -> Option<&T> {
        self.slots.get(index as usize)?.value.as_ref()
    }

    /// The value at `index`, whatever its generation.
    pub fn get_mut(&mut self, index: u32) -> Option<&mut T> {
        self.slots.get_mut(index as usize)?.value.as_mut()
    }

    /// The value at `index` if the slot still has generation `generation`.
    pub fn get_checked(&self, index: u32, generation: u32) -> Option<&T> {
        let slot = self.slots.get(index as usize)?;
        (slot.generation == generation)
            .then_some(slot.value.as_ref())
            .flatten()
    }

    /// The value at `index` if the slot still has generation `generation`.
    pub fn get_mut_checked(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        let slot = self.slots.get_mut(index as usize)?;
        (slot.generation == generation)
            .then_some(slot.value.as_mut())
            .flatten()
    }

    /// Removes the value at `index` if its slot has `generation`; the generation changes.
    pub fn remove_checked(&mut self, index: u32, generation: u32) -> Option<T> {
        if self.generation_of(index)? != generation {
            return None;
        }
        self.remove(index)
    }

    /// The generation of slot `index` (0 for a slot never made).
    #[must_use]
    pub fn generation(&self, index: u32) -> u32 {
        self.slots.get(index as usize).map_or(0, |s| s.generation)
    }

    /// The generation of slot `index` if it holds a value.
    #[must_use]
    pub fn generation_of(&self, index: u32) -> Option<u32> {
        let slot = self.slots.get(index as usize)?;
        slot.value.as_ref().map(|_| slot.generation)
    }

    /// Bytes allocated for the slots and the free list.
    pub fn allocated_bytes(&self) -> usize {
        self.slots.capacity() * size_of::<Slot<T>>() + self.free.capacity() * size_of::<u32>()
    }

    /// How many values it holds.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether it holds no value.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Every value with its index.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.value.as_ref().map(|v| (i as u32, v)))
    }

    /// Every value with its index and generation.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (u32, u32, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, slot)| {
            let generation = slot.generation;
            slot.value.as_mut().map(|v| (i as u32, generation, v))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuse_changes_generation() {
        let mut slab = Slab::new();
        let (a, ga) = slab.insert("a");
        assert_eq!(slab.get(a), Some(&"a"));
        assert_eq!(slab.remove(a), Some("a"));
        let (b, gb) = slab.insert("b");
        assert_eq!(a, b);
        assert_ne!(ga, gb);
        assert_eq!(slab.get_checked(a, ga), None);
        assert_eq!(slab.get_checked(b, gb), Some(&"b"));
        assert_eq!(slab.len(), 1);
        assert_eq!(slab.iter().count(), 1);
    }

    #[test]
    fn checked_access_refuses_stale_generations() {
        let mut s = Slab::new();
        let (i, g) = s.insert("a");
        assert_eq!(s.get_mut_checked(i, g).map(|v| *v), Some("a"));
        assert_eq!(s.remove_checked(i, g), Some("a"));
        let (j, h) = s.insert("b");
        assert_eq!(i, j);
        assert_eq!(s.generation_of(j), Some(h));
        assert_eq!(s.get_mut_checked(i, g), None);
        assert_eq!(s.remove_checked(i, g), None);
        assert_eq!(
            s.iter_mut().map(|(i, g, v)| (i, g, *v)).collect::<Vec<_>>(),
            [(j, h, "b")]
        );
        assert_eq!(s.remove_checked(j, h), Some("b"));
        assert!(s.is_empty());
        assert_eq!(s.generation_of(j), None);
    }
}
